// The builder end to end: a hierarchical model against a hand-written density and gradient,
// every transform lowered into the graph against its kernel, non-centring as a change of
// variables, outputs and initial values, masks / weights / data swaps, and errors that name
// the variable.
#include "exmc/model/model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_dists.hpp"

namespace exmc::model {
namespace {

using testing::dirichlet;
using testing::flat;
using testing::half_normal;
using testing::normal;
using testing::poisson;

const std::vector<double> kY = {28, 8, -3, 7, -1, 1, 18, 12};
const std::vector<double> kSigma = {15, 10, 16, 11, 9, 11, 10, 18};

// Eight schools, centred or not.
void build_eight_schools(Model& m, Ncp ncp = Ncp::kAuto) {
  Expr mu = m.rv("mu", normal(), {0.0, 5.0});
  Expr tau = m.rv("tau", half_normal(), {5.0});
  Expr theta = m.rv("theta", normal(), {mu, tau}, {8}, {}, ncp);
  Expr sigma = m.data("sigma", kSigma, {8});
  m.observe("y", normal(), {theta, sigma}, kY);
  m.det("theta_mean", graph::mean(theta));
}

// Hand-written centred eight schools (propto), x = (mu, log tau, theta[8]).
double eight_schools_by_hand(const double* x, double* g) {
  const double mu = x[0], lt = x[1], tau = std::exp(lt);
  double lp = -0.5 * mu * mu / 25 - 0.5 * tau * tau / 25 + lt;
  double gmu = -mu / 25, gtau = -tau / 25;
  for (int i = 0; i < 8; ++i) {
    const double th = x[2 + i], z = (th - mu) / tau, r = (kY[i] - th) / kSigma[i];
    lp += -0.5 * z * z - lt - 0.5 * r * r;
    gmu += z / tau;
    gtau += z * z / tau - 1 / tau;
    g[2 + i] = -z / tau + r / kSigma[i];
  }
  g[0] = gmu;
  g[1] = gtau * tau + 1;
  return lp;
}

std::vector<double> random_point(size_t d, uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0, scale);
  std::vector<double> x(d);
  for (auto& v : x) v = nd(rng);
  return x;
}

void expect_grad_matches_fd(const LogDensity& ld, const std::vector<double>& x, double tol = 1e-6) {
  std::vector<double> g(x.size());
  ld.logp_grad(x.data(), g.data());
  for (size_t k = 0; k < x.size(); ++k) {
    auto xp = x, xm = x;
    const double h = 1e-6;
    xp[k] += h;
    xm[k] -= h;
    const double fd = (ld.logp(xp.data()) - ld.logp(xm.data())) / (2 * h);
    EXPECT_NEAR(g[k], fd, tol * (1 + std::fabs(fd))) << "coordinate " << k;
  }
}

TEST(Builder, HierarchicalModelMatchesHandWrittenDensityAndGradient) {
  Model m;
  build_eight_schools(m, Ncp::kOff);
  auto ld = m.compile<double>();
  ASSERT_EQ(ld->dim(), 10u);
  for (uint64_t s = 0; s < 5; ++s) {
    auto x = random_point(10, s);
    std::vector<double> g(10), gh(10);
    const double lp = ld->logp_grad(x.data(), g.data());
    const double lph = eight_schools_by_hand(x.data(), gh.data());
    EXPECT_NEAR(lp, lph, 1e-10 * (1 + std::fabs(lph)));
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(g[k], gh[k], 1e-10 * (1 + std::fabs(gh[k]))) << k;
  }
  auto lf = m.compile<float>();
  auto x = random_point(10, 9);
  std::vector<double> g(10), gf(10);
  const double lp = ld->logp_grad(x.data(), g.data());
  EXPECT_NEAR(lf->logp_grad(x.data(), gf.data()), lp, 1e-4 * (1 + std::fabs(lp)));
  for (int k = 0; k < 10; ++k) EXPECT_NEAR(gf[k], g[k], 1e-3 * (1 + std::fabs(g[k])));
}

TEST(Builder, OutputsAreNamedShapedConstrainedValuesAndDeterministics) {
  Model m;
  build_eight_schools(m, Ncp::kOff);
  auto ld = m.compile<double>();
  auto vars = ld->output_vars();
  ASSERT_EQ(vars.size(), 4u);
  EXPECT_EQ(vars[0].name, "mu");
  EXPECT_EQ(vars[1].name, "tau");
  EXPECT_EQ(vars[2].name, "theta");
  EXPECT_EQ(vars[2].shape, (std::vector<size_t>{8}));
  EXPECT_EQ(vars[3].name, "theta_mean");
  auto x = random_point(10, 4);
  std::vector<double> out(total_size(vars));
  ld->constrain(x.data(), out.data());
  EXPECT_DOUBLE_EQ(out[0], x[0]);
  EXPECT_NEAR(out[1], std::exp(x[1]), 1e-14);
  double mean = 0;
  for (int i = 0; i < 8; ++i) mean += x[2 + i] / 8;
  EXPECT_NEAR(out[10], mean, 1e-14);

  // unconstrain inverts constrain (deterministics in the values are accepted and ignored).
  std::vector<std::pair<std::string, std::vector<double>>> vals = {
      {"mu", {out[0]}}, {"tau", {out[1]}}, {"theta", std::vector<double>(out.begin() + 2, out.begin() + 10)},
      {"theta_mean", {out[10]}}};
  std::vector<double> x2(10);
  std::string err;
  ASSERT_TRUE(ld->unconstrain(vals, x2.data(), &err)) << err;
  for (int k = 0; k < 10; ++k) EXPECT_NEAR(x2[k], x[k], 1e-12);

  vals[1].second = {-1.0};
  EXPECT_FALSE(ld->unconstrain(vals, x2.data(), &err));
  EXPECT_NE(err.find("'tau'"), std::string::npos) << err;
  vals[1].second = {1.0};
  vals.push_back({"thetta", {1.0}});
  EXPECT_FALSE(ld->unconstrain(vals, x2.data(), &err));
  EXPECT_NE(err.find("'thetta'"), std::string::npos) << err;
  vals.pop_back();
  vals.erase(vals.begin());
  EXPECT_FALSE(ld->unconstrain(vals, x2.data(), &err));
  EXPECT_NE(err.find("'mu': no value given"), std::string::npos) << err;
}

// theta = mu + tau z: the non-centred density at z equals the centred one at theta plus the
// log-Jacobian 8 log tau, pointwise, in both propto and full mode; constrain() reports theta.
TEST(NonCentred, RewrittenDensityIsTheChangeOfVariables) {
  for (bool propto : {true, false}) {
    Model mc, mn;
    build_eight_schools(mc, Ncp::kOff);
    build_eight_schools(mn, Ncp::kAuto);  // mu and tau are both free: auto non-centres
    CompileOptions o;
    o.propto = propto;
    auto lc = mc.compile<double>(o), ln = mn.compile<double>(o);
    for (uint64_t s = 0; s < 5; ++s) {
      auto xn = random_point(10, 100 + s);
      const double mu = xn[0], tau = std::exp(xn[1]);
      auto xc = xn;
      for (int i = 0; i < 8; ++i) xc[2 + i] = mu + tau * xn[2 + i];
      EXPECT_NEAR(ln->logp(xn.data()), lc->logp(xc.data()) + 8 * std::log(tau), 1e-9);
      std::vector<double> on(total_size(ln->output_vars())), oc(on.size());
      ln->constrain(xn.data(), on.data());
      lc->constrain(xc.data(), oc.data());
      for (size_t k = 0; k < on.size(); ++k) EXPECT_NEAR(on[k], oc[k], 1e-12);
      expect_grad_matches_fd(*ln, xn);
    }
    // Initial values given as theta come back as z.
    auto xn = random_point(10, 7);
    std::vector<double> on(total_size(ln->output_vars()));
    ln->constrain(xn.data(), on.data());
    std::vector<std::pair<std::string, std::vector<double>>> vals = {
        {"mu", {on[0]}}, {"tau", {on[1]}}, {"theta", std::vector<double>(on.begin() + 2, on.begin() + 10)}};
    std::vector<double> x2(10);
    std::string err;
    ASSERT_TRUE(ln->unconstrain(vals, x2.data(), &err)) << err;
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(x2[k], xn[k], 1e-10);
  }
}

// Each transform lowered into the graph, under a flat density, gives exactly the kernel's
// log|J|, gradient (the kernel's VJP with gy = 0) and constrained value; in f64 and f32.
struct TCase {
  const char* label;
  transform::Kind kind;
  Shape shape;
  std::vector<double> lower, upper, offset, multiplier;
};

TEST(Transforms, GraphLoweringMatchesKernels) {
  using K = transform::Kind;
  const std::vector<TCase> cases = {
      {"identity", K::kIdentity, {2, 2}, {}, {}, {}, {}},
      {"lower", K::kLower, {3}, {0.5}, {}, {}, {}},
      {"lower_vec", K::kLower, {3}, {0.5, -1, 2}, {}, {}, {}},
      {"upper", K::kUpper, {}, {}, {2.0}, {}, {}},
      {"lower_upper", K::kLowerUpper, {4}, {-1.0}, {3.0}, {}, {}},
      {"lower_upper_vec", K::kLowerUpper, {2}, {0.0, 1.0}, {1.0, 4.0}, {}, {}},
      {"offset_multiplier", K::kOffsetMultiplier, {3}, {}, {}, {1.0}, {2.5}},
      {"softplus", K::kSoftplus, {3}, {}, {}, {}, {}},
      {"ordered", K::kOrdered, {4}, {}, {}, {}, {}},
      {"positive_ordered", K::kPositiveOrdered, {3}, {}, {}, {}, {}},
      {"simplex2", K::kSimplex, {2}, {}, {}, {}, {}},
      {"simplex4", K::kSimplex, {4}, {}, {}, {}, {}},
      {"unit_vector", K::kUnitVector, {3}, {}, {}, {}, {}},
      {"cholesky_corr3", K::kCholeskyCorr, {3, 3}, {}, {}, {}, {}},
      {"cholesky_corr4", K::kCholeskyCorr, {4, 4}, {}, {}, {}, {}},
      {"cholesky_cov3", K::kCholeskyCov, {3, 3}, {}, {}, {}, {}},
      {"cholesky_cov4x2", K::kCholeskyCov, {4, 2}, {}, {}, {}, {}},
      {"corr_matrix3", K::kCorrMatrix, {3, 3}, {}, {}, {}, {}},
      {"cov_matrix3", K::kCovMatrix, {3, 3}, {}, {}, {}, {}},
  };
  for (const TCase& c : cases) {
    SCOPED_TRACE(c.label);
    Model m;
    auto bound = [&](const std::vector<double>& v, const char* nm) -> std::optional<Arg> {
      if (v.empty()) return std::nullopt;
      if (v.size() == 1) return Arg(v[0]);
      return Arg(m.data(nm, v, {v.size()}));
    };
    Constraint con = constraint(c.kind);
    con.lower = bound(c.lower, "lo");
    con.upper = bound(c.upper, "up");
    con.offset = bound(c.offset, "off");
    con.multiplier = bound(c.multiplier, "mul");
    m.rv("v", flat(), {}, c.shape, con);
    auto ld = m.compile<double>();
    auto lf = m.compile<float>();
    const transform::Transform t = transform::Transform::make(c.kind, c.shape);
    ASSERT_EQ(ld->dim(), t.unconstrained_size());
    auto x = random_point(ld->dim(), 21, 1.2);
    for (auto& v : x) v = double(float(v));
    transform::Bounds<double> b;
    auto barg = [](const std::vector<double>& v) {
      return transform::BoundArg<double>{v.empty() ? nullptr : v.data(), v.size(), nullptr};
    };
    b.lower = barg(c.lower);
    b.upper = barg(c.upper);
    b.offset = barg(c.offset);
    b.multiplier = barg(c.multiplier);
    std::vector<double> y(t.constrained_size()), work(t.workspace_size()), gk(x.size(), 0.0), zero(y.size(), 0.0);
    const double lj = t.constrain(x.data(), b, y.data(), work.data());
    t.vjp(x.data(), y.data(), zero.data(), 1.0, b, gk.data(), work.data());
    std::vector<double> g(x.size()), gf(x.size()), out(y.size());
    EXPECT_NEAR(ld->logp_grad(x.data(), g.data()), lj, 1e-10 * (1 + std::fabs(lj)));
    for (size_t k = 0; k < x.size(); ++k) EXPECT_NEAR(g[k], gk[k], 1e-9 * (1 + std::fabs(gk[k]))) << k;
    ld->constrain(x.data(), out.data());
    for (size_t k = 0; k < y.size(); ++k) EXPECT_NEAR(out[k], y[k], 1e-12 * (1 + std::fabs(y[k]))) << k;
    EXPECT_NEAR(lf->logp_grad(x.data(), gf.data()), lj, 1e-4 * (1 + std::fabs(lj)));
    for (size_t k = 0; k < x.size(); ++k) EXPECT_NEAR(gf[k], gk[k], 1e-3 * (1 + std::fabs(gk[k]))) << k;
    // Round trip through unconstrain.
    std::vector<double> x2(x.size());
    std::string err;
    ASSERT_TRUE(ld->unconstrain({{"v", y}}, x2.data(), &err)) << err;
    if (c.kind != K::kUnitVector)
      for (size_t k = 0; k < x.size(); ++k) EXPECT_NEAR(x2[k], x[k], 1e-8) << k;
  }
}

// A bound that depends on another variable gets its gradient through the bound.
TEST(Transforms, ParameterDependentBound) {
  Model m;
  Expr a = m.rv("a", normal(), {0.0, 1.0});
  Expr b = m.rv("b", normal(), {a, 2.0}, {3}, lower(a));
  m.det("gap", b - a);
  auto ld = m.compile<double>();
  ASSERT_EQ(ld->dim(), 4u);
  auto x = random_point(4, 3);
  expect_grad_matches_fd(*ld, x);
  std::vector<double> out(total_size(ld->output_vars()));
  ld->constrain(x.data(), out.data());
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(out[1 + i], x[0] + std::exp(x[1 + i]), 1e-12);
  std::vector<double> x2(4);
  std::string err;
  ASSERT_TRUE(ld->unconstrain({{"a", {out[0]}}, {"b", {out[1], out[2], out[3]}}}, x2.data(), &err)) << err;
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(x2[k], x[k], 1e-10);
}

TEST(Transforms, DefaultSimplexFromDirichlet) {
  Model m;
  Expr th = m.rv("theta", dirichlet(), {m.data("alpha", {2.0, 3.0, 4.0}, {3})}, {3});
  m.observe("counts", poisson(), {20.0 * th}, {4, 6, 9});
  auto ld = m.compile<double>();
  ASSERT_EQ(ld->dim(), 2u);
  const transform::Transform t = transform::Transform::make(transform::Kind::kSimplex, {3});
  auto x = random_point(2, 8);
  std::vector<double> y(3);
  const double lj = t.constrain(x.data(), transform::Bounds<double>{}, y.data());
  const double alpha[3] = {2, 3, 4}, n[3] = {4, 6, 9};
  double want = lj;
  for (int i = 0; i < 3; ++i) {
    want += (alpha[i] - 1) * std::log(y[i]);
    want += n[i] * std::log(20 * y[i]) - 20 * y[i] - std::lgamma(n[i] + 1);
  }
  EXPECT_NEAR(ld->logp(x.data()), want, 1e-10);
  expect_grad_matches_fd(*ld, x);
}

TEST(Observe, MaskAndWeightsAndSwappableData) {
  Model m;
  Expr mu = m.rv("mu", normal(), {0.0, 10.0});
  ObserveOptions oo;
  oo.mask = {true, false, true, true};
  oo.weights = {1.0, 5.0, 2.0, 0.5};
  m.observe("y", normal(), {mu, 2.0}, {1.0, 100.0, -0.5, 3.0}, {}, oo);
  auto hand = [](double mu, const std::vector<double>& y) {
    double lp = -0.5 * mu * mu / 100;
    const double w[4] = {1, 0, 2, 0.5};
    for (int i = 0; i < 4; ++i) lp += w[i] * (-0.5 * (y[i] - mu) * (y[i] - mu) / 4);
    return lp;
  };
  auto ld = m.compile<double>();
  const double x = 0.7;
  EXPECT_NEAR(ld->logp(&x), hand(x, {1.0, 100.0, -0.5, 3.0}), 1e-12);
  m.set_data("y", {2.0, 0.0, 1.0, 1.0});
  auto ld2 = m.compile<double>();
  EXPECT_NEAR(ld2->logp(&x), hand(x, {2.0, 0.0, 1.0, 1.0}), 1e-12);
  EXPECT_THROW(m.set_data("y", {1.0}), std::invalid_argument);
}

TEST(Builder, PotentialAndExpressionArguments) {
  Model m;
  Expr a = m.rv("a", normal(), {0.0, 1.0});
  Expr s = m.rv("s", half_normal(), {1.0});
  Expr b = m.rv("b", normal(), {2.0 * a + 1.0, graph::exp(0.5 * graph::log(s))}, {2}, {}, Ncp::kOff);
  m.potential(-graph::square(a - 1.0));
  auto ld = m.compile<double>();
  auto x = random_point(4, 2);
  const double av = x[0], sv = std::exp(x[1]), sd = std::sqrt(sv);
  double want = -0.5 * av * av - 0.5 * sv * sv + x[1] - (av - 1) * (av - 1);
  for (int i = 0; i < 2; ++i) {
    const double z = (x[2 + i] - 2 * av - 1) / sd;
    want += -0.5 * z * z - std::log(sd);
  }
  EXPECT_NEAR(ld->logp(x.data()), want, 1e-12);
  expect_grad_matches_fd(*ld, x);
  EXPECT_THROW(m.potential(b), std::invalid_argument);  // not a scalar
}

// Stan-style: a flat parameter whose density is given by lpdf terms on slices of it (a
// Gaussian random walk), observed through an expression of data.
TEST(Builder, FlatParameterWithLpdfTermsOnSlices) {
  Model m;
  Expr sigma = m.rv("sigma", half_normal(), {1.0});
  Expr s = m.param("s", {4});
  m.add_lpdf(normal(), graph::slice(s, 0, 1), {0.0, sigma});
  m.add_lpdf(normal(), graph::slice(s, 1, 3), {graph::slice(s, 0, 3), sigma});
  Expr r = m.data("r", {0.5, -0.2, 0.1, 0.3}, {4});
  m.observe("r_obs", normal(), {s, 1.0}, r);
  auto ld = m.compile<double>();
  ASSERT_EQ(ld->dim(), 5u);
  auto x = random_point(5, 12);
  const double sg = std::exp(x[0]);
  double want = -0.5 * sg * sg + x[0];
  const double rv[4] = {0.5, -0.2, 0.1, 0.3};
  for (int t = 0; t < 4; ++t) {
    const double prev = t == 0 ? 0.0 : x[t];
    const double z = (x[1 + t] - prev) / sg;
    want += -0.5 * z * z - std::log(sg) - 0.5 * (rv[t] - x[1 + t]) * (rv[t] - x[1 + t]);
  }
  EXPECT_NEAR(ld->logp(x.data()), want, 1e-12);
  expect_grad_matches_fd(*ld, x);
}

TEST(NonCentred, PerVariablePolicyAfterDeclaration) {
  Model m;
  build_eight_schools(m);
  m.set_ncp("theta", Ncp::kOff);
  Model c;
  build_eight_schools(c, Ncp::kOff);
  auto a = m.compile<double>(), b = c.compile<double>();
  auto x = random_point(10, 1);
  EXPECT_EQ(a->logp(x.data()), b->logp(x.data()));
  CompileOptions o;
  o.ncp = Ncp::kOn;  // also non-centres mu ~ normal(0, 5): mu = 5 z, a constant Jacobian
  EXPECT_NE(m.compile<double>(o)->logp(x.data()), b->logp(x.data()));
  m.set_ncp("mu", Ncp::kOff);  // the variables' own "off" wins over the global "on"
  EXPECT_EQ(m.compile<double>(o)->logp(x.data()), b->logp(x.data()));
  EXPECT_THROW(m.set_ncp("thetaa", Ncp::kOn), std::invalid_argument);
}

// Far past the log-transform clamp (f32: below -20, f64: below -700) the density and gradient
// stay finite, and the gradient is that of the clamped map. In f64 the value no longer moves
// but the log-Jacobian (x itself) does, so the density falls on (it was flat, an improper
// tail); f32 clamps both (flat: a chain that gets there fails loudly).
TEST(Transforms, ClampInCompiledModels) {
  Model m;
  m.rv("s", half_normal(), {1e-6});
  auto lf = m.compile<float>();
  auto ld = m.compile<double>();
  for (double x : {-30.0, -25.0, 30.0}) {
    double g = 0;
    const double lp = lf->logp_grad(&x, &g);
    EXPECT_TRUE(std::isfinite(g)) << x;
    if (x < 0) {
      EXPECT_TRUE(std::isfinite(lp)) << x;
      EXPECT_EQ(g, 0.0) << x;  // flat past the clamp
      double out;
      lf->constrain(&x, &out);
      EXPECT_NEAR(out, std::exp(-20.0), 1e-12);
    }
  }
  double x = -750, g = 0;
  const double lp_far = ld->logp_grad(&x, &g);
  EXPECT_TRUE(std::isfinite(lp_far));
  EXPECT_EQ(g, 1.0);
  x = -760;
  EXPECT_EQ(ld->logp(&x), lp_far - 10);
  x = -150;
  const double lp = ld->logp_grad(&x, &g);
  EXPECT_TRUE(std::isfinite(lp));
  EXPECT_NEAR(g, 1.0, 1e-12);  // d/dx [x - 0.5 e^{2x} / 1e-12] with e^{2x} negligible
}

// The lift_glm pass changes the graph, not the density: with and without it the log density
// and gradient agree, and the fused model evaluates fewer nodes.
TEST(LiftGlm, FusedLikelihoodEqualsTheGraphOne) {
  const size_t N = 300, K = 4;  // more rows than one kernel block
  std::mt19937_64 rng(5);
  std::normal_distribution<double> nd;
  std::vector<double> X(N * K), yn(N), yb(N), off(N);
  for (auto& v : X) v = nd(rng);
  for (size_t i = 0; i < N; ++i) {
    yn[i] = nd(rng);
    yb[i] = nd(rng) > 0.3 ? 1.0 : 0.0;
    off[i] = 0.1 * nd(rng);
  }
  // 4 and 5: the same as `y ~ ...` terms on a data variate, as the Stan front end writes them;
  // 6 and 7: as `target += normal_lpdf(y | ...)` (a log-density node inside a potential, full
  // density, or _lupmf's dropped constants).
  for (int variant = 0; variant < 8; ++variant) {
    SCOPED_TRACE(variant);
    Model m;
    Expr Xd = m.data("X", X, {N, K});
    Expr beta = m.rv("beta", normal(), {0.0, 1.0}, {K});
    Expr alpha = m.rv("alpha", normal(), {0.0, 1.0});
    Expr sigma = m.rv("sigma", half_normal(), {1.0});
    if (variant == 0) m.observe("y", normal(), {alpha + graph::matvec(Xd, beta), sigma}, yn);
    if (variant == 1) m.observe("y", normal(), {graph::matvec(Xd, beta) + m.data("off", off, {N}), 0.7}, yn);
    if (variant == 2) m.observe("y", testing::bernoulli_logit(), {graph::matvec(Xd, beta) + alpha}, yb);
    if (variant == 3) m.observe("y", testing::bernoulli_logit(), {graph::matvec(Xd, beta)}, yb);
    if (variant == 4) m.add_lpdf(normal(), m.data("y", yn, {N}), {alpha + graph::matvec(Xd, beta), sigma}, "y");
    if (variant == 5)
      m.add_lpdf(testing::bernoulli_logit(), m.data("y", yb, {N}), {graph::matvec(Xd, beta) + alpha}, "y");
    if (variant == 6)
      m.potential(graph::dist_lpdf(normal(), {m.data("y", yn, {N}), alpha + graph::matvec(Xd, beta), sigma}, false));
    if (variant == 7)
      m.potential(0.5 * graph::dist_lpdf(testing::bernoulli_logit(), {m.data("y", yb, {N}), graph::matvec(Xd, beta)},
                                         true));
    for (bool propto : {true, false}) {
      CompileOptions on, off_opts;
      on.propto = off_opts.propto = propto;
      off_opts.lift_glm = false;
      auto a = m.compile<double>(on), b = m.compile<double>(off_opts);
      EXPECT_LT(a->nodes_per_gradient(), b->nodes_per_gradient());
      auto x = random_point(a->dim(), 31 + variant);
      std::vector<double> ga(x.size()), gb(x.size());
      const double la = a->logp_grad(x.data(), ga.data()), lb = b->logp_grad(x.data(), gb.data());
      EXPECT_NEAR(la, lb, 1e-10 * std::fabs(lb));
      for (size_t k = 0; k < x.size(); ++k) EXPECT_NEAR(ga[k], gb[k], 1e-9 * (1 + std::fabs(gb[k]))) << k;
      auto af = m.compile<float>(on);
      std::vector<double> gf(x.size());
      EXPECT_NEAR(af->logp_grad(x.data(), gf.data()), lb, 1e-5 * std::fabs(lb));
    }
  }
}

TEST(Builder, NoFreeVariablesIsAZeroDimensionalDensity) {
  Model m;
  Expr d = m.data("d", {1.0, 2.0}, {2});
  m.det("total", graph::sum(d));
  m.potential(graph::sum(d) * 0.5);
  auto ld = m.compile<double>();
  EXPECT_EQ(ld->dim(), 0u);
  double x = 0, g = 0, out = 0;  // x and g are not read or written at dimension 0
  EXPECT_DOUBLE_EQ(ld->logp_grad(&x, &g), 1.5);
  ld->constrain(&x, &out);
  EXPECT_DOUBLE_EQ(out, 3.0);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Errors, NameTheVariable) {
  // Negative scale in data.
  {
    Model m;
    Expr mu = m.rv("mu", normal(), {0.0, 1.0});
    m.observe("y", normal(), {mu, m.data("s", {1.0, -2.0}, {2})}, {0.1, 0.2});
    const std::string e = error_of([&] { m.compile<double>(); });
    EXPECT_NE(e.find("variable 'y'"), std::string::npos) << e;
    EXPECT_NE(e.find("sigma must be positive"), std::string::npos) << e;
  }
  // Wrong data shape.
  {
    Model m;
    Expr th = m.rv("theta", normal(), {0.0, 1.0}, {3});
    const std::string e = error_of([&] { m.observe("y", normal(), {th, 1.0}, {1, 2, 3, 4}); });
    EXPECT_NE(e.find("variable 'y'"), std::string::npos) << e;
    EXPECT_NE(e.find("'mu'"), std::string::npos) << e;
    EXPECT_NE(e.find("3 elements; expected 1 or 4"), std::string::npos) << e;
    const std::string e2 = error_of([&] { m.data("X", {1, 2, 3}, {2, 2}); });
    EXPECT_NE(e2.find("variable 'X'"), std::string::npos) << e2;
  }
  // Unknown variable reference.
  {
    Model m;
    m.rv("mu", normal(), {0.0, 1.0});
    const std::string e = error_of([&] { m.var("muu"); });
    EXPECT_EQ(e, "unknown variable 'muu'");
    const std::string e2 = error_of([&] { m.set_data("nope", {1.0}); });
    EXPECT_NE(e2.find("variable 'nope'"), std::string::npos) << e2;
  }
  // Unsupported transform for a shape: declared, and defaulted.
  {
    Model m;
    const std::string e = error_of([&] {
      m.rv("L", flat(), {}, {3, 2}, constraint(transform::Kind::kCholeskyCorr));
    });
    EXPECT_EQ(e, "variable 'L': cholesky_factor_corr needs a square matrix, got shape [3, 2]");
    Model m2;
    m2.rv("theta", dirichlet(), {1.0}, {});
    const std::string e2 = error_of([&] { m2.compile<double>(); });
    EXPECT_NE(e2.find("variable 'theta': simplex needs a vector"), std::string::npos) << e2;
  }
  // Discrete free variable; duplicate names; wrong arity; ncp on a non-normal.
  {
    Model m;
    EXPECT_NE(error_of([&] { m.rv("k", poisson(), {3.0}); }).find("variable 'k'"), std::string::npos);
    m.rv("a", normal(), {0.0, 1.0});
    EXPECT_NE(error_of([&] { m.rv("a", normal(), {0.0, 1.0}); }).find("variable 'a': declared twice"),
              std::string::npos);
    EXPECT_NE(error_of([&] { m.rv("c", normal(), {0.0}); }).find("normal takes 2 argument(s) (mu, sigma)"),
              std::string::npos);
    m.rv("h", half_normal(), {1.0}, {}, {}, Ncp::kOn);
    EXPECT_NE(error_of([&] { m.compile<double>(); }).find("variable 'h': non-centring"), std::string::npos);
  }
  // A shape error inside a graph op while lowering names the variable.
  {
    Model m;
    Expr loc = m.data("loc", {0, 0, 0, 0}, {2, 2});
    m.rv("w", normal(), {loc, 1.0}, {4}, {}, Ncp::kOff);
    Model m2;
    Expr mu = m2.rv("mu", normal(), {0.0, 1.0});
    Expr tau = m2.rv("tau", half_normal(), {1.0});
    m2.rv("w", normal(), {mu + m2.data("loc", {0, 0, 0, 0}, {2, 2}), tau}, {4});
    const std::string e = error_of([&] { m2.compile<double>(); });
    EXPECT_NE(e.find("variable 'w'"), std::string::npos) << e;
  }
  // A declared transform that leaves the support.
  {
    Model m;
    m.rv("s", half_normal(), {1.0}, {}, unconstrained());
    const std::string e = error_of([&] { m.compile<double>(); });
    EXPECT_EQ(e, "variable 's': the support of half_normal is bounded, but the declared transform identity maps "
                 "onto all reals");
  }
  // Bounds of the wrong size.
  {
    Model m;
    Expr lo = m.data("lo", {0, 1}, {2});
    EXPECT_NE(error_of([&] { m.rv("v", flat(), {}, {3}, lower(lo)); }).find("variable 'v': lower bound has 2"),
              std::string::npos);
  }
}

// The sampler names variables in its errors through unconstrained_names(): one flat element name
// per coordinate, the variable's name for coordinates of a non-elementwise transform, and none
// of the deterministics (which make the outputs longer than the coordinates).
TEST(Outputs, UnconstrainedNamesFollowTheFreeVariables) {
  for (Ncp ncp : {Ncp::kOff, Ncp::kOn}) {
    Model m;
    build_eight_schools(m, ncp);
    auto ld = m.compile<double>();
    std::vector<std::string> want = {"mu", "tau"};
    for (int j = 1; j <= 8; ++j) want.push_back("theta." + std::to_string(j));
    EXPECT_EQ(ld->unconstrained_names(), want);
  }
  Model s;
  Expr mu = s.rv("mu", normal(), {0.0, 1.0});
  Expr th = s.rv("theta", dirichlet(), {s.data("alpha", {2.0, 3.0, 4.0}, {3})}, {3});
  s.observe("counts", poisson(), {20.0 * th + mu * mu}, {4, 6, 9});
  auto ld = s.compile<double>();
  ASSERT_EQ(ld->dim(), 3u);
  EXPECT_EQ(ld->unconstrained_names(), (std::vector<std::string>{"mu", "theta", "theta"}));
}

}  // namespace
}  // namespace exmc::model
