// Your own log density and gradient, written by hand, sampled with exmc's NUTS: the one
// interface every method meets at (exmc::LogDensity) wrapped around a function.
// docs/cpp.md walks through it.
//   build/examples/cpp/own_density
// The target is a correlated normal with known moments, so it checks itself: each mean and sd
// against the exact value within four Monte Carlo standard errors.
#include <cmath>
#include <cstdio>

#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/summary.hpp"
#include "exmc/core/log_density.hpp"
#include "exmc/runtime/draws.hpp"
#include "exmc/runtime/run_chains.hpp"

int main() {
  using namespace exmc;
  // (a, b) ~ normal with means (1, -2), sds (1, 3), correlation 0.8.
  constexpr double m[2] = {1, -2}, s[2] = {1, 3}, rho = 0.8;
  // logp_grad must be safe to call from several threads at once (chains run in parallel) and,
  // to keep the sampler fast, should not allocate: this one is a pure function of x.
  auto density = make_log_density(
      2,
      [=](const double* x, double* g) {
        const double za = (x[0] - m[0]) / s[0], zb = (x[1] - m[1]) / s[1];
        const double k = 1 / (1 - rho * rho);
        g[0] = -k * (za - rho * zb) / s[0];
        g[1] = -k * (zb - rho * za) / s[1];
        return -0.5 * k * (za * za - 2 * rho * za * zb + zb * zb);
      },
      {{"a", {}}, {"b", {}}});  // names for the output; the default is one vector "x"

  runtime::RunConfig cfg;
  cfg.num_chains = 4;
  cfg.seed = 5;
  const auto result = runtime::run_chains(*density, cfg);
  result.throw_if_failed();

  const analysis::Draws draws = runtime::to_draws(result);
  const auto summary = analysis::summarise(draws);
  std::fputs(analysis::format_summary(summary, analysis::Format::Table).c_str(), stdout);

  bool agree = true;
  for (size_t v = 0; v < 2; ++v) {
    const auto& row = summary.rows[v];
    const double z_mean = (row.mean - m[v]) / row.mcse_mean, z_sd = (row.sd - s[v]) / row.mcse_sd;
    std::printf("%s: mean %.3f (exact %g, %+.1f se), sd %.3f (exact %g, %+.1f se)\n", row.variable.c_str(),
                row.mean, m[v], z_mean, row.sd, s[v], z_sd);
    agree = agree && std::abs(z_mean) < 4 && std::abs(z_sd) < 4;
  }
  return agree ? 0 : 1;
}
