// The eight-schools model through the C++ builder API, sampled with NUTS, summarised.
//   build/examples/eight_schools_builder
#include <cstdio>

#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/summary.hpp"
#include "exmc/model/model.hpp"
#include "exmc/runtime/run_chains.hpp"

int main() {
  using namespace exmc;
  model::Model m;
  const std::vector<double> y = {28, 8, -3, 7, -1, 1, 18, 12};
  const std::vector<double> sigma = {15, 10, 16, 11, 9, 11, 10, 18};
  auto mu = m.rv("mu", "normal", {0.0, 5.0});
  auto tau = m.rv("tau", "half_cauchy", {5.0});            // default transform: log
  auto theta = m.rv("theta", "normal", {mu, tau}, {8});     // non-centred automatically
  m.observe("y", "normal", {theta, m.data("sigma", sigma, {8})}, y, {8});
  auto density = m.compile<double>();

  runtime::RunConfig cfg;
  cfg.num_chains = 4;
  cfg.seed = 2024;
  const auto result = runtime::run_chains(*density, cfg);
  result.throw_if_failed();

  // Chains x draws x variables -> posterior's summary table.
  analysis::Draws draws(cfg.num_chains, cfg.sampler.num_samples, result.names);
  for (const auto& c : result.chains)
    for (size_t d = 0; d < c.num_draws(); ++d)
      for (size_t v = 0; v < c.num_values; ++v) draws.at(v, c.chain, d) = c.draw(d)[v];
  std::fputs(analysis::format_summary(analysis::summarise(draws), analysis::Format::Table).c_str(), stdout);
  return 0;
}
