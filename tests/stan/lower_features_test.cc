// Lowering of user-defined functions, while/break/continue and the matrix / GP built-ins: each
// program gives the same density and gradient as a hand-written program without the feature.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "exmc/io/stan_json.hpp"
#include "exmc/stan/data.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/lower.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {
namespace {

std::unique_ptr<graph::CompiledDensity> density(const std::string& src, const std::string& json,
                                                LowerOptions opts = {}) {
  const Program p = parse_and_check(src, "model.stan");
  const DataEnv env = check_data(p, io::StanJsonData::from_string(json));
  return lower_to_model(p, env, opts)->compile<double>();
}

// Value and gradient agree to `rel` at fixed random points; returns the value differences
// (lp_a - lp_b) so a caller can also check a constant offset.
std::vector<double> expect_same_density(const LogDensity& a, const LogDensity& b, double rel,
                                        bool values_too = true) {
  EXPECT_EQ(a.dim(), b.dim());
  std::vector<double> diffs;
  if (a.dim() != b.dim()) return diffs;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1.2, 1.2);
  std::vector<double> x(a.dim()), ga(a.dim()), gb(a.dim());
  for (int rep = 0; rep < 4; ++rep) {
    for (auto& v : x) v = u(rng);
    const double la = a.logp_grad(x.data(), ga.data());
    const double lb = b.logp_grad(x.data(), gb.data());
    EXPECT_TRUE(std::isfinite(la));
    if (values_too) {
      EXPECT_NEAR(la, lb, rel * std::max(1.0, std::fabs(lb)));
    }
    diffs.push_back(la - lb);
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_NEAR(ga[i], gb[i], rel * std::max(1.0, std::fabs(gb[i]))) << "coordinate " << i;
  }
  return diffs;
}

// Gradient against central finite differences at one point.
void expect_fd_gradient(const LogDensity& ld, double tol) {
  std::vector<double> x(ld.dim()), g(ld.dim());
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3 - 0.07 * static_cast<double>(i % 9);
  const double lp = ld.logp_grad(x.data(), g.data());
  ASSERT_TRUE(std::isfinite(lp));
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<double> xp = x, xm = x;
    xp[i] += 1e-6;
    xm[i] -= 1e-6;
    const double fd = (ld.logp(xp.data()) - ld.logp(xm.data())) / 2e-6;
    EXPECT_NEAR(g[i], fd, tol * std::max(1.0, std::fabs(fd))) << "coordinate " << i;
  }
}

Error lowering_error(const std::string& src, const std::string& json) {
  try {
    density(src, json);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << src;
  return Error("", 0, 0, "", "");
}

const char* kData = R"({"N": 5, "y": [0.3, -1.1, 2.4, 0.8, -0.2], "x": [0.1, 0.5, 1.3, 2.0, 2.2]})";

TEST(StanLowerFunctions, InlinedFunctionsEqualTheHandWrittenProgram) {
  const std::string with_functions = R"(
functions {
  real scaled(real v, real s) { return v / s; }
  vector centred(vector v) {
    int n = rows(v);
    vector[n] out;
    for (i in 1:n) out[i] = v[i] - mean(v);
    return out;
  }
  real slope_of(vector beta) { return beta[2]; }
  vector line(vector x, vector beta) { return beta[1] + slope_of(beta) * x; }
  void priors_lp(vector beta, real sigma) {
    beta ~ normal(0, scaled(4, 2));
    sigma ~ exponential(1);
  }
}
data { int N; vector[N] y; vector[N] x; }
parameters { vector[2] beta; real<lower=0> sigma; }
model {
  priors_lp(beta, sigma);
  y ~ normal(line(centred(x), beta), sigma);
}
)";
  const std::string by_hand = R"(
data { int N; vector[N] y; vector[N] x; }
parameters { vector[2] beta; real<lower=0> sigma; }
model {
  beta ~ normal(0, 2.0);
  sigma ~ exponential(1);
  y ~ normal(beta[1] + beta[2] * (x - mean(x)), sigma);
}
)";
  auto a = density(with_functions, kData);
  auto b = density(by_hand, kData);
  expect_same_density(*a, *b, 1e-12);
}

