// select(cmp, l, r, a, b): values per comparison, broadcasting, the adjoint reaching only the
// chosen branch (finite differences away from the switch point), and a NaN / infinity in the
// branch not taken staying out of value and gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.hpp"

namespace exmc::graph {
namespace {

using testing::fd_gradient;
using testing::grad_err;

TEST(Select, ValuesFollowTheComparison) {
  Graph g;
  const Expr x = g.param(0);
  const Expr l = g.data({1, 2, 3}, {3}) + x * 0.0;  // depends on x: evaluated at run time
  const Expr r = g.data({2, 2, 2}, {3});
  const Expr a = g.data({10, 20, 30}, {3});
  const Expr b = g.data({-1, -2, -3}, {3});
  const Expr w = g.data({1, 100, 10000}, {3});  // the three results in one number
  for (auto [c, want] : {std::pair{Cmp::kLt, 10 - 200 - 30000.0}, std::pair{Cmp::kLe, 10 + 2000 - 30000.0},
                         std::pair{Cmp::kEq, -1 + 2000 - 30000.0}}) {
    auto d = compile<double>(g, x + dot(w, select(c, l, r, a, b)));
    const double x0 = 0.5;
    EXPECT_DOUBLE_EQ(d->logp(&x0), 0.5 + want);
  }
}

TEST(Select, GradientReachesOnlyTheChosenBranch) {
  // x = (u_1..u_4, v_1..v_4, s); target = weighted sum of select(u < s, exp(u), v^2) with u
  // and v vectors and a scalar threshold s (broadcast).
  Graph g;
  const Expr u = g.param(0, {4}), v = g.param(4, {4}), s = g.param(8);
  const Expr w = g.data({0.7, -1.3, 0.4, 2.1}, {4});
  const Expr t = dot(w, select(Cmp::kLt, u, s, exp(u), square(v))) +
                 dot(w, select(Cmp::kLe, s, u, u * v, 3.0 * v));
  const std::vector<double> x = {-0.5, 0.9, 0.1, 1.4, 0.3, -0.8, 1.1, 0.6, 0.35};
  auto ld = compile<double>(g, t);
  std::vector<double> grad(x.size());
  ld->logp_grad(x.data(), grad.data());
  const auto fd = fd_gradient(*ld, x, 1e-4);  // every |u_i - s| >= 0.25: no switch in the stencil
  for (size_t i = 0; i < x.size(); ++i) EXPECT_LT(grad_err(grad[i], fd[i]), 1e-6) << "coordinate " << i;
  EXPECT_EQ(grad[8], 0.0);  // the threshold only decides
  // u_1 = -0.5 < s takes exp(u_1) (and 3 v_1 in the second term); u_2 = 0.9 >= s takes v_2^2
  // and u_2 v_2.
  EXPECT_NEAR(grad[0], 0.7 * std::exp(-0.5), 1e-12);
  EXPECT_NEAR(grad[5], -1.3 * 2 * -0.8 + -1.3 * 0.9, 1e-12);
  std::vector<double> gf(x.size());
  compile<float>(g, t)->logp_grad(x.data(), gf.data());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_LT(grad_err(gf[i], grad[i]), 1e-5) << "coordinate " << i;
}

TEST(Select, NonFiniteBranchNotTakenDoesNotLeak) {
  // log(u) is NaN for u < 0; select(u < 0, 0, log(u)) is finite everywhere, with gradient
  // 1/u for u > 0 and 0 for u < 0.
  Graph g;
  const Expr u = g.param(0, {2});
  const Expr t = sum(select(Cmp::kLt, u, g.constant(0.0), g.constant(0.0), log(u)));
  auto ld = compile<double>(g, t);
  const double x[2] = {-1.0, 2.0};
  double grad[2];
  EXPECT_NEAR(ld->logp_grad(x, grad), std::log(2.0), 1e-15);
  EXPECT_EQ(grad[0], 0.0);
  EXPECT_NEAR(grad[1], 0.5, 1e-15);
}

TEST(Select, ShapeMistakesAreErrors) {
  Graph g;
  const Expr a = g.data({1, 2, 3}, {3}), b = g.data({1, 2}, {2});
  EXPECT_THROW(select(Cmp::kLt, a, a, a, b), std::invalid_argument);
  EXPECT_NO_THROW(select(Cmp::kLt, g.constant(1), a, g.constant(2), a));
}

}  // namespace
}  // namespace exmc::graph
