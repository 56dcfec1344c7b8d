// Every op's gradient against fourth-order central finite differences at random points, in
// double (error <= 1e-6, relative with the denominator floored at 1) and float (against the
// double gradient, error <= 1e-4 on the same scale; measured worst 1.8e-6, at inv_Phi tails).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>

#include "test_util.hpp"

namespace exmc::graph {
namespace {

using testing::fd_gradient;
using testing::grad_err;

struct Case {
  std::string name;
  size_t dim;
  std::function<double(size_t, std::mt19937&)> sample;
  std::function<Expr(Graph&)> build;
  double h = 1e-3;  // finite-difference step (relative to max(1, |x|))
};

std::function<double(size_t, std::mt19937&)> uniform(double lo, double hi) {
  return [lo, hi](size_t, std::mt19937& r) { return std::uniform_real_distribution<double>(lo, hi)(r); };
}

// A fixed random weighting turning any expression into a scalar that depends on every element.
Expr weigh(Graph& g, Expr v) {
  std::mt19937 r(static_cast<unsigned>(v.size() * 7919 + 13));
  std::vector<double> w(v.size());
  for (double& x : w) x = std::uniform_real_distribution<double>(-1.5, 1.5)(r);
  return dot(g.data(std::move(w), v.shape()), v);
}

Expr data_vec(Graph& g, size_t n, double lo, double hi, unsigned seed) {
  std::mt19937 r(seed);
  std::vector<double> v(n);
  for (double& x : v) x = std::uniform_real_distribution<double>(lo, hi)(r);
  return g.data(std::move(v), {n});
}
Expr data_mat(Graph& g, size_t rr, size_t cc, unsigned seed) {
  std::mt19937 r(seed);
  std::vector<double> v(rr * cc);
  for (double& x : v) x = std::uniform_real_distribution<double>(-1, 1)(r);
  return g.data(std::move(v), {rr, cc});
}

std::vector<Case> all_cases() {
  std::vector<Case> cs;
  const size_t n = 5;
  struct U { const char* name; Expr (*f)(Expr); double lo, hi; };
  const U unary[] = {
      {"neg", [](Expr a) { return -a; }, -3, 3},
      {"neg_fn", [](Expr a) { return neg(a); }, -3, 3},
      {"abs", [](Expr a) { return abs(a); }, 0.1, 3},
      {"abs_negative", [](Expr a) { return abs(a); }, -3, -0.1},
      {"sqrt", [](Expr a) { return sqrt(a); }, 0.1, 4},
      {"square", [](Expr a) { return square(a); }, -3, 3},
      {"exp", [](Expr a) { return exp(a); }, -3, 2},
      {"log", [](Expr a) { return log(a); }, 0.1, 4},
      {"log1p", [](Expr a) { return log1p(a); }, -0.8, 4},
      {"expm1", [](Expr a) { return expm1(a); }, -3, 2},
      {"log1p_exp", [](Expr a) { return log1p_exp(a); }, -20, 20},
      {"log_inv_logit", [](Expr a) { return log_inv_logit(a); }, -20, 20},
      {"log1m_inv_logit", [](Expr a) { return log1m_inv_logit(a); }, -20, 20},
      {"inv_logit", [](Expr a) { return inv_logit(a); }, -8, 8},
      {"logit", [](Expr a) { return logit(a); }, 0.05, 0.95},
      {"tanh", [](Expr a) { return tanh(a); }, -2, 2},
      {"lgamma", [](Expr a) { return lgamma(a); }, 0.2, 8},
      {"digamma", [](Expr a) { return digamma(a); }, 0.3, 8},
      {"erf", [](Expr a) { return erf(a); }, -2, 2},
      {"erfc", [](Expr a) { return erfc(a); }, -2, 2},
      {"Phi", [](Expr a) { return Phi(a); }, -4, 4},
      {"inv_Phi", [](Expr a) { return inv_Phi(a); }, 0.02, 0.98},
      {"inv_Phi_tails", [](Expr a) { return inv_Phi(a); }, 1e-6, 1e-3},
  };
  for (const U& u : unary) {
    auto f = u.f;
    cs.push_back({std::string("unary_") + u.name, n, uniform(u.lo, u.hi),
                  [f, n](Graph& g) { return weigh(g, f(g.param(0, {n}))); },
                  std::min(1e-3, u.lo > 0 ? u.lo / 100 : 1e-3)});
    cs.push_back({std::string("unary_scalar_") + u.name, 1, uniform(u.lo, u.hi),
                  [f](Graph& g) { return 0.7 * f(g.param(0)) + square(f(g.param(0))); },
                  std::min(1e-3, u.lo > 0 ? u.lo / 100 : 1e-3)});
  }
  struct B { const char* name; Expr (*f)(Expr, Expr); };
  const B binary[] = {
      {"add", [](Expr a, Expr b) { return a + b; }}, {"sub", [](Expr a, Expr b) { return a - b; }},
      {"mul", [](Expr a, Expr b) { return a * b; }}, {"div", [](Expr a, Expr b) { return a / b; }},
      {"pow", [](Expr a, Expr b) { return pow(a, b); }},
      {"fmin", [](Expr a, Expr b) { return fmin(a, b); }},
      {"fmax", [](Expr a, Expr b) { return fmax(a, b); }}};
  for (const B& b : binary) {
    auto f = b.f;
    const std::string nm = std::string("binary_") + b.name;
    // fmin/fmax are piecewise linear: a tiny step keeps the stencil off the kink.
    const double h = nm.find("fm") != std::string::npos ? 1e-7 : 1e-3;
    const size_t first = cs.size();
    cs.push_back({nm + "_vec_vec", 2 * n, uniform(0.3, 3),
                  [f, n](Graph& g) { return weigh(g, f(g.param(0, {n}), g.param(n, {n}))); }});
    cs.push_back({nm + "_scalar_vec", n + 1, uniform(0.3, 3),
                  [f, n](Graph& g) { return weigh(g, f(g.param(0), g.param(1, {n}))); }});
    cs.push_back({nm + "_vec_scalar", n + 1, uniform(0.3, 3),
                  [f, n](Graph& g) { return weigh(g, f(g.param(1, {n}), g.param(0))); }});
    cs.push_back({nm + "_scalar_scalar", 2, uniform(0.3, 3),
                  [f](Graph& g) { return 1.7 * f(g.param(0), g.param(1)); }});
    cs.push_back({nm + "_param_data", n, uniform(0.3, 3),
                  [f, n](Graph& g) { return weigh(g, f(g.param(0, {n}), data_vec(g, n, 0.3, 3, 5))); }});
    cs.push_back({nm + "_data_param", n, uniform(0.3, 3),
                  [f, n](Graph& g) { return weigh(g, f(data_vec(g, n, 0.3, 3, 6), g.param(0, {n}))); }});
    cs.push_back({nm + "_datascalar_param", n, uniform(0.3, 3),
                  [f, n](Graph& g) { return weigh(g, f(g.constant(1.3), g.param(0, {n}))); }});
    cs.push_back({nm + "_matrix_scalar", 6, uniform(0.3, 3),
                  [f](Graph& g) { return weigh(g, f(g.param(0, {2, 3}), g.param(0))); }});
    for (size_t i = first; i < cs.size(); ++i) cs[i].h = h;
  }
  cs.push_back({"double_overloads", 3, uniform(0.3, 3), [](Graph& g) {
                  Expr a = g.param(0), b = g.param(1, {2});
                  return weigh(g, (a + 1.5) * (2.0 - b) / (b - 0.1) + 3.0 / b * (a * 0.5) -
                                      pow(b, 1.5) + pow(2.0, b) + fmin(b, 1.0) + fmax(b, 1.0));
                }});
  // Reductions.
  cs.push_back({"sum", n, uniform(-2, 2), [n](Graph& g) { return 1.3 * sum(square(g.param(0, {n}))); }});
  cs.push_back({"mean", n, uniform(-2, 2), [n](Graph& g) { return mean(exp(g.param(0, {n}))); }});
  cs.push_back({"dot_param_param", 2 * n, uniform(-2, 2),
                [n](Graph& g) { return dot(g.param(0, {n}), g.param(n, {n})); }});
  cs.push_back({"dot_param_data", n, uniform(-2, 2),
                [n](Graph& g) { return square(dot(g.param(0, {n}), data_vec(g, n, -1, 1, 3))); }});
  cs.push_back({"dot_self", n, uniform(-2, 2), [n](Graph& g) { return dot_self(g.param(0, {n})) * 0.7; }});
  cs.push_back({"log_sum_exp", n, uniform(-5, 5), [n](Graph& g) { return log_sum_exp(g.param(0, {n})); }});
  cs.push_back({"log_sum_exp_matrix", 6, uniform(-5, 5),
                [](Graph& g) { return log_sum_exp(2.0 * g.param(0, {2, 3})); }});
  cs.push_back({"cumulative_sum", n, uniform(-2, 2),
                [n](Graph& g) { return weigh(g, cumulative_sum(g.param(0, {n}))); }});
  // Linear algebra.
  cs.push_back({"matvec_param_param", 12 + 4, uniform(-2, 2),
                [](Graph& g) { return weigh(g, matvec(g.param(0, {3, 4}), g.param(12, {4}))); }});
  cs.push_back({"matvec_data_param", 4, uniform(-2, 2),
                [](Graph& g) { return weigh(g, matvec(data_mat(g, 3, 4, 9), g.param(0, {4}))); }});
  cs.push_back({"matvec_param_data", 12, uniform(-2, 2),
                [](Graph& g) { return weigh(g, matvec(g.param(0, {3, 4}), data_vec(g, 4, -1, 1, 8))); }});
  cs.push_back({"matmul_param_param", 6 + 8, uniform(-2, 2),
                [](Graph& g) { return weigh(g, matmul(g.param(0, {3, 2}), g.param(6, {2, 4}))); }});
  cs.push_back({"matmul_data_param", 8, uniform(-2, 2),
                [](Graph& g) { return weigh(g, matmul(data_mat(g, 3, 2, 4), g.param(0, {2, 4}))); }});
  cs.push_back({"transpose", 12, uniform(-2, 2),
                [](Graph& g) { return weigh(g, transpose(g.param(0, {3, 4}))); }});
  auto spd = [](Graph& g, Expr B) {  // symmetric positive definite from an arbitrary square B
    const size_t k = B.shape()[0];
    std::vector<double> eye(k * k, 0.0);
    for (size_t i = 0; i < k; ++i) eye[i * k + i] = 4.0;
    return 0.5 * (B + transpose(B)) + matmul(B, transpose(B)) + g.data(eye, {k, k});
  };
  cs.push_back({"cholesky_decompose", 9, uniform(-1, 1),
                [spd](Graph& g) { return weigh(g, cholesky_decompose(spd(g, g.param(0, {3, 3})))); }});
  cs.push_back({"cholesky_decompose_4", 16, uniform(-1, 1),
                [spd](Graph& g) { return weigh(g, cholesky_decompose(spd(g, g.param(0, {4, 4})))); }});
  auto tri_sample = [](size_t i, std::mt19937& r) {
    const bool diag = i < 9 && (i % 3 == i / 3);
    return diag ? std::uniform_real_distribution<double>(1.0, 2.5)(r)
                : std::uniform_real_distribution<double>(-1, 1)(r);
  };
  cs.push_back({"mdivide_left_tri_low_vec", 9 + 3, tri_sample, [](Graph& g) {
                  return weigh(g, mdivide_left_tri_low(g.param(0, {3, 3}), g.param(9, {3})));
                }});
  cs.push_back({"mdivide_left_tri_low_mat", 9 + 6, tri_sample, [](Graph& g) {
                  return weigh(g, mdivide_left_tri_low(g.param(0, {3, 3}), g.param(9, {3, 2})));
                }});
  cs.push_back({"mdivide_left_tri_low_data_b", 9, tri_sample, [](Graph& g) {
                  return weigh(g, mdivide_left_tri_low(g.param(0, {3, 3}), data_vec(g, 3, -1, 1, 2)));
                }});
  cs.push_back({"mdivide_after_cholesky", 9 + 3, uniform(-1, 1), [spd](Graph& g) {
                  Expr L = cholesky_decompose(spd(g, g.param(0, {3, 3})));
                  return dot_self(mdivide_left_tri_low(L, g.param(9, {3})));
                }});
  cs.push_back({"log_determinant", 9, tri_sample,
                [](Graph& g) { return 1.3 * log_determinant(g.param(0, {3, 3})); }});
  cs.push_back({"log_determinant_negative_det", 9, tri_sample,
                [](Graph& g) { return log_determinant(-1.0 * g.param(0, {3, 3})); }});
  // Indexing and shape.
  cs.push_back({"gather_repeated", n, uniform(-2, 2), [n](Graph& g) {
                  return weigh(g, exp(gather(g.param(0, {n}), {0, 2, 2, 4, 0, 1, 2, 2})));
                }});
  cs.push_back({"gather_sorted_runs", n, uniform(-2, 2), [n](Graph& g) {
                  std::vector<int> idx;
                  for (int j = 0; j < int(n); ++j) idx.insert(idx.end(), size_t(j + 2), j);
                  return weigh(g, exp(gather(g.param(0, {n}), idx)));
                }});
  cs.push_back({"gather_from_matrix", 6, uniform(-2, 2),
                [](Graph& g) { return weigh(g, gather(g.param(0, {2, 3}), {5, 0, 5, 3})); }});
  cs.push_back({"slice", n, uniform(-2, 2),
                [n](Graph& g) { return weigh(g, square(slice(g.param(0, {n}), 1, 3))); }});
  cs.push_back({"concat", n + 1, uniform(-2, 2), [n](Graph& g) {
                  Expr v = g.param(0, {n}), s = g.param(n);
                  return weigh(g, square(concat({v, s, data_vec(g, 2, -1, 1, 1), slice(v, 2, 2)})));
                }});
  cs.push_back({"broadcast", 1, uniform(-2, 2),
                [](Graph& g) { return weigh(g, exp(broadcast(g.param(0), {4}))); }});
  cs.push_back({"reshape", 6, uniform(-2, 2), [](Graph& g) {
                  return weigh(g, matvec(reshape(g.param(0, {6}), {2, 3}), data_vec(g, 3, -1, 1, 4)));
                }});
  // Distribution node (test kernel) with parameters in different argument slots.
  cs.push_back({"dist_data_y", 6 + 1, [](size_t i, std::mt19937& r) {
                  return i == 6 ? std::uniform_real_distribution<double>(0.5, 2)(r)
                                : std::uniform_real_distribution<double>(-2, 2)(r);
                }, [](Graph& g) {
                  return dist_lpdf(testing::test_normal(),
                                   {data_vec(g, 6, -2, 2, 11), g.param(0, {6}), g.param(6)}, true);
                }});
  cs.push_back({"dist_param_y_vec_sigma", 4 + 4, uniform(0.5, 2), [](Graph& g) {
                  return dist_lpdf(testing::test_normal(),
                                   {g.param(0, {4}), g.constant(0.3), g.param(4, {4})}, false);
                }});
  cs.push_back({"dist_scaled_and_reused", 3, uniform(0.5, 2), [](Graph& g) {
                  Expr lp = dist_lpdf(testing::test_normal(), {g.param(0), g.param(1), g.param(2)});
                  return 2.0 * lp + square(lp) - lp;
                }});
  // Direct-partials path: dist terms whose inputs are shared with other terms and consumers.
  cs.push_back({"dist_direct_shared_inputs", 3 + 1, uniform(0.5, 2), [](Graph& g) {
                  Expr v = g.param(0, {3}), s = g.param(3);
                  const auto& nrm = testing::test_normal();
                  return dist_lpdf(nrm, {v, 0.5 * v, s}) + s + dist_lpdf(nrm, {s, g.constant(1), s}) +
                         dist_lpdf(nrm, {exp(v), sum(v), g.constant(2)}) - dist_lpdf(nrm, {v, s, s}) +
                         sum(square(v)) + dist_lpdf(nrm, {v, s, s});
                }});
  cs.push_back({"sum_of_terms", 4, uniform(0.5, 2), [](Graph& g) {
                  Expr a = g.param(0, {4});
                  Expr s = log(g.param(0));
                  return sum(a) - s + dot_self(a) + (s - 2.0 * s) - 3.0;
                }});
  return cs;
}

class OpGrad : public ::testing::TestWithParam<Case> {};

TEST_P(OpGrad, MatchesFiniteDifferences) {
  const Case& c = GetParam();
  Graph g;
  Expr target = c.build(g);
  ASSERT_EQ(g.num_params(), c.dim);
  auto d64 = compile<double>(g, target);
  auto d32 = compile<float>(g, target);
  std::mt19937 rng(1234);
  std::vector<double> x(c.dim), g64(c.dim), g32(c.dim);
  double worst64 = 0, worst32 = 0;
  for (int rep = 0; rep < 20; ++rep) {
    for (size_t i = 0; i < c.dim; ++i) x[i] = c.sample(i, rng);
    const double v = d64->logp_grad(x.data(), g64.data());
    ASSERT_TRUE(std::isfinite(v)) << c.name;
    EXPECT_EQ(v, d64->logp(x.data()));
    const std::vector<double> fd = fd_gradient(*d64, x, c.h);
    for (size_t i = 0; i < c.dim; ++i) {
      worst64 = std::max(worst64, grad_err(g64[i], fd[i]));
      EXPECT_LE(grad_err(g64[i], fd[i]), 1e-6) << c.name << " coordinate " << i << " rep " << rep;
    }
    const double v32 = d32->logp_grad(x.data(), g32.data());
    EXPECT_LE(std::fabs(v32 - v), 1e-4 * std::max(1.0, std::fabs(v))) << c.name;
    for (size_t i = 0; i < c.dim; ++i) {
      worst32 = std::max(worst32, grad_err(g32[i], g64[i]));
      EXPECT_LE(grad_err(g32[i], g64[i]), 1e-4) << c.name << " (float) coordinate " << i;
    }
  }
  if (std::getenv("EXMC_GRAPH_TEST_VERBOSE"))
    std::printf("%-40s worst f64 %.2e  worst f32 %.2e\n", c.name.c_str(), worst64, worst32);
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpGrad, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// sqrt(2 exp(u)) with exp(u) underflowing to 0: sqrt's partial at 0 is inf, and inf * 0 must
// not reach u as NaN; the true gradient, sqrt(2) exp(u/2) / 2, underflows to 0 too. Above the
// underflow the gradient is the analytic one. Scalar and vector (both kernels' paths).
TEST(OpGradEdge, UnderflowedExpPassesNoAdjoint) {
  for (size_t n : {size_t(1), size_t(20)}) {
    Graph g;
    Expr u = g.param(0, n == 1 ? Shape{} : Shape{n});
    for (bool f32 : {false, true}) {
      auto d = f32 ? compile<float>(g, sum(sqrt(2.0 * exp(u)))) : compile<double>(g, sum(sqrt(2.0 * exp(u))));
      std::vector<double> x(n, f32 ? -200.0 : -800.0), grad(n, 1.0);
      EXPECT_EQ(d->logp_grad(x.data(), grad.data()), 0.0);
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(grad[i], 0.0) << "n " << n << (f32 ? " f32" : " f64");
      std::fill(x.begin(), x.end(), -3.0);
      d->logp_grad(x.data(), grad.data());
      for (size_t i = 0; i < n; ++i)
        EXPECT_NEAR(grad[i], 0.5 * std::sqrt(2.0) * std::exp(-1.5), f32 ? 1e-6 : 1e-15);
    }
  }
}

}  // namespace
}  // namespace exmc::graph
