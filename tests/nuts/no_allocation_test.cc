// After warmup, NUTS transitions allocate nothing (counted by replacing global operator new).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "test_util.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace exmc::testing {
namespace {

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
    g_allocations = 0;
    g_counting = true;
    long leapfrogs = 0;
    for (unsigned i = 0; i < cfg.num_samples; ++i) leapfrogs += s.iterate().n_leapfrog;
    g_counting = false;
    EXPECT_EQ(s.metric().kind(), kind);
    if (kind == nuts::MetricKind::LowRank) EXPECT_GE(s.metric().rank(), 1u);
    EXPECT_EQ(g_allocations.load(), 0) << int(kind);
    EXPECT_GT(leapfrogs, 2000);
  }
}

TEST(NoAllocation, CounterWorks) {
  g_allocations = 0;
  g_counting = true;
  auto* v = new std::vector<double>(10);
  g_counting = false;
  delete v;
  EXPECT_EQ(g_allocations.load(), 2);
}

}  // namespace
}  // namespace exmc::testing
