// Fault injection (NaN, Inf, throws) and warm starts from a saved metric with zero adaptation.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "../nuts/test_util.hpp"
#include "exmc/runtime/run_chains.hpp"

namespace exmc::runtime {
namespace {

// Standard normal in 3-d that, at a deterministic pseudo-random ~3% of points, returns NaN,
// returns +Inf, gives a NaN gradient, or throws.
class FaultyNormal final : public LogDensity {
 public:
  mutable std::atomic<uint64_t> injected{0};
  size_t dim() const override { return 3; }
  double logp_grad(const double* x, double* g) const override {
    uint64_t h;
    std::memcpy(&h, &x[0], 8);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    double lp = 0;
    for (int i = 0; i < 3; ++i) lp -= 0.5 * x[i] * x[i], g[i] = -x[i];
    switch (h % 128) {
      case 0:
        ++injected;
        return std::nan("");
      case 1:
        ++injected;
        return std::numeric_limits<double>::infinity();
      case 2:
        ++injected;
        g[1] = std::nan("");
        return lp;
      case 3:
        ++injected;
        throw std::runtime_error("injected fault");
      default:
        return lp;
    }
  }
};

TEST(Faults, RunFinishesCountsRecoveriesAndOutputHasNoNaN) {
  FaultyNormal ld;
  RunConfig cfg;
  cfg.sampler.num_warmup = 500;
  cfg.sampler.num_samples = 2000;
  cfg.num_chains = 4;
  cfg.num_threads = 2;
  cfg.seed = 31;
  const RunResult r = run_chains(ld, cfg);
  r.throw_if_failed();
  uint64_t recoveries = 0, divergences = 0;
  exmc::testing::ChainsOf x0;
  for (const auto& c : r.chains) {
    EXPECT_EQ(c.num_draws(), 2000u);
    recoveries += c.recoveries;
    divergences += c.divergences + c.warmup_divergences;
    x0.chains.emplace_back();
    for (size_t i = 0; i < c.num_draws(); ++i) {
      for (size_t j = 0; j < 3; ++j) ASSERT_TRUE(std::isfinite(c.draw(i)[j]));
      const auto a = c.stats[i].as_array();
      for (double v : a) ASSERT_TRUE(std::isfinite(v));
      x0.chains.back().push_back(c.draw(i)[0]);
    }
  }
  EXPECT_EQ(recoveries, ld.injected.load());
  EXPECT_GT(recoveries, 100u);
  // Every fault inside a trajectory ends it as a divergence.
  EXPECT_GT(divergences, 100u);
  // The faults are a fixed function of position, so the chain stays reversible and the
  // standard normal is still recovered.
  exmc::testing::expect_matches(x0, exmc::testing::normal_truth(0, 1), "x[0] under faults");
}

TEST(WarmStart, SavedMetricReproducesDrawsWithZeroAdaptation) {
  auto ld = exmc::testing::scaled_normal(3, {0.5, 2, 4});
  RunConfig adapt;
  adapt.sampler.num_warmup = 400;
  adapt.sampler.num_samples = 10;
  adapt.sampler.metric = nuts::MetricKind::Dense;
  adapt.num_chains = 1;
  adapt.seed = 8;
  const RunResult warm = run_chains(*ld, adapt);
  warm.throw_if_failed();
  const nuts::AdaptationState state = warm.chains[0].adaptation;
  EXPECT_EQ(state.metric_kind, nuts::MetricKind::Dense);

  const std::string path = ::testing::TempDir() + "exmc_adapt_state.json";
  state.save(path);
  const nuts::AdaptationState loaded = nuts::AdaptationState::load(path);
  std::remove(path.c_str());

  auto run_from = [&](const nuts::AdaptationState& s) {
    RunConfig cfg;
    cfg.sampler.num_warmup = 50;  // burn-in only
    cfg.sampler.num_samples = 500;
    cfg.sampler.adapt = false;
    cfg.sampler.warm_start = s;
    cfg.num_chains = 2;
    cfg.seed = 99;
    cfg.save_warmup = true;
    return run_chains(*ld, cfg);
  };
  const RunResult a = run_from(state), b = run_from(loaded);
  for (unsigned c = 0; c < 2; ++c) {
    EXPECT_EQ(a.chains[c].draws, b.chains[c].draws);
    EXPECT_EQ(a.chains[c].warmup_draws, b.chains[c].warmup_draws);
    // Zero adaptation: the step size and metric never move, warmup included.
    for (const auto* stats : {&b.chains[c].warmup_stats, &b.chains[c].stats})
      for (const auto& s : *stats) ASSERT_EQ(s.step_size, state.step_size);
    EXPECT_EQ(b.chains[c].adaptation.inv_metric, state.inv_metric);
    EXPECT_EQ(b.chains[c].adaptation.step_size, state.step_size);
  }
}

}  // namespace
}  // namespace exmc::runtime
