// The hand-off from a gradient-based warmup to sampling (HandoffPoint): the guard itself, and
// chains of the centred eight schools and the funnel that used to sample one point 1000 times.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "bench_models.hpp"
#include "exmc/core/state_io.hpp"
#include "exmc/nuts/chain_sampler.hpp"
#include "exmc/nuts/handoff_point.hpp"

namespace exmc::nuts {
namespace {

PhasePoint at(double q0, double logp) {
  PhasePoint z(2);
  z.q = {q0, -q0};
  z.g = {1, 2};
  z.logp = logp;
  return z;
}

TEST(HandoffPoint, KeepsTheLastDrawReachedWithoutDivergenceAtTheAveragedStepOrMore) {
  HandoffPoint h(2);
  EXPECT_FALSE(h.has());
  h.observe(at(1, -1), -2, 0.5, 0.4, false);  // moved, step 0.5 >= average 0.4: kept
  ASSERT_TRUE(h.has());
  EXPECT_EQ(h.point().q[0], 1);
  h.observe(at(2, -1.5), -1, 0.3, 0.4, false);    // a smaller step than the average
  h.observe(at(3, -1.2), -1.5, 0.6, 0.4, true);   // divergent
  h.observe(at(3, -1.2), -1.2, 0.6, 0.4, false);  // did not move: the same log density
  h.observe(at(4, -1.1), -1.2, 0.6, std::numeric_limits<double>::quiet_NaN(), false);
  EXPECT_EQ(h.point().q[0], 1);
  h.observe(at(5, -0.7), -1.2, 0.4, 0.4, false);  // a step equal to the average: kept
  EXPECT_EQ(h.point().q[0], 5);

  PhasePoint z = at(9, -9);
  EXPECT_TRUE(h.take(z));
  EXPECT_EQ(z.q, (std::vector<double>{5, -5}));
  EXPECT_EQ(z.logp, -0.7);
  EXPECT_FALSE(h.has());  // taken once
  PhasePoint untouched = at(9, -9);
  EXPECT_FALSE(h.take(untouched));
  EXPECT_EQ(untouched.q[0], 9);

  h.observe(at(6, -0.1), -0.7, 1.0, 0.4, false);
  h.reset();  // dual averaging restarted
  EXPECT_FALSE(h.has());
}

TEST(HandoffPoint, StateRoundTripsWithAndWithoutAKeptDraw) {
  for (bool keep : {false, true}) {
    HandoffPoint h(2);
    if (keep) h.observe(at(3, -0.25), -1, 0.5, 0.5, false);
    StateWriter w;
    h.save_state(w);
    const std::string bytes = w.take();
    HandoffPoint g(2);
    g.observe(at(7, -3), -1, 0.5, 0.5, false);  // whatever it held is replaced
    StateReader r(bytes);
    g.load_state(r);
    EXPECT_TRUE(r.done());
    ASSERT_EQ(g.has(), keep);
    if (keep) {
      EXPECT_EQ(g.point().q, h.point().q);
      EXPECT_EQ(g.point().g, h.point().g);
      EXPECT_EQ(g.point().logp, -0.25);
    }
  }
}

struct ChainRun {
  unsigned divergences = 0;
  unsigned first_repeats = 0;  // sampling draws equal to the first one, from the first on
  unsigned longest_repeats = 0;
};

// One chain of 1000 warmup + 1000 draws (the benchmark's protocol), chain id 0.
ChainRun run_chain(const LogDensity& ld, MetricAdaptation adapt, uint64_t seed) {
  SamplerConfig cfg;
  cfg.num_warmup = 1000;
  cfg.num_samples = 1000;
  cfg.metric_adaptation = adapt;
  ChainSampler s(ld, cfg, seed, 0);
  s.initialize();
  for (unsigned i = 0; i < cfg.num_warmup; ++i) s.iterate();
  ChainRun out;
  std::vector<double> prev;
  unsigned run = 0;
  bool first_run = true;
  for (unsigned i = 0; i < cfg.num_samples; ++i) {
    out.divergences += s.iterate().divergent;
    const bool repeat = i > 0 && s.state().q == prev;
    run = repeat ? run + 1 : 0;
    if (i > 0 && !repeat) first_run = false;
    if (first_run) out.first_repeats = run;
    out.longest_repeats = std::max(out.longest_repeats, run);
    prev = s.state().q;
  }
  return out;
}

// Stan's windowed adaptation over seeds 1-40 on the same density: its worst chain's divergences
// and longest stay at one point. Measured (helper 48): eight schools centred 259 divergences,
// 287 draws; funnel 56 divergences, 206 draws.
ChainRun windowed_worst(const LogDensity& ld) {
  ChainRun worst;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const ChainRun r = run_chain(ld, MetricAdaptation::Windowed, seed);
    worst.divergences = std::max(worst.divergences, r.divergences);
    worst.longest_repeats = std::max(worst.longest_repeats, r.longest_repeats);
  }
  return worst;
}

// Before the hand-off guard these chains ended warmup deep in the neck with the averaged step
// size several times the last iterates, and never moved again: eight schools seed 34 sampled
// one point 1000 times (165 divergences), the funnel's seeds 42, 77 and 93 too (487, 73 and 1000
// divergences). Now each starts sampling where the final step size moves: it does not start
// stuck for longer than the windowed adaptation's worst chain stays stuck anywhere, and the
// funnel's chains do not diverge more than its worst chain.
TEST(GradientAdaptation, NoChainStartsSamplingStuckInTheNeck) {
  const exmc::testing::EightCentered eight;
  const ChainRun eight_bound = windowed_worst(eight);
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const ChainRun r = run_chain(eight, MetricAdaptation::Gradient, seed);
    EXPECT_LE(r.first_repeats, eight_bound.longest_repeats) << "eight schools seed " << seed;
    if (seed != 34) continue;
    EXPECT_LE(r.longest_repeats, eight_bound.longest_repeats);
    EXPECT_LE(r.divergences, eight_bound.divergences);
  }

  const exmc::testing::Funnel funnel;
  const ChainRun funnel_bound = windowed_worst(funnel);
  for (uint64_t seed : {42, 77, 93}) {
    const ChainRun r = run_chain(funnel, MetricAdaptation::Gradient, seed);
    EXPECT_LE(r.first_repeats, funnel_bound.longest_repeats) << "funnel seed " << seed;
    EXPECT_LE(r.longest_repeats, funnel_bound.longest_repeats) << "funnel seed " << seed;
    EXPECT_LE(r.divergences, funnel_bound.divergences) << "funnel seed " << seed;
  }
}

}  // namespace
}  // namespace exmc::nuts