// Stan: `y ~ foo(a)` calls foo_lupdf (the _lupdf calls inside drop constants), while
// `target += foo_lpdf(y | a)` keeps every constant, also of the _lupdf calls inside. (Calling
// foo_lupdf by name is rejected by the checker yet.)
TEST(StanLowerFunctions, UserDensitiesFollowStanConstantDropping) {
  const std::string head = R"(
functions {
  real my_normal_lpdf(vector v, real mu, real sigma) { return normal_lupdf(v | mu, sigma); }
}
data { int N; vector[N] y; vector[N] x; }
parameters { real mu; real<lower=0> sigma; }
model {
  sigma ~ exponential(1);
)";
  auto tilde = density(head + "  y ~ my_normal(mu, sigma);\n}\n", kData);
  auto full = density(head + "  target += my_normal_lpdf(y | mu, sigma);\n}\n", kData);
  const std::string plain = R"(
data { int N; vector[N] y; vector[N] x; }
parameters { real mu; real<lower=0> sigma; }
model {
  sigma ~ exponential(1);
)";
  auto builtin_tilde = density(plain + "  y ~ normal(mu, sigma);\n}\n", kData);
  auto builtin_full = density(plain + "  target += normal_lpdf(y | mu, sigma);\n}\n", kData);
  expect_same_density(*tilde, *builtin_tilde, 1e-12);
  expect_same_density(*full, *builtin_full, 1e-12);
  // The two differ by the dropped constant N * log(sqrt(2 pi)).
  for (double d : expect_same_density(*tilde, *full, 1e-12, false))
    EXPECT_NEAR(d, 5 * 0.5 * std::log(2 * std::numbers::pi), 1e-9);
}

TEST(StanLowerFunctions, EarlyReturnAndLoopsInsideFunctions) {
  const std::string src = R"(
functions {
  // The first index whose x exceeds t (N + 1 if none): a return from inside a loop.
  int first_above(vector x, real t) {
    for (i in 1:rows(x)) {
      if (x[i] > t) return i;
    }
    return rows(x) + 1;
  }
  real tail_sum(vector v, int from) {
    real s = 0;
    for (i in from:rows(v)) s += v[i];
    return s;
  }
}
data { int N; vector[N] y; vector[N] x; }
transformed data { int k = first_above(x, 1.0); }
parameters { vector[N] z; }
model {
  z ~ normal(0, 1);
  target += -square(tail_sum(z, k));
}
)";
  const std::string by_hand = R"(
data { int N; vector[N] y; vector[N] x; }
parameters { vector[N] z; }
model {
  z ~ normal(0, 1);
  target += -square(z[3] + z[4] + z[5]);
}
)";
  expect_same_density(*density(src, kData), *density(by_hand, kData), 1e-12);
}

TEST(StanLowerFunctions, RecursionIsAPositionedError) {
  const std::string src = R"(functions {
  real fact(int n) { if (n <= 1) return 1; return n * fact(n - 1); }
}
parameters { real mu; }
model {
  mu ~ normal(fact(3), 1);
}
)";
  const Error e = lowering_error(src, "{}");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.column(), 55);
  EXPECT_NE(e.message().find("'fact' is called recursively"), std::string::npos) << e.message();
}

TEST(StanLowerControlFlow, WhileBreakContinueAreUnrolled) {
  const std::string src = R"(
data { int N; vector[N] y; vector[N] x; }
transformed data {
  int m = 0;  // 2 = how many doublings of 1 stay at or below N = 5
  real p = 1;
  while (1) {
    p *= 2;
    if (p > N) break;
    m += 1;
  }
}
parameters { vector[N] z; }
model {
  int i = 0;
  z ~ normal(0, 1);
  while (i < N) {
    i += 1;
    if (i == 2) continue;
    target += -0.5 * m * square(z[i] - y[i]);
  }
  for (j in 1:N) {
    if (j > m) break;
    target += z[j];
  }
}
)";
  const std::string by_hand = R"(
data { int N; vector[N] y; vector[N] x; }
parameters { vector[N] z; }
model {
  z ~ normal(0, 1);
  target += -1.0 * (square(z[1] - y[1]) + square(z[3] - y[3]) + square(z[4] - y[4]) + square(z[5] - y[5]));
  target += z[1] + z[2];
}
)";
  expect_same_density(*density(src, kData), *density(by_hand, kData), 1e-12);
}

