// Compiled models allocate nothing per gradient once warm: transforms lowered to graph ops,
// non-centred variables and the fused GLM likelihood included (a counting operator new).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "exmc/model/model.hpp"
#include "test_dists.hpp"

#include "../support/alloc_counter.hpp"

using exmc::test_support::allocations;

namespace exmc::model {
namespace {

TEST(NoAllocation, CounterSeesAllocations) {
  const long before = allocations();
  std::vector<double>* v = new std::vector<double>(10);
  delete v;
  EXPECT_EQ(allocations() - before, 2);
}

TEST(NoAllocation, GradientOfCompiledModels) {
  using testing::normal;
  Model m;
  const size_t N = 700, K = 3;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> nd;
  std::vector<double> X(N * K), yb(N);
  for (auto& v : X) v = nd(rng);
  for (auto& v : yb) v = nd(rng) > 0 ? 1.0 : 0.0;
  Expr mu = m.rv("mu", normal(), {0.0, 5.0});
  Expr tau = m.rv("tau", testing::half_normal(), {5.0});
  Expr theta = m.rv("theta", normal(), {mu, tau}, {K});  // non-centred
  Expr p = m.rv("p", testing::dirichlet(), {2.0}, {4});  // simplex
  m.rv("L", testing::flat(), {}, {3, 3}, constraint(transform::Kind::kCorrMatrix));
  m.observe("y", testing::bernoulli_logit(), {mu + graph::matvec(m.data("X", X, {N, K}), theta)}, yb);  // GLM
  m.potential(graph::log(graph::slice(p, 0, 1)) * 0.0 + graph::sum(theta) * 0.0);
  for (bool f32 : {false, true}) {
    auto ld = f32 ? m.compile<float>() : m.compile<double>();
    std::vector<double> x(ld->dim(), 0.1), g(ld->dim());
    ld->logp_grad(x.data(), g.data());
    const long before = allocations();
    double s = 0;
    for (int i = 0; i < 50; ++i) {
      x[0] = 0.01 * i;
      s += ld->logp_grad(x.data(), g.data());
    }
    EXPECT_EQ(allocations() - before, 0) << (f32 ? "f32" : "f64");
    EXPECT_TRUE(std::isfinite(s));
  }
}

}  // namespace
}  // namespace exmc::model
