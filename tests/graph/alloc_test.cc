// Zero heap allocations per gradient after warm-up, counted by a replaced global operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "models.hpp"

namespace {
std::atomic<long> g_allocs{0};
}

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace exmc::graph {
namespace {

using namespace testing;

template <class T>
void expect_no_allocations(const Graph& g, Expr t, std::vector<std::pair<std::string, Expr>> outs,
                           size_t dim) {
  auto d = compile<T>(g, t, std::move(outs));
  std::vector<double> x = random_point(dim, 4, 0.3), gr(dim), out(total_size(d->output_vars()));
  d->logp_grad(x.data(), gr.data());  // warm-up: creates this thread's workspaces
  d->constrain(x.data(), out.data());
  const long before = g_allocs.load();
  double acc = 0;
  for (int i = 0; i < 100; ++i) {
    x[0] += 1e-3;
    acc += d->logp_grad(x.data(), gr.data());
    acc += d->logp(x.data());
    d->constrain(x.data(), out.data());
  }
  EXPECT_EQ(g_allocs.load() - before, 0);
  EXPECT_TRUE(std::isfinite(acc));
}

TEST(Allocation, CountingWorks) {
  const long before = g_allocs.load();
  auto* p = new std::vector<double>(10);
  delete p;
  EXPECT_GE(g_allocs.load() - before, 2);
}

TEST(Allocation, NoneAfterWarmupHierarchical) {
  Graph g;
  Expr t = hier_model(g, 50, 1000);
  expect_no_allocations<double>(g, t, {{"tau", exp(g.param(1))}}, 52);
  expect_no_allocations<float>(g, t, {{"tau", exp(g.param(1))}}, 52);
}

TEST(Allocation, NoneAfterWarmupRegression) {
  Graph g;
  Expr t = regression_model(g, 2000, 50);
  expect_no_allocations<double>(g, t, {}, 52);
  expect_no_allocations<float>(g, t, {}, 52);
}

TEST(Allocation, NoneAfterWarmupLinearAlgebra) {
  Graph g;
  Expr t = linalg_model(g, 30);
  Expr B = g.param(0, {30, 30});
  Expr big = matmul(B, transpose(B));  // a large product for Eigen's GEMM path
  expect_no_allocations<double>(g, t + 1e-3 * sum(big), {{"BBt", big}}, 930);
  expect_no_allocations<float>(g, t + 1e-3 * sum(big), {{"BBt", big}}, 930);
}

}  // namespace
}  // namespace exmc::graph