TEST(StanLowerControlFlow, IndexArraysBuiltInLoopsStayKnown) {
  const std::string src = R"(
data { int N; vector[N] y; vector[N] x; }
transformed data {
  array[N] int rev;
  for (n in 1:N) rev[n] = N + 1 - n;
}
parameters { vector[N] z; }
model { z[rev] ~ normal(y, 1); }
)";
  const std::string by_hand = R"(
data { int N; vector[N] y; vector[N] x; }
parameters { vector[N] z; }
model { for (n in 1:N) z[N + 1 - n] ~ normal(y[n], 1); }
)";
  expect_same_density(*density(src, kData), *density(by_hand, kData), 1e-12);
}

// Assignment loops whose passes touch only their own element become one vector assignment;
// a recurrence (cum[n] reads cum[n - 1]) stays unrolled. Both equal the unrolled lowering.
TEST(StanLowerControlFlow, ElementwiseAssignmentLoopsAreVectorised) {
  const std::string src = R"(
data { int N; vector[N] y; vector[N] x; }
parameters { real a; real b; real<lower=0> s; }
model {
  vector[N] mu;
  vector[N] sig;
  vector[N] cum;
  for (n in 1:N) {
    mu[n] = a + b * x[n];
    sig[n] = s;
    mu[n] += 0.5 * exp(mu[n] / 4);
  }
  cum[1] = mu[1];
  for (n in 2:N) cum[n] = cum[n - 1] + mu[n];
  y ~ normal(mu + 0.1 * cum, sig);
}
)";
  const Program p = parse_and_check(src, "assign.stan");
  const DataEnv env = check_data(p, io::StanJsonData::from_string(kData));
  LowerOptions unroll;
  unroll.vectorize_loops = false;
  auto vm = lower_to_model(p, env);
  auto um = lower_to_model(p, env, unroll);
  auto vec = vm->compile<double>();
  auto loop = um->compile<double>();
  expect_same_density(*vec, *loop, 1e-12);
  EXPECT_LT(vec->nodes_per_gradient(), loop->nodes_per_gradient());
}

TEST(StanLowerControlFlow, WhileOnParametersIsAPositionedError) {
  const Error e = lowering_error("parameters { real mu; }\nmodel {\n  while (mu > 0) { }\n}\n", "{}");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 13);  // the operator
  EXPECT_NE(e.message().find("the condition of 'while' must be known from the data"), std::string::npos)
      << e.message();
}

// Value of a compiled density at x against a closed form, and its gradient against finite
// differences at x.
void expect_value_and_fd(const LogDensity& ld, std::vector<double> x, double want) {
  std::vector<double> g(x.size());
  EXPECT_NEAR(ld.logp_grad(x.data(), g.data()), want, 1e-12 * std::max(1.0, std::fabs(want)));
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<double> xp = x, xm = x;
    xp[i] += 1e-6;
    xm[i] -= 1e-6;
    const double fd = (ld.logp(xp.data()) - ld.logp(xm.data())) / 2e-6;
    EXPECT_NEAR(g[i], fd, 1e-6 * std::max(1.0, std::fabs(fd))) << "coordinate " << i;
  }
}

TEST(StanLowerSelect, TernaryOnParametersEqualsTheClosedForm) {
  const std::string src = R"(
parameters { real mu; real<lower=0> s; }
model {
  real m = mu > 0 ? mu : -mu;
  target += -square(m - 1) - (s <= 1 ? 1 - s : s - 1);
}
)";
  const std::string by_hand = R"(
parameters { real mu; real<lower=0> s; }
model {
  target += -square(fabs(mu) - 1) - fabs(s - 1);
}
)";
  expect_same_density(*density(src, "{}"), *density(by_hand, "{}"), 1e-12);
}

