// Truncation, censoring and mixtures through the builder: compiled densities against hand-
// written ones (transforms and Jacobians included), finite-difference gradients of the
// compiled log density, rejection (-inf) for parameter-dependent bounds, and errors that name
// the variable.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <boost/math/distributions.hpp>

#include "exmc/dist/kernel.hpp"
#include "exmc/dist/wrappers.hpp"
#include "exmc/model/model.hpp"

#include "../support/alloc_counter.hpp"

using exmc::test_support::allocations;

namespace exmc::model {
namespace {

namespace bm = boost::math;
constexpr double kInf = std::numeric_limits<double>::infinity();

double lnorm(double y, double mu, double s) { return std::log(bm::pdf(bm::normal(mu, s), y)); }
double Phi(double y, double mu, double s) { return bm::cdf(bm::normal(mu, s), y); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// The compiled gradient against central differences of the compiled log density.
void check_grad(const graph::CompiledDensity& ld, std::vector<double> x) {
  std::vector<double> g(x.size());
  const double lp = ld.logp_grad(x.data(), g.data());
  ASSERT_TRUE(std::isfinite(lp));
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<double> p = x, m = x;
    const double h = 1e-6;
    p[i] += h;
    m[i] -= h;
    const double fd = (ld.logp(p.data()) - ld.logp(m.data())) / (2 * h);
    EXPECT_NEAR(g[i], fd, 1e-6 * std::max(1.0, std::fabs(fd))) << "coordinate " << i;
  }
}

const std::vector<double> kY = {0.4, 1.2, -0.3, 2.1};

TEST(Truncation, LpdfTermWithAParameterDependentBound) {
  Model m;
  Expr mu = m.rv("mu", "normal", {0.0, 5.0});
  Expr sigma = m.rv("sigma", "half_normal", {1.0});
  Expr lo = m.rv("lo", "normal", {-1.0, 1.0});
  Expr y = m.data("y", kY, {4});
  m.add_truncated_lpdf("normal", y, {mu, sigma}, lo, 3.0, "y_trunc");
  CompileOptions co;
  co.propto = false;
  auto ld = m.compile<double>(co);
  ASSERT_EQ(ld->dim(), 3u);
  const std::vector<double> x = {0.3, std::log(0.9), -1.2};
  const double s = 0.9, l = -1.2;
  double want = lnorm(0.3, 0, 5) + std::log(2 * bm::pdf(bm::normal(0, 1), s)) + std::log(s) + lnorm(l, -1, 1);
  for (double v : kY) want += lnorm(v, 0.3, s) - std::log(Phi(3.0, 0.3, s) - Phi(l, 0.3, s));
  EXPECT_NEAR(ld->logp(x.data()), want, 1e-10);
  check_grad(*ld, x);
  // The bound above an observation is a rejection, not an exception.
  const std::vector<double> bad = {0.3, std::log(0.9), 0.0};
  EXPECT_EQ(ld->logp(bad.data()), -kInf);
}

TEST(Truncation, ObservedWithTruncateOptionAndOneBound) {
  Model m;
  Expr mu = m.rv("mu", "normal", {0.0, 5.0});
  ObserveOptions o;
  o.truncate.lower = 0.0;
  m.observe("y", "normal", {mu, 2.0}, {0.5, 1.5, 3.0}, {}, o);
  CompileOptions co;
  co.propto = false;
  auto ld = m.compile<double>(co);
  const std::vector<double> x = {0.7};
  double want = lnorm(0.7, 0, 5);
  for (double v : {0.5, 1.5, 3.0}) want += lnorm(v, 0.7, 2.0) - std::log(1 - Phi(0.0, 0.7, 2.0));
  EXPECT_NEAR(ld->logp(x.data()), want, 1e-10);
  check_grad(*ld, x);
  // propto (the default) keeps the normaliser, which depends on mu.
  auto lp = m.compile<double>();
  const std::vector<double> x2 = {-0.4};
  double diff = 0;
  for (double v : {0.5, 1.5, 3.0}) diff -= std::log(1 - Phi(0.0, -0.4, 2.0)) - std::log(1 - Phi(0.0, 0.7, 2.0));
  EXPECT_NEAR(lp->logp(x2.data()) - lp->logp(x.data()),
              diff + (lnorm(-0.4, 0, 5) - lnorm(0.7, 0, 5)) +
                  [&] {
                    double d = 0;
                    for (double v : {0.5, 1.5, 3.0}) d += lnorm(v, -0.4, 2.0) - lnorm(v, 0.7, 2.0);
                    return d;
                  }(),
              1e-10);
}

TEST(Truncation, TruncatedRvGetsTheBoundedTransform) {
  Model m;
  Expr mu = m.rv("mu", "normal", {0.0, 1.0});
  m.truncated_rv("x", "normal", {mu, 1.5}, 0.0, 2.0, {2});
  CompileOptions co;
  co.propto = false;
  auto ld = m.compile<double>(co);
  ASSERT_EQ(ld->dim(), 3u);
  const std::vector<double> x = {0.2, -0.7, 1.9};
  std::vector<double> out(3);
  ld->constrain(x.data(), out.data());
  double want = lnorm(0.2, 0, 1);
  for (size_t i = 0; i < 2; ++i) {
    const double u = x[1 + i], p = 1 / (1 + std::exp(-u)), v = 2 * p;
    EXPECT_NEAR(out[1 + i], v, 1e-14);
    want += lnorm(v, 0.2, 1.5) - std::log(Phi(2.0, 0.2, 1.5) - Phi(0.0, 0.2, 1.5)) + std::log(2 * p * (1 - p));
  }
  EXPECT_NEAR(ld->logp(x.data()), want, 1e-10);
  check_grad(*ld, x);
  // A one-sided truncation of a positive family keeps the support's own lower bound.
  Model m2;
  m2.truncated_rv("z", "lognormal", {0.0, 1.0}, std::nullopt, 4.0);
  auto ld2 = m2.compile<double>();
  for (double u : {-30.0, 0.0, 30.0}) {
    double z;
    ld2->constrain(&u, &z);
    EXPECT_GE(z, 0.0);
    EXPECT_LE(z, 4.0);
  }
}

TEST(Censoring, ObservedValuesAtTheBoundsUseTheTailProbabilities) {
  Model m;
  Expr mu = m.rv("mu", "normal", {0.0, 5.0});
  Expr s = m.rv("s", "half_normal", {2.0});
  ObserveOptions o;
  o.censor.lower = -1.0;
  o.censor.upper = 2.0;
  const std::vector<double> ys = {-1.0, 0.3, 2.0, 2.0, 1.1, -3.0};
  m.observe("y", "normal", {mu, s}, ys, {}, o);
  CompileOptions co;
  co.propto = false;
  auto ld = m.compile<double>(co);
  const std::vector<double> x = {0.4, std::log(1.3)};
  const double sd = 1.3;
  double want = lnorm(0.4, 0, 5) + std::log(2 * bm::pdf(bm::normal(0, 2), sd)) + std::log(sd);
  for (double v : ys) {
    if (v <= -1.0) want += std::log(Phi(-1.0, 0.4, sd));
    else if (v >= 2.0) want += std::log(1 - Phi(2.0, 0.4, sd));
    else want += lnorm(v, 0.4, sd);
  }
  EXPECT_NEAR(ld->logp(x.data()), want, 1e-10);
  check_grad(*ld, x);
}

TEST(Mixture, TwoComponentObservationMatchesTheClosedForm) {
  Model m;
  Expr w = m.rv("w", "dirichlet", {m.data("alpha", {1.0, 1.0}, {2})}, {2});
  Expr mu = m.rv("mu", "normal", {0.0, 5.0});
  const dist::DistInfo& mix = dist::mixture({dist::find_dist("normal"), dist::find_dist("gamma")});
  const std::vector<double> ys = {0.5, 2.0, 3.5};
  m.observe("y", mix, {w, mu, 1.0, 2.0, 1.5}, ys);
  CompileOptions co;
  co.propto = false;
  auto ld = m.compile<double>(co);
  ASSERT_EQ(ld->dim(), 2u);
  const std::vector<double> x = {0.3, 1.1};
  std::vector<double> out(3);
  ld->constrain(x.data(), out.data());
  const double w1 = out[0], w2 = out[1];
  EXPECT_NEAR(w1 + w2, 1.0, 1e-14);
  double lik = 0;
  for (double v : ys)
    lik += std::log(w1 * bm::pdf(bm::normal(1.1, 1.0), v) + w2 * bm::pdf(bm::gamma_distribution<>(2.0, 1 / 1.5), v));
  // Subtract the prior terms, evaluated by their own one-variable models' difference.
  Model prior;
  prior.rv("w", "dirichlet", {prior.data("alpha", {1.0, 1.0}, {2})}, {2});
  prior.rv("mu", "normal", {0.0, 5.0});
  auto lp0 = prior.compile<double>(co);
  EXPECT_NEAR(ld->logp(x.data()) - lp0->logp(x.data()), lik, 1e-10);
  check_grad(*ld, x);
}

TEST(Wrappers, NoAllocationPerGradientOnceWarm) {
  Model m;
  Expr mu = m.rv("mu", "normal", {0.0, 5.0});
  Expr lo = m.rv("lo", "normal", {-3.0, 1.0});
  std::vector<double> ys(50);
  for (size_t i = 0; i < ys.size(); ++i) ys[i] = 0.05 * double(i);
  ObserveOptions t;
  t.truncate.lower = lo;  // per-element normaliser path needs vector args: use a vector mu
  m.observe("y", "normal", {mu + m.data("off", ys, {50}), 1.0}, ys, {}, t);
  ObserveOptions c;
  c.censor.upper = 1.0;
  m.observe("z", "normal", {mu, 1.0}, ys, {}, c);
  Expr w = m.rv("w", "dirichlet", {m.data("a", {1.0, 1.0}, {2})}, {2});
  m.observe("v", dist::mixture({dist::find_dist("normal"), dist::find_dist("normal")}), {w, mu, 1.0, 2.0, 1.0}, ys);
  for (bool f32 : {false, true}) {
    auto ld = f32 ? m.compile<float>() : m.compile<double>();
    std::vector<double> x(ld->dim(), -0.5), g(ld->dim());
    x[1] = -4;
    ASSERT_TRUE(std::isfinite(ld->logp_grad(x.data(), g.data())));
    const long before = allocations();
    double s = 0;
    for (int i = 0; i < 20; ++i) {
      x[0] = 0.01 * i;
      s += ld->logp_grad(x.data(), g.data());
    }
    EXPECT_EQ(allocations() - before, 0) << (f32 ? "f32" : "f64");
    EXPECT_TRUE(std::isfinite(s));
  }
}

TEST(Errors, BoundedFamiliesNameTheVariable) {
  {  // Data outside the truncation interval.
    Model m;
    Expr mu = m.rv("mu", "normal", {0.0, 1.0});
    ObserveOptions o;
    o.truncate.upper = 1.0;
    m.observe("y", "normal", {mu, 1.0}, {0.5, 1.5}, {}, o);
    const std::string e = error_of([&] { m.compile<double>(); });
    EXPECT_EQ(e, "variable 'y': truncated(normal): y must lie in the truncation interval [-inf, 1], found 1.5 at "
                 "index 2");
  }
  {  // A family without a cdf.
    Model m;
    Expr mu = m.rv("mu", "normal", {0.0, 1.0});
    const std::string e =
        error_of([&] { m.add_truncated_lpdf("von_mises", mu, {0.0, 1.0}, -1.0, 1.0, "angle"); });
    EXPECT_NE(e.find("variable 'angle': truncated(von_mises): von_mises has no log cdf"), std::string::npos) << e;
    ObserveOptions o;
    o.censor.lower = 0.0;
    const std::string e2 = error_of([&] { m.observe("k", "von_mises", {mu, 1.0}, {0.1}, {}, o); });
    EXPECT_NE(e2.find("variable 'k': censored(von_mises)"), std::string::npos) << e2;
  }
  {  // Both truncated and censored; lower above upper as data; bounds of the wrong length.
    Model m;
    Expr mu = m.rv("mu", "normal", {0.0, 1.0});
    ObserveOptions o;
    o.truncate.lower = 0.0;
    o.censor.upper = 1.0;
    EXPECT_EQ(error_of([&] { m.observe("y", "normal", {mu, 1.0}, {0.5}, {}, o); }),
              "variable 'y': an observation cannot be both truncated and censored");
    ObserveOptions o2;
    o2.truncate = {Arg(2.0), Arg(1.0)};
    m.observe("y2", "normal", {mu, 1.0}, {1.5}, {}, o2);
    EXPECT_NE(error_of([&] { m.compile<double>(); }).find("variable 'y2'"), std::string::npos);
    Model m3;
    Expr mu3 = m3.rv("mu", "normal", {0.0, 1.0});
    ObserveOptions o3;
    o3.truncate.lower = m3.data("lo", {0.0, 0.0}, {2});
    const std::string e3 = error_of([&] { m3.observe("y", "normal", {mu3, 1.0}, {0.5, 1.0, 2.0}, {}, o3); });
    EXPECT_NE(e3.find("variable 'y': argument 'lower' of truncated(normal) has 2 elements; expected 1 or 3"),
              std::string::npos)
        << e3;
  }
}

// An f32 density clamps a log-type coordinate at +-20 (guards.hpp): a value given at or within
// exp(-20) of a bound starts there, where the f32 density still has a gradient, not at the
// double inverse's log (-27.6 for 1e-12, -700 on the bound), where it is flat (the chain drifted
// and failed: "non-finite variance ... improper"). An element without a bound is not clamped.
TEST(Precision, AnF32DensityUnconstrainsWithItsOwnClamp) {
  Model m;
  m.rv("sigma", "normal", {0.0, 1.0}, {}, lower(0.0));
  m.rv("d", "normal", {0.0, 1.0}, {2}, lower(m.data("d_lower", {-kInf, 1.0}, {2})));
  auto f32 = m.compile<float>();
  auto f64 = m.compile<double>();
  std::vector<double> x(3);
  std::string err;
  for (double sigma : {1e-12, 0.0}) {
    const std::vector<std::pair<std::string, std::vector<double>>> given = {{"sigma", {sigma}}, {"d", {50.0, 1.0}}};
    ASSERT_TRUE(f32->unconstrain(given, x.data(), &err)) << err;
    EXPECT_EQ(x[0], -20.0) << sigma;
    EXPECT_EQ(x[1], 50.0);  // lower = -inf: identity
    EXPECT_EQ(x[2], -20.0);
    std::vector<double> g(3);
    ASSERT_TRUE(std::isfinite(f32->logp_grad(x.data(), g.data())));
    EXPECT_NE(g[0], 0.0);  // inside the clamp: the density has a slope there
    ASSERT_TRUE(f64->unconstrain(given, x.data(), &err)) << err;
    EXPECT_NEAR(x[0], sigma > 0 ? std::log(sigma) : -700.0, 1e-12);
  }
  const std::vector<std::pair<std::string, std::vector<double>>> ordinary = {{"sigma", {0.5}}, {"d", {-3.0, 2.0}}};
  ASSERT_TRUE(f32->unconstrain(ordinary, x.data(), &err)) << err;
  EXPECT_NEAR(x[0], std::log(0.5), 1e-7);
  EXPECT_NEAR(x[1], -3.0, 1e-7);
  EXPECT_NEAR(x[2], 0.0, 1e-7);
}

}  // namespace
}  // namespace exmc::model
