// Zero heap allocations per gradient after warm-up, counted by a replaced global operator new.
#include <gtest/gtest.h>

#include <cstdlib>

#include "models.hpp"

#include "../support/alloc_counter.hpp"

using exmc::test_support::allocations;

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
  const long before = allocations();
  double acc = 0;
  for (int i = 0; i < 100; ++i) {
    x[0] += 1e-3;
    acc += d->logp_grad(x.data(), gr.data());
    acc += d->logp(x.data());
    d->constrain(x.data(), out.data());
  }
  EXPECT_EQ(allocations() - before, 0);
  EXPECT_TRUE(std::isfinite(acc));
}

TEST(Allocation, CountingWorks) {
  const long before = allocations();
  auto* p = new std::vector<double>(10);
  delete p;
  EXPECT_GE(allocations() - before, 2);
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
