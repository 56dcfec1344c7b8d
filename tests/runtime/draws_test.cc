// runtime::to_draws: a run's draws in the layout every diagnostic takes.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "exmc/core/log_density.hpp"
#include "exmc/runtime/draws.hpp"

namespace exmc::runtime {
namespace {

TEST(ToDraws, HoldsEachChainsDrawsUnderTheirNames) {
  const auto density = make_log_density(
      2,
      [](const double* x, double* g) {
        g[0] = -x[0];
        g[1] = -x[1];
        return -0.5 * (x[0] * x[0] + x[1] * x[1]);
      },
      {{"a", {}}, {"b", {}}});
  RunConfig cfg;
  cfg.num_chains = 3;
  cfg.sampler.num_warmup = 30;
  cfg.sampler.num_samples = 20;
  cfg.save_warmup = true;
  cfg.seed = 9;
  const RunResult r = run_chains(*density, cfg);
  r.throw_if_failed();
  const analysis::Draws d = to_draws(r);
  ASSERT_EQ(d.num_chains, 3u);
  ASSERT_EQ(d.num_draws, 20u);
  EXPECT_EQ(d.names, (std::vector<std::string>{"a", "b"}));
  const analysis::Draws w = to_draws(r, true);
  ASSERT_EQ(w.num_draws, 30u);
  for (const auto& c : r.chains)
    for (size_t v = 0; v < 2; ++v) {
      for (size_t i = 0; i < 20; ++i) EXPECT_EQ(d.at(v, c.chain, i), c.draw(i)[v]);
      for (size_t i = 0; i < 30; ++i) EXPECT_EQ(w.at(v, c.chain, i), c.warmup_draws[i * 2 + v]);
    }
}

// Draws needs one count for every chain: a failed chain (no draws) is named, with its error.
TEST(ToDraws, ChainsOfDifferentLengthsAreRefusedNamingTheChain) {
  RunResult r;
  r.names = {"x"};
  r.chains.resize(2);
  for (unsigned c = 0; c < 2; ++c) {
    r.chains[c].chain = c;
    r.chains[c].num_values = 1;
  }
  r.chains[0].draws = {1, 2, 3};
  r.chains[0].stats.resize(3);
  r.chains[1].error = "no starting point";
  try {
    to_draws(r);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "to_draws: chain 2 has 0 draws, chain 1 has 3 (chain 2: no starting point)");
  }
}

}  // namespace
}  // namespace exmc::runtime
