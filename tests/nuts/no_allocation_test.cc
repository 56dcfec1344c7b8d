// After warmup, NUTS transitions allocate nothing (counted by replacing global operator new).
#include <gtest/gtest.h>

#include "../support/alloc_counter.hpp"
#include "test_util.hpp"

namespace exmc::testing {
namespace {

using test_support::allocations;

TEST(NoAllocation, SamplingTransitionsAllocateNothing) {
  for (auto kind : {nuts::MetricKind::Diag, nuts::MetricKind::Dense, nuts::MetricKind::LowRank}) {
    // Correlation 0.9 between the first two coordinates gives the low-rank part work to do.
    auto ld = make_log_density(5, [](const double* x, double* g) {
      const double a = 1 / (1 - 0.81);
      g[0] = -a * (x[0] - 0.9 * x[1]);
      g[1] = -a * (x[1] - 0.9 * x[0]);
      double lp = 0.5 * (x[0] * g[0] + x[1] * g[1]);
      for (int i = 2; i < 5; ++i) g[i] = -x[i] / (i * i), lp += 0.5 * x[i] * g[i];
      return lp;
    });
    nuts::SamplerConfig cfg;
    cfg.num_warmup = 300;
    cfg.num_samples = 2000;
    if (kind == nuts::MetricKind::LowRank) {
      cfg.metric_adaptation = nuts::MetricAdaptation::LowRank;
      cfg.low_rank.eigval_cutoff = 1.01;  // keep (almost) every direction: a real low-rank part
    } else {
      cfg.metric = kind;
    }
    nuts::ChainSampler s(*ld, cfg, 1, 0);
    s.initialize();
    for (unsigned i = 0; i < cfg.num_warmup; ++i) s.iterate();
    long leapfrogs = 0;
    const long before = allocations();
    for (unsigned i = 0; i < cfg.num_samples; ++i) leapfrogs += s.iterate().n_leapfrog;
    const long allocated = allocations() - before;
    EXPECT_EQ(s.metric().kind(), kind);
    if (kind == nuts::MetricKind::LowRank) EXPECT_GE(s.metric().rank(), 1u);
    EXPECT_EQ(allocated, 0) << int(kind);
    EXPECT_GT(leapfrogs, 2000);
  }
}

// A depth's subtree buffers (8 vectors of d) are allocated when a trajectory first reaches that
// depth, once: the constructor allocated them for every depth up to max_depth (88 vectors with
// max_depth 10, ~70 MB per chain at 10^5 dimensions, most for depths never reached).
TEST(NoAllocation, TheTreeAllocatesADepthsBuffersWhenATrajectoryFirstReachesIt) {
  const size_t d = 50;
  auto ld = scaled_normal(d);
  const nuts::Metric metric = nuts::Metric::unit(nuts::MetricKind::Diag, d);
  nuts::Leapfrog integ(*ld, metric);
  Rng rng(5, 0);
  auto constructor_allocations = [&](int max_depth) {
    const long before = allocations();
    nuts::NutsTree tree(integ, rng, max_depth);
    return allocations() - before;
  };
  // Nothing is paid up front for the depth limit.
  EXPECT_EQ(constructor_allocations(10), constructor_allocations(1));
  EXPECT_EQ(constructor_allocations(30), constructor_allocations(1));

  nuts::NutsTree tree(integ, rng, 10);
  EXPECT_EQ(tree.levels_ready(), 1);  // depths 0 and 1 need no buffers
  nuts::PhasePoint z(d);
  for (size_t i = 0; i < d; ++i) z.q[i] = 0.1 * double(i % 7) - 0.3;
  integ.evaluate(z);
  long grown = 0;
  // Ever smaller steps: ever deeper trajectories, up to max_depth.
  for (double eps : {1.2, 0.6, 0.2, 0.06, 0.02, 0.006, 0.002}) {
    for (int t = 0; t < 20; ++t) {
      const int ready = tree.levels_ready();
      const long before = allocations();
      const nuts::SampleStats s = tree.transition(z, eps);
      const long allocated = allocations() - before;
      // The last depth a transition built is tree_depth (a subtree that failed) or tree_depth - 1
      // (a U-turn across the merged trajectory, or max_depth); buffers go up to it, no further.
      const int built = std::min(s.tree_depth, 9);
      EXPECT_TRUE(tree.levels_ready() == std::max(ready, built) ||
                  tree.levels_ready() == std::max(ready, s.tree_depth - 1))
          << "eps " << eps << ": depth " << s.tree_depth << ", buffers up to " << tree.levels_ready();
      EXPECT_EQ(allocated, 8 * (tree.levels_ready() - ready)) << "eps " << eps << " transition " << t;
      grown += allocated;
    }
  }
  // The smallest steps reached max_depth: every depth built (2 .. 9) was allocated exactly once.
  EXPECT_EQ(tree.levels_ready(), 9);
  EXPECT_EQ(grown, 8 * 8);
  // reserve_levels allocates ahead, never past the deepest depth a trajectory builds.
  nuts::NutsTree reserved(integ, rng, 10);
  const long before = allocations();
  reserved.reserve_levels(4);
  EXPECT_EQ(allocations() - before, 8 * 3);
  reserved.reserve_levels(50);
  EXPECT_EQ(reserved.levels_ready(), 9);
  EXPECT_EQ(allocations() - before, 8 * 8);
}

TEST(NoAllocation, CounterWorks) {
  const long before = allocations();
  auto* v = new std::vector<double>(10);
  const long allocated = allocations() - before;
  delete v;
  EXPECT_EQ(allocated, 2);
  // The nothrow form goes through the same counter (and allocator) as every other form.
  void* p = operator new(16, std::nothrow);
  EXPECT_EQ(allocations() - before, 3);
  operator delete(p, std::nothrow);
}

}  // namespace
}  // namespace exmc::testing
