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
