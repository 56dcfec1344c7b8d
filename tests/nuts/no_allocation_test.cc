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
  for (auto kind : {nuts::MetricKind::Diag, nuts::MetricKind::Dense}) {
    auto ld = scaled_normal(5, {1, 2, 3, 4, 5});
    nuts::SamplerConfig cfg;
    cfg.num_warmup = 300;
    cfg.num_samples = 2000;
    cfg.metric = kind;
    nuts::ChainSampler s(*ld, cfg, 1, 0);
    s.initialize();
    for (unsigned i = 0; i < cfg.num_warmup; ++i) s.iterate();
    g_allocations = 0;
    g_counting = true;
    long leapfrogs = 0;
    for (unsigned i = 0; i < cfg.num_samples; ++i) leapfrogs += s.iterate().n_leapfrog;
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << (kind == nuts::MetricKind::Diag ? "diag" : "dense");
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