TEST(StanLowerSelect, IfOnParametersSelectsAssignments) {
  // w_i = log(v_i) where v_i > 0, else 0: the branch not taken (log of a negative) must not
  // leak NaN into the value or the gradient.
  const std::string src = R"(
parameters { vector[4] v; real a; real b; }
model {
  vector[4] w;
  real z = 0;
  for (i in 1:4) {
    if (v[i] > 0) w[i] = log(v[i]);
    else w[i] = 0;
  }
  if (a > 0 && !(b > 0)) {
    z = a * b;
  } else if (a < b || b == 3) {
    real t = a + b;
    z = t;
  }
  target += sum(w) + z;
}
)";
  auto ld = density(src, "{}");
  for (const auto& x : {std::vector<double>{0.5, -1.0, 2.0, -0.3, 0.7, -0.2},
                        std::vector<double>{-0.5, 1.5, -2.0, 0.3, -0.7, 0.4},
                        std::vector<double>{0.2, 0.2, 0.2, 0.2, 0.9, 1.3}}) {
    double want = 0;
    for (int i = 0; i < 4; ++i) want += x[i] > 0 ? std::log(x[i]) : 0.0;
    const double a = x[4], b = x[5];
    want += (a > 0 && !(b > 0)) ? a * b : (a < b || b == 3) ? a + b : 0.0;
    expect_value_and_fd(*ld, x, want);
  }
}

TEST(StanLowerSelect, ReturnsUnderParameterConditionsSelectTheValue) {
  const std::string src = R"(
functions {
  real relu(real x) {
    if (x > 0) return x;
    return 0;
  }
  real piecewise(real x, real t) {
    real y = 2 * x;
    if (x < t) {
      y = y + 1;
      if (x < -t) return -y;
      return y;
    } else {
      y = square(x);
    }
    return y + t;
  }
}
parameters { real mu; real nu; }
model {
  target += relu(mu) + piecewise(nu, 0.5) - 0.5 * (mu^2 + nu^2);
}
)";
  auto ld = density(src, "{}");
  for (double mu : {-0.8, 0.6})
    for (double nu : {-1.3, -0.2, 0.9}) {
      const double y = 2 * nu + 1;
      const double pw = nu < 0.5 ? (nu < -0.5 ? -y : y) : nu * nu + 0.5;
      expect_value_and_fd(*ld, {mu, nu}, std::max(mu, 0.0) + pw - 0.5 * (mu * mu + nu * nu));
    }
}

TEST(StanLowerSelect, UnsupportedStatementsUnderParameterConditionsArePositionedErrors) {
  const Error tilde = lowering_error("parameters { real mu; }\nmodel {\n  if (mu > 0) {\n    mu ~ normal(0, 1);\n  }\n}\n", "{}");
  EXPECT_EQ(tilde.line(), 4);
  EXPECT_EQ(tilde.column(), 5);
  EXPECT_EQ(tilde.message(), "'~' inside an 'if' whose condition depends on parameters is not supported "
                             "(only assignments can depend on such a condition)");
  const Error ret = lowering_error(R"(functions {
  real f(real x) {
    if (x > 0) { if (x > 1) return 1; }
    return 0;
  }
}
parameters { real mu; }
model { target += f(mu); }
)", "{}");
  EXPECT_EQ(ret.line(), 3);
  EXPECT_EQ(ret.column(), 5);
  EXPECT_NE(ret.message().find("a 'return' on only some paths of an 'if' whose condition depends on parameters"),
            std::string::npos)
      << ret.message();
  const Error lp = lowering_error(R"(functions {
  real prior_lp(real x) { x ~ normal(0, 1); return x; }
}
parameters { real mu; }
model {
  real y = 0;
  if (mu > 0) y = prior_lp(mu);
}
)", "{}");
  EXPECT_EQ(lp.line(), 7);
  EXPECT_NE(lp.message().find("a call of an _lp function inside an 'if'"), std::string::npos) << lp.message();
  const Error shapes = lowering_error(
      "parameters { real mu; vector[2] v; }\nmodel {\n  vector[3] w = mu > 0 ? rep_vector(1, 3) : v;\n}\n", "{}");
  EXPECT_EQ(shapes.line(), 3);
  EXPECT_NE(shapes.message().find("the branches of '?:' have 3 and 2 elements"), std::string::npos)
      << shapes.message();
}

// A GP regression written with the built-ins equals the one written with loops.
TEST(StanLowerBuiltins, GaussianProcessBuiltinsEqualLoops) {
  const std::string data = R"({"N": 5, "y": [0.3, -1.1, 2.4, 0.8, -0.2], "x": [0.1, 0.5, 1.3, 2.0, 2.2]})";
  const std::string params = R"(
data { int N; vector[N] y; array[N] real x; }
parameters { real<lower=0> rho; real<lower=0> alpha; real<lower=0> sigma; }
)";
  const std::string builtins = params + R"(
