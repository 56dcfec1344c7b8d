// Eight schools through the C++ builder API: a model declared in code, sampled with NUTS (four
// chains on threads), summarised as `exmc summary` does. docs/cpp.md walks through it.
//   build/examples/cpp/eight_schools_builder
// It checks itself: the posterior means of mu and tau against posteriordb's reference draws
// for this posterior (eight_schools-eight_schools_noncentered: 10,000 draws of Stan's NUTS),
// within four combined Monte Carlo standard errors; exit status 1 when they disagree.
#include <cmath>
#include <cstdio>

#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/summary.hpp"
#include "exmc/model/model.hpp"
#include "exmc/runtime/draws.hpp"
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
  auto density = m.compile<double>();  // an exmc::LogDensity: what every method takes

  runtime::RunConfig cfg;
  cfg.num_chains = 4;
  cfg.seed = 2024;
  const auto result = runtime::run_chains(*density, cfg);
  result.throw_if_failed();

  // Chains x draws x variables (the constrained values, named as CmdStan names them).
  const analysis::Draws draws = runtime::to_draws(result);
  const auto summary = analysis::summarise(draws);
  std::fputs(analysis::format_summary(summary, analysis::Format::Table).c_str(), stdout);

  // posteriordb's reference: mean, and the reference's own standard error (sd / sqrt(10,000)).
  struct Reference { const char* name; double mean, se; };
  const Reference reference[] = {{"mu", 4.4105, 3.3093 / 100}, {"tau", 3.6021, 3.1985 / 100}};
  bool agree = true;
  for (const auto& r : reference) {
    const auto& row = summary.rows[draws.index_of(r.name)];
    const double se = std::sqrt(row.mcse_mean * row.mcse_mean + r.se * r.se);
    const double z = (row.mean - r.mean) / se;
    std::printf("%s: mean %.3f, reference %.3f (%+.1f standard errors)\n", r.name, row.mean, r.mean, z);
    agree = agree && std::abs(z) < 4;
  }
  return agree ? 0 : 1;
}
