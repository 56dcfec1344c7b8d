// Compile-time passes (folding, CSE, dead nodes, memory plan), outputs, errors, non-finite
// handling, and float/double agreement on non-trivial graphs.
#include <gtest/gtest.h>

#include <cmath>

#include "models.hpp"
#include "test_util.hpp"

namespace exmc::graph {
namespace {

using namespace testing;

TEST(Folding, RemovesDataOnlyWorkFromTheHotPath) {
  const size_t N = 40, K = 3;
  Graph g;
  Expr target = regression_model(g, N, K);
  CompileOptions no_fold;
  no_fold.fold_constants = false;
  auto folded = compile<double>(g, target);
  auto unfolded = compile<double>(g, target, {}, no_fold);
  // Folded: matvec, add, exp, dist(y), dist(beta) = 5 instructions (params are no instructions).
  EXPECT_EQ(folded->nodes_per_gradient(), 5u) << folded->dump();
  EXPECT_GT(unfolded->nodes_per_gradient(), folded->nodes_per_gradient() + 8) << unfolded->dump();
  const std::vector<double> x = random_point(K + 2, 1);
  std::vector<double> g1(K + 2), g2(K + 2);
  const double v1 = folded->logp_grad(x.data(), g1.data());
  const double v2 = unfolded->logp_grad(x.data(), g2.data());
  EXPECT_NEAR(v1, v2, 1e-9 * std::fabs(v1));
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_NEAR(g1[i], g2[i], 1e-9 * std::max(1.0, std::fabs(g1[i])));
}

TEST(Folding, ConstantTermsAreKeptInTheValue) {
  Graph g;
  Expr a = g.param(0);
  Expr target = square(a) + log(g.constant(2.0)) * 3.0 - g.constant(1.5);
  auto d = compile<double>(g, target);
  const double x = 0.7;
  double gr;
  EXPECT_DOUBLE_EQ(d->logp_grad(&x, &gr), 0.49 + 3 * std::log(2.0) - 1.5);
  EXPECT_DOUBLE_EQ(gr, 1.4);
  EXPECT_EQ(d->nodes_per_gradient(), 1u);  // square
}

TEST(Folding, ParameterFreeTargetHasZeroGradient) {
  Graph g;
  (void)g.param(0, {2});
  Expr t = sum(exp(g.data({0.0, 1.0}, {2})));
  auto d = compile<float>(g, t);
  EXPECT_EQ(d->nodes_per_gradient(), 0u);
  const double x[2] = {3, 4};
  double gr[2] = {7, 7};
  EXPECT_NEAR(d->logp_grad(x, gr), 1.0 + std::exp(1.0), 1e-12);  // folded in double
  EXPECT_EQ(gr[0], 0.0);
  EXPECT_EQ(gr[1], 0.0);
}

TEST(Cse, MergesIdenticalSubexpressions) {
  Graph g;
  Expr a = g.param(0, {3});
  Expr b = g.param(0, {3});  // the same slice of x, built twice
  Expr t = sum(exp(a) * g.data({1, 2, 3}, {3})) + sum(exp(b) * g.data({1, 2, 3}, {3}));
  CompileOptions no_cse;
  no_cse.cse = false;
  auto with = compile<double>(g, t);
  auto without = compile<double>(g, t, {}, no_cse);
  EXPECT_EQ(with->nodes_per_gradient(), 3u) << with->dump();  // exp, mul, sum
  EXPECT_EQ(without->nodes_per_gradient(), 6u) << without->dump();
  const double x[3] = {0.1, -0.2, 0.3};
  double g1[3], g2[3];
  EXPECT_DOUBLE_EQ(with->logp_grad(x, g1), without->logp_grad(x, g2));
  for (int i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(g1[i], g2[i]);
    EXPECT_NEAR(g1[i], 2 * (i + 1) * std::exp(x[i]), 1e-12);
  }
}

TEST(Simplify, DropsIdentityArithmetic) {
  Graph g;
  Expr a = g.param(0, {3});
  Expr t = dot_self(((a - 0.0) * 1.0 + g.data({0, 0, 0}, {3})) / 1.0) + sum(log(exp(a)));
  auto d = compile<double>(g, t);
  EXPECT_EQ(d->nodes_per_gradient(), 2u) << d->dump();  // dot_self, sum
  const double x[3] = {0.5, -1, 2};
  double gr[3];
  EXPECT_DOUBLE_EQ(d->logp_grad(x, gr), 5.25 + 1.5);
  EXPECT_DOUBLE_EQ(gr[1], -1.0);
  // Reductions of a scalar.
  Graph k;
  Expr c = k.param(0);
  auto r = compile<double>(k, sum(c) + mean(exp(c)) + dot_self(c));
  EXPECT_EQ(r->nodes_per_gradient(), 2u) << r->dump();  // exp, square
  double cv = 0.5, cg;
  EXPECT_DOUBLE_EQ(r->logp_grad(&cv, &cg), 0.5 + std::exp(0.5) + 0.25);
  EXPECT_DOUBLE_EQ(cg, 1.0 + std::exp(0.5) + 1.0);
  // Broadcasting identities change the shape and must stay.
  Graph h;
  Expr s = h.param(0);
  auto e = compile<double>(h, sum(s + h.data({0, 0}, {2})));
  EXPECT_EQ(e->nodes_per_gradient(), 2u) << e->dump();  // add (broadcast), sum
  double v = 1.5, gv;
  EXPECT_DOUBLE_EQ(e->logp_grad(&v, &gv), 3.0);
  EXPECT_DOUBLE_EQ(gv, 2.0);
}

TEST(Terms, ScalarCoefficientsFoldIntoTheSum) {
  Graph g;
  Expr a = g.param(0, {2}), b = g.param(2);
  Expr t = -0.5 * dot_self(a) - (-b) * 3.0 + 2.0 * (-(b * b)) - 1.0;
  auto d = compile<double>(g, t);
  EXPECT_EQ(d->nodes_per_gradient(), 2u) << d->dump();  // dot_self, mul(b, b)
  const double x[3] = {1, 2, 0.5};
  double gr[3];
  EXPECT_DOUBLE_EQ(d->logp_grad(x, gr), -2.5 + 1.5 - 0.5 - 1.0);
  EXPECT_DOUBLE_EQ(gr[0], -1.0);
  EXPECT_DOUBLE_EQ(gr[1], -2.0);
  EXPECT_DOUBLE_EQ(gr[2], 3.0 - 2.0);
}

TEST(DeadNodes, UnusedWorkIsDropped) {
  Graph g;
  Expr a = g.param(0, {4});
  Expr unused = matmul(reshape(a, {2, 2}), reshape(exp(a), {2, 2}));
  (void)unused;
  Expr t = dot_self(a);
  auto d = compile<double>(g, t);
  EXPECT_EQ(d->nodes_per_gradient(), 1u);  // dot_self
}

TEST(MemoryPlan, ReusesBuffers) {
  Graph g;
  Expr v = g.param(0, {1000});
  Expr e = v;
  for (int i = 0; i < 40; ++i) e = (e + double(i)) - v;  // add/sub backward needs no values
  auto d = compile<double>(g, sum(e));
  EXPECT_LT(d->arena_bytes() * 8, d->arena_bytes_unplanned())
      << d->arena_bytes() << " vs " << d->arena_bytes_unplanned();
  std::vector<double> x(1000, 0.5), gr(1000);
  EXPECT_NEAR(d->logp_grad(x.data(), gr.data()), 1000 * (0.5 - 40 * 0.5 + 780), 1e-6);
  for (double gi : gr) EXPECT_DOUBLE_EQ(gi, -39.0);
}

TEST(Outputs, ConstrainEvaluatesNamedOutputs) {
  Graph g;
  Expr mu = g.param(0), lsig = g.param(1), z = g.param(2, {2});
  Expr sigma = exp(lsig);
  Expr t = dist_lpdf(test_normal(), {z, mu, sigma}) + lsig;
  auto d = compile<double>(g, t, {{"mu", mu}, {"sigma", sigma}, {"theta", mu + sigma * z}});
  const auto vars = d->output_vars();
  ASSERT_EQ(vars.size(), 3u);
  EXPECT_EQ(vars[2].name, "theta");
  EXPECT_EQ(vars[2].shape, Shape{2});
  const double x[4] = {0.3, std::log(2.0), 1.0, -1.0};
  double out[4];
  d->constrain(x, out);
  EXPECT_DOUBLE_EQ(out[0], 0.3);
  EXPECT_DOUBLE_EQ(out[1], 2.0);
  EXPECT_DOUBLE_EQ(out[2], 2.3);
  EXPECT_DOUBLE_EQ(out[3], -1.7);
  CompileOptions o;
  o.output_vars = {{"all", {4}}};
  auto d2 = compile<float>(g, t, {{"mu", mu}, {"sigma", sigma}, {"theta", mu + sigma * z}}, o);
  EXPECT_EQ(d2->output_vars()[0].name, "all");
  double out2[4];
  d2->eval_outputs(x, out2);
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(out2[i], out[i]);  // outputs are always in double
  o.output_vars = {{"all", {3}}};
  EXPECT_THROW(compile<double>(g, t, {{"mu", mu}, {"sigma", sigma}, {"theta", mu + sigma * z}}, o),
               std::invalid_argument);
}

TEST(Errors, ShapeMistakesNameTheOpAndShapes) {
  Graph g;
  Expr a = g.param(0, {3}), b = g.param(3, {4});
  try {
    (void)(a + b);
    FAIL() << "expected a throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("add: shapes {3} and {4}"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gather(a, {0, 3}), std::invalid_argument);
  EXPECT_THROW(slice(a, 2, 2), std::invalid_argument);
  EXPECT_THROW(matvec(reshape(b, {2, 2}), a), std::invalid_argument);
  EXPECT_THROW(g.data({1.0, 2.0}, {3}), std::invalid_argument);
  EXPECT_THROW(compile<double>(g, a), std::invalid_argument);  // not a scalar
  Graph other;
  EXPECT_THROW((void)(a + other.param(0, {3})), std::invalid_argument);
}

TEST(NonFinite, PropagatesWithoutThrowing) {
  Graph g;
  Expr a = g.param(0, {2});
  auto d = compile<double>(g, sum(log(a)) + dist_lpdf(test_normal(), {a, g.constant(0), g.constant(1)}));
  const double x[2] = {-1.0, 2.0};
  double gr[2];
  EXPECT_FALSE(std::isfinite(d->logp_grad(x, gr)));
  Graph h;
  Expr B = h.param(0, {2, 2});
  auto c = compile<float>(h, sum(cholesky_decompose(B)));
  const double y[4] = {-1, 0, 0, 1};  // not positive definite
  double gy[4];
  EXPECT_FALSE(std::isfinite(c->logp_grad(y, gy)));
  auto s = compile<double>(g, dist_lpdf(test_normal(), {a, g.constant(0), a}));
  EXPECT_EQ(s->logp_grad(x, gr), -INFINITY);
}

void expect_precisions_agree(const Graph& g, Expr t, const std::vector<double>& x, double tol) {
  auto d64 = compile<double>(g, t);
  auto d32 = compile<float>(g, t);
  EXPECT_TRUE(d32->single_precision());
  std::vector<double> g64(x.size()), g32(x.size());
  const double v64 = d64->logp_grad(x.data(), g64.data());
  const double v32 = d32->logp_grad(x.data(), g32.data());
  double gmax = 0;
  for (double v : g64) gmax = std::max(gmax, std::fabs(v));
  EXPECT_NEAR(v32, v64, tol * std::max(1.0, std::fabs(v64)));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(g32[i], g64[i], tol * std::max(1.0, gmax)) << i;
}

TEST(Precision, FloatAgreesWithDoubleOnHierarchicalModel) {
  Graph g;
  Expr t = hier_model(g, 50, 1000);
  expect_precisions_agree(g, t, random_point(52, 5), 1e-5);
}

TEST(Precision, FloatAgreesWithDoubleOnSortedHierarchicalModel) {
  Graph g;
  Expr t = hier_model(g, 50, 1000, 7, true);
  expect_precisions_agree(g, t, random_point(52, 5), 1e-5);
}

TEST(Precision, FloatAgreesWithDoubleOnRegression) {
  Graph g;
  Expr t = regression_model(g, 500, 10);
  expect_precisions_agree(g, t, random_point(12, 6, 0.2), 1e-5);
}

TEST(Precision, FloatAgreesWithDoubleOnLinearAlgebra) {
  Graph g;
  Expr t = linalg_model(g, 5);
  expect_precisions_agree(g, t, random_point(30, 8), 1e-5);
}

}  // namespace
}  // namespace exmc::graph