model {
  matrix[N, N] K = gp_exp_quad_cov(x, alpha, rho) + diag_matrix(rep_vector(sigma, N));
  matrix[N, N] L = cholesky_decompose(add_diag(K, 0.5));
  rho ~ gamma(25, 4);
  alpha ~ normal(0, 2);
  sigma ~ normal(0, 1);
  y ~ multi_normal_cholesky(rep_vector(0, N), L);
}
)";
  const std::string loops = params + R"(
model {
  matrix[N, N] K;
  for (i in 1:N) {
    for (j in 1:N) K[i, j] = alpha^2 * exp(-0.5 * (x[i] - x[j])^2 / rho^2);
    K[i, i] = K[i, i] + sigma + 0.5;
  }
  rho ~ gamma(25, 4);
  alpha ~ normal(0, 2);
  sigma ~ normal(0, 1);
  y ~ multi_normal(rep_vector(0, N), K);
}
)";
  auto a = density(builtins, data);
  auto b = density(loops, data);
  expect_same_density(*a, *b, 1e-10);
  expect_fd_gradient(*a, 1e-5);
}

TEST(StanLowerBuiltins, MatrixAndVectorBuiltinsEqualIndexedForms) {
  const std::string data = R"({"M": [[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]], "xs": [[0.0, 1.0], [1.0, 1.5], [2.5, 0.0]]})";
  const std::string head = R"(
data { matrix[2, 3] M; array[3] vector[2] xs; }
parameters { vector[2] v; vector[3] w; real<lower=0> a; }
)";
  const std::string builtins = head + R"(
model {
  array[2] int d = dims(M);
  matrix[2, 3] P = diag_pre_multiply(v, M);
  matrix[2, 3] Q = diag_post_multiply(M, w);
  matrix[3, 3] G = gp_exp_quad_cov(xs, a, 1.5);
  target += sum(P) + sum(Q) + prod(w) * d[2] + sum(rep_matrix(v, 2)) + sum(rep_matrix(w', 2));
  target += sum(head(w, 2)) - sum(tail(w, 2)) + sum(segment(w, 2, 1)) + sum(diagonal(G));
  target += log_sum_exp(v[1], w[2]) + sum(softmax(w) .* w) + sum(append_row(v, w)) * pi();
  target += sum(G) + sum(tcrossprod(P)) + sum(crossprod(Q)) + sum(cumulative_sum(w));
  target += sum(to_vector(P) .* to_vector(rep_array(1.5, 6))) + log_diff_exp(2 + w[1], w[1]);
}
)";
  const std::string indexed = head + R"(
model {
  real t = 0;
  for (i in 1:2) for (j in 1:3) t += v[i] * M[i, j] + M[i, j] * w[j];
  target += t + w[1] * w[2] * w[3] * 3 + 2 * (v[1] + v[2]) + 2 * (w[1] + w[2] + w[3]);
  target += w[1] + w[2] - w[2] - w[3] + w[2] + 3 * a^2;
  target += log(exp(v[1]) + exp(w[2])) + dot_product(exp(w) / sum(exp(w)), w) + (v[1] + v[2] + w[1] + w[2] + w[3]) * pi();
  for (i in 1:3) for (j in 1:3) target += a^2 * exp(-0.5 * dot_self(xs[i] - xs[j]) / 1.5^2);
  for (i in 1:2) for (k in 1:2) for (j in 1:3) target += v[i] * M[i, j] * v[k] * M[k, j];
  for (i in 1:3) for (k in 1:3) for (j in 1:2) target += M[j, i] * w[i] * M[j, k] * w[k];
  target += 3 * w[1] + 2 * w[2] + w[3];
  for (i in 1:2) for (j in 1:3) target += 1.5 * v[i] * M[i, j];
  target += 2 + w[1] + log1m_exp(-2);
}
)";
  expect_same_density(*density(builtins, data), *density(indexed, data), 1e-10);
}

TEST(StanLowerBuiltins, StudentTCdfsAtKnownArgumentsMatchClosedForms) {
  // brms' half-t normaliser: student_t_lccdf(0 | nu, 0, s) = log(1/2); at 1 | 1, 0, 1 the
  // Cauchy tail 1/4.
  const std::string src = R"(
parameters { real mu; }
model {
  mu ~ normal(0, 1);
  target += student_t_lccdf(0 | 3, 0, 36) + student_t_lcdf(1 | 1, 0, 1) + student_t_cdf(-1 | 1, 0, 1);
}
)";
  const std::string by_hand = "parameters { real mu; }\nmodel {\n  mu ~ normal(0, 1);\n}\n";
  for (double d : expect_same_density(*density(src, "{}"), *density(by_hand, "{}"), 1e-12, false))
    EXPECT_NEAR(d, std::log(0.5) + std::log(0.75) + 0.25, 1e-12);
}

TEST(StanLowerBuiltins, LogCdfOfParametersUsesTheLibraryKernels) {
  const std::string src = R"(
parameters { real mu; real<lower=0> s; }
model {
  target += normal_lcdf(0.5 | mu, s) + normal_lccdf(-0.5 | mu, s) + exponential_lccdf(1.5 | s);
}
)";
  auto ld = density(src, "{}");
  expect_fd_gradient(*ld, 1e-6);
  const double x[2] = {0.2, std::log(1.3)};  // mu, log s
  const double mu = 0.2, s = 1.3;
  const double phi_lo = 0.5 * std::erfc(-(0.5 - mu) / s / std::sqrt(2.0));
  const double phi_hi = 0.5 * std::erfc((-0.5 - mu) / s / std::sqrt(2.0));
  EXPECT_NEAR(ld->logp(x), std::log(phi_lo) + std::log(phi_hi) - 1.5 * s + std::log(s), 1e-10);
}

// y ~ normal(mu, sigma) T[L, U] is the density renormalised over [L, U]: equal, up to the
// constant '~' drops, to the hand-written lpdf minus log(Phi(U) - Phi(L)) per observation.
TEST(StanLowerTruncation, TruncatedTildeEqualsTheRenormalisedDensity) {
  const char* data = R"({"N": 5, "y": [0.3, 1.1, 2.4, 0.8, 0.2], "x": [0.1, 0.5, 1.3, 2.0, 2.2]})";
  const std::string head = R"(
data { int N; vector[N] y; vector[N] x; }
parameters { real mu; real<lower=0> sigma; }
model {
  sigma ~ exponential(1);
)";
  struct Case {
    const char* truncation;
    const char* normaliser;  // what each observation's log density is divided by (log scale)
  };
  for (const Case& c : {Case{"T[0, 3]", "log_diff_exp(normal_lcdf(3 | mu, sigma), normal_lcdf(0 | mu, sigma))"},
                        Case{"T[0, ]", "normal_lccdf(0 | mu, sigma)"}, Case{"T[, 3]", "normal_lcdf(3 | mu, sigma)"}}) {
    SCOPED_TRACE(c.truncation);
    auto lowered = density(head + "  for (n in 1:N) y[n] ~ normal(mu, sigma) " + c.truncation + ";\n}\n", data);
    auto by_hand = density(head + "  for (n in 1:N) target += normal_lpdf(y[n] | mu, sigma) - " + c.normaliser +
                               ";\n}\n", data);
    // '~' drops the constant N log sqrt(2 pi); the normaliser depends on parameters and stays.
    for (double d : expect_same_density(*lowered, *by_hand, 1e-9, false))
      EXPECT_NEAR(d, 5 * 0.5 * std::log(2 * std::numbers::pi), 1e-8);
    expect_fd_gradient(*lowered, 1e-6);
  }
}

TEST(StanLowerTruncation, DataOutsideTheBoundsIsAnErrorNamingTheVariable) {
  const char* data = R"({"N": 5, "y": [0.3, 1.1, 4.4, 0.8, 0.2], "x": [0.1, 0.5, 1.3, 2.0, 2.2]})";
  const std::string src = R"(
data { int N; vector[N] y; vector[N] x; }
parameters { real mu; }
model { y ~ normal(mu, 1) T[0, 3]; }
)";
  try {
    density(src, data);
    ADD_FAILURE() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("y"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace exmc::stan
