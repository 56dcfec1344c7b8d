// truncated / censored / mixture against closed forms built from Boost.Math, with
// finite-difference gradients in every argument (parameter-dependent bounds included), float
// kernels, propto, rejection (-inf) cases, validation messages and draws.
#include "exmc/dist/wrappers.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <boost/math/distributions.hpp>

#include "exmc/core/rng.hpp"

namespace exmc::dist {
namespace {

namespace bm = boost::math;
constexpr double kInf = std::numeric_limits<double>::infinity();
using Vals = std::vector<std::vector<double>>;

const DistInfo& fam(const char* n) {
  const DistInfo* d = find_dist(n);
  EXPECT_NE(d, nullptr) << n;
  return *d;
}

double rel_err(double a, double b) {
  if (a == b) return 0;
  return std::fabs(a - b) / std::max(1.0, std::fabs(b));
}

// Every argument a parameter with a gradient unless `data` has its bit set.
template <class T = double>
double eval(const DistInfo& d, const Vals& v, bool propto, Vals* grads = nullptr, unsigned data = 0) {
  std::vector<Arg<T>> a(v.size());
  std::vector<std::vector<T>> vt(v.size()), gt(v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    vt[k].assign(v[k].begin(), v[k].end());
    gt[k].assign(v[k].size(), T(0));
    a[k].val = vt[k].data();
    a[k].size = v[k].size();
    a[k].is_param = !((data >> k) & 1u);
    if (grads && a[k].is_param) a[k].grad = gt[k].data();
  }
  double lp;
  if constexpr (std::is_same_v<T, double>) lp = d.lpdf_f64(a.data(), propto);
  else lp = d.lpdf_f32(a.data(), propto);
  if (grads) {
    grads->assign(v.size(), {});
    for (size_t k = 0; k < v.size(); ++k) (*grads)[k].assign(gt[k].begin(), gt[k].end());
  }
  return lp;
}

// Central differences against the analytic partials of every argument except those in `skip`.
void check_grads(const DistInfo& d, const Vals& v, unsigned skip = 0, double tol = 1e-6) {
  Vals g;
  const double lp = eval(d, v, false, &g);
  ASSERT_TRUE(std::isfinite(lp)) << d.name;
  for (size_t k = 0; k < v.size(); ++k) {
    if ((skip >> k) & 1u) continue;
    for (size_t i = 0; i < v[k].size(); ++i) {
      Vals p = v, m = v;
      const double h = 1e-6 * std::max(1.0, std::fabs(v[k][i]));
      p[k][i] += h;
      m[k][i] -= h;
      const double fd = (eval(d, p, false) - eval(d, m, false)) / (2 * h);
      EXPECT_LE(rel_err(g[k][i], fd), tol) << d.name << " argument " << d.arg_names[k] << "[" << i << "]";
    }
  }
}

double normal_lpdf(double y, double mu, double s) {
  const double z = (y - mu) / s;
  return -0.5 * z * z - std::log(s) - 0.5 * std::log(2 * M_PI);
}

// w is a simplex: its partials are checked along directions that stay on it, e_a - e_b.
void check_simplex_grads(const DistInfo& d, const Vals& v, size_t wk) {
  Vals g;
  eval(d, v, false, &g);
  for (size_t a = 0; a + 1 < v[wk].size(); ++a) {
    Vals p = v, m = v;
    const double h = 1e-6;
    p[wk][a] += h, p[wk][a + 1] -= h;
    m[wk][a] -= h, m[wk][a + 1] += h;
    const double fd = (eval(d, p, false) - eval(d, m, false)) / (2 * h);
    EXPECT_LE(rel_err(g[wk][a] - g[wk][a + 1], fd), 1e-6) << d.name << " w direction " << a;
  }
}

// ---- truncation ----

TEST(Truncated, NormalMatchesClosedFormWithVectorArgumentsAndBounds) {
  const DistInfo& t = truncated(fam("normal"), true, true);
  EXPECT_EQ(t.name, "truncated(normal)");
  ASSERT_EQ(t.arg_names.size(), 5u);
  EXPECT_EQ(t.arg_names[3], "lower");
  EXPECT_EQ(t.arg_names[4], "upper");
  const Vals v = {{0.3, -0.5, 1.7}, {0.1, -0.2, 1.0}, {1.3, 0.7, 2.0}, {-1.0, -2.0, 0.5}, {2.0, 0.0, 3.0}};
  double want = 0;
  for (size_t i = 0; i < 3; ++i) {
    bm::normal n(v[1][i], v[2][i]);
    want += normal_lpdf(v[0][i], v[1][i], v[2][i]) - std::log(bm::cdf(n, v[4][i]) - bm::cdf(n, v[3][i]));
  }
  EXPECT_LE(rel_err(eval(t, v, false), want), 1e-12);
  check_grads(t, v);
  // Scalar parameters and bounds broadcast against a vector y (the shared-normaliser path).
  const Vals s = {{0.3, -0.5, 1.7}, {0.1}, {1.3}, {-1.0}, {2.0}};
  bm::normal n(0.1, 1.3);
  want = -3 * std::log(bm::cdf(n, 2.0) - bm::cdf(n, -1.0));
  for (double y : s[0]) want += normal_lpdf(y, 0.1, 1.3);
  EXPECT_LE(rel_err(eval(t, s, false), want), 1e-12);
  check_grads(t, s);
}

TEST(Truncated, OneSidedBoundsUseTheTailProbability) {
  const DistInfo& lo = truncated(fam("normal"), true, false);
  const DistInfo& hi = truncated(fam("normal"), false, true);
  ASSERT_EQ(lo.arg_names.size(), 4u);
  EXPECT_EQ(lo.arg_names[3], "lower");
  EXPECT_EQ(hi.arg_names[3], "upper");
  bm::normal n(0.5, 2.0);
  const double y = 1.1;
  EXPECT_LE(rel_err(eval(lo, {{y}, {0.5}, {2.0}, {0.2}}, false),
                    normal_lpdf(y, 0.5, 2.0) - std::log(bm::cdf(bm::complement(n, 0.2)))),
            1e-12);
  EXPECT_LE(rel_err(eval(hi, {{y}, {0.5}, {2.0}, {1.5}}, false), normal_lpdf(y, 0.5, 2.0) - std::log(bm::cdf(n, 1.5))),
            1e-12);
  check_grads(lo, {{y, 3.0}, {0.5}, {2.0}, {0.2}});
  check_grads(hi, {{y, -3.0}, {0.5}, {2.0}, {1.5}});
  // A half-normal as normal(0, s) T[0, ]: the normaliser is log(1/2).
  EXPECT_LE(rel_err(eval(lo, {{0.7}, {0.0}, {1.5}, {0.0}}, false),
                    std::log(bm::pdf(bm::normal(0, 1.5), 0.7)) + std::log(2.0)),
            1e-14);
}

TEST(Truncated, FarUpperTailStaysAccurate) {
  // N(0,1) on [8, 9]: F(9) - F(8) cancels to nothing in double, the survival form does not.
  const DistInfo& t = truncated(fam("normal"), true, true);
  bm::normal n(0, 1);
  const double mass = bm::cdf(bm::complement(n, 8.0)) - bm::cdf(bm::complement(n, 9.0));
  const double want = normal_lpdf(8.5, 0, 1) - std::log(mass);
  EXPECT_LE(rel_err(eval(t, {{8.5}, {0.0}, {1.0}, {8.0}, {9.0}}, false), want), 1e-10);
  check_grads(t, {{8.5}, {0.0}, {1.0}, {8.0}, {9.0}}, 0, 1e-5);
  // And the far lower tail through the cdf form.
  const double want2 = normal_lpdf(-8.5, 0, 1) - std::log(bm::cdf(n, -8.0) - bm::cdf(n, -9.0));
  EXPECT_LE(rel_err(eval(t, {{-8.5}, {0.0}, {1.0}, {-9.0}, {-8.0}}, false), want2), 1e-10);
}

TEST(Truncated, BoundsOutsideTheSupportAndFloat) {
  // lognormal T[0, 3]: the lower bound lies on the support's edge, F(0) = 0.
  const DistInfo& t = truncated(fam("lognormal"), true, true);
  bm::lognormal ln(0.2, 0.8);
  const double want = std::log(bm::pdf(ln, 1.1)) - std::log(bm::cdf(ln, 3.0));
  EXPECT_LE(rel_err(eval(t, {{1.1}, {0.2}, {0.8}, {0.0}, {3.0}}, false), want), 1e-12);
  check_grads(t, {{1.1}, {0.2}, {0.8}, {-1.0}, {3.0}}, 1u << 3);
  // Float kernels agree with double at float-rounded inputs.
  const Vals v = {{0.5f, 1.25f}, {0.25f}, {0.75f}, {0.125f}, {4.0f}};
  Vals gd, gf;
  const double ld = eval<double>(t, v, false, &gd), lf = eval<float>(t, v, false, &gf);
  EXPECT_LE(rel_err(lf, ld), 1e-6);
  for (size_t k = 0; k < v.size(); ++k)
    for (size_t i = 0; i < v[k].size(); ++i) EXPECT_LE(rel_err(gf[k][i], gd[k][i]), 1e-5) << k;
}

TEST(Truncated, OutsideTheIntervalIsMinusInfinityWithGradientsUntouched) {
  const DistInfo& t = truncated(fam("normal"), true, true);
  Vals g;
  EXPECT_EQ(eval(t, {{0.3, 2.5}, {0.0}, {1.0}, {-1.0}, {2.0}}, false, &g), -kInf);
  for (const auto& gk : g)
    for (double x : gk) EXPECT_EQ(x, 0.0);
  EXPECT_EQ(eval(t, {{0.3}, {0.0}, {1.0}, {1.0}, {0.5}}, false), -kInf);   // lower > upper
  EXPECT_EQ(eval(t, {{0.3}, {0.0}, {-1.0}, {-1.0}, {2.0}}, false), -kInf);  // sigma < 0
  // A continuous family on a single point has no mass.
  EXPECT_EQ(eval(t, {{0.5}, {0.0}, {1.0}, {0.5}, {0.5}}, false), -kInf);
}

TEST(Truncated, ExtremeTailFollowsTheAsymptotics) {
  // N(0,1) on [39, 41] at 40: the mass is S(39) ~ phi(39) / 39 (1 - 1/39^2 + ...), far below
  // the smallest double, yet the log density is ordinary.
  const DistInfo& t = truncated(fam("normal"), true, true);
  const double want = -0.5 * (40.0 * 40 - 39.0 * 39) + std::log(39.0) - std::log1p(-1 / (39.0 * 39) + 3 / std::pow(39.0, 4));
  EXPECT_NEAR(eval(t, {{40.0}, {0.0}, {1.0}, {39.0}, {41.0}}, false), want, 1e-7);
}

TEST(Truncated, ProptoDropsADataOnlyNormaliser) {
  const DistInfo& t = truncated(fam("normal"), true, true);
  const Vals v = {{0.3}, {0.1}, {1.3}, {-1.0}, {2.0}};
  // Only y a parameter: the normaliser is constant.
  const double full = eval(t, v, false, nullptr, ~1u), prop = eval(t, v, true, nullptr, ~1u);
  EXPECT_LE(rel_err(full - prop, -0.5 * std::log(2 * M_PI) - std::log(1.3) -
                                     std::log(bm::cdf(bm::normal(0.1, 1.3), 2.0) - bm::cdf(bm::normal(0.1, 1.3), -1.0))),
            1e-12);
  // A parameter-dependent bound keeps it.
  const double prop2 = eval(t, v, true, nullptr, ~(1u | 8u));
  EXPECT_NE(prop, prop2);
}

TEST(Truncated, ValidationNamesTheProblem) {
  const DistInfo& t = truncated(fam("normal"), true, true);
  auto msg = [&](const Vals& v, unsigned data) {
    std::vector<Arg<double>> a(v.size());
    for (size_t k = 0; k < v.size(); ++k) {
      a[k].val = v[k].data();
      a[k].size = v[k].size();
      a[k].is_param = !((data >> k) & 1u);
    }
    return t.validate(a.data());
  };
  EXPECT_EQ(msg({{0.5, 3.0}, {0.0}, {1.0}, {0.0}, {2.0}}, ~0u),
            "y must lie in the truncation interval [0, 2], found 3 at index 2");
  EXPECT_EQ(msg({{0.5}, {0.0}, {1.0}, {2.0}, {1.0}}, ~0u), "lower must be less than upper, found lower 2 and upper 1 at index 1");
  EXPECT_EQ(msg({{0.5}, {0.0}, {-1.0}, {0.0}, {2.0}}, ~0u), "sigma must be positive and finite, found -1 at index 1");
  EXPECT_EQ(msg({{0.5, 3.0}, {0.0}, {1.0}, {0.0}, {2.0}}, ~1u), "");  // y a parameter: checked at run time
  try {
    truncated(fam("von_mises"), true, false);
    ADD_FAILURE() << "von_mises has no cdf";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("von_mises has no log cdf"), std::string::npos) << e.what();
  }
  EXPECT_THROW(truncated(fam("normal"), false, false), std::invalid_argument);
  EXPECT_THROW(truncated(fam("multi_normal"), true, false), std::invalid_argument);
  EXPECT_EQ(&truncated(fam("normal"), true, true), &t);  // cached
}

TEST(Truncated, DrawsStayInsideAndMatchTheTruncatedMean) {
  const DistInfo& t = truncated(fam("normal"), true, true);
  Rng r(7, 1);
  const size_t n = 20000;
  std::vector<double> out(n), mu = {0.5}, s = {1.0}, lo = {0.0}, hi = {1.0};
  std::vector<Arg<double>> a(5);
  a[0].size = n;
  a[1].val = mu.data();
  a[2].val = s.data();
  a[3].val = lo.data();
  a[4].val = hi.data();
  t.rng(a.data(), r, out.data());
  double m = 0;
  for (double y : out) {
    ASSERT_GE(y, 0.0);
    ASSERT_LE(y, 1.0);
    m += y / n;
  }
  // Symmetric about 0.5; sd of a draw < 0.3, so the mean's MCSE < 0.003.
  EXPECT_NEAR(m, 0.5, 5 * 0.3 / std::sqrt(double(n)));
}

}  // namespace
}  // namespace exmc::dist

namespace exmc::dist {
namespace {

// ---- censoring ----

TEST(Censored, EachElementTakesTheDensityOrTheTailProbability) {
  const DistInfo& c = censored(fam("normal"), true, true);
  EXPECT_EQ(c.name, "censored(normal)");
  // Elements below, on, inside and above the bounds; per-element bounds.
  const Vals v = {{-2.0, -1.0, 0.3, 1.5, 4.0}, {0.2}, {1.1}, {-1.0, -1.0, -1.0, -0.5, -1.0}, {1.5, 2.0, 2.0, 1.5, 3.0}};
  double want = 0;
  for (size_t i = 0; i < 5; ++i) {
    bm::normal n(0.2, 1.1);
    const double y = v[0][i], l = v[3][i], u = v[4][i];
    want += y <= l ? std::log(bm::cdf(n, l)) : y >= u ? std::log(bm::cdf(bm::complement(n, u))) : normal_lpdf(y, 0.2, 1.1);
  }
  EXPECT_LE(rel_err(eval(c, v, false), want), 1e-12);
  // FD across a bound is a jump, so y and bounds touching an element are left to v2.
  check_grads(c, v, 1u | 8u | 16u);
  check_grads(c, {{-2.0, 0.3, 4.0}, {0.2}, {1.1}, {-1.0}, {2.0}}, 1u);
  Vals g;
  eval(c, v, false, &g);
  EXPECT_EQ(g[0][0], 0.0);
  EXPECT_EQ(g[0][3], 0.0);
  EXPECT_NE(g[0][2], 0.0);
  // Nothing censored: exactly the base density, propto included.
  const Vals inside = {{0.1, 0.4}, {0.2}, {1.1}, {-1.0}, {2.0}};
  Vals base = inside;
  base.resize(3);
  EXPECT_EQ(eval(c, inside, true, nullptr, 1u), eval(fam("normal"), base, true, nullptr, 1u));
}

TEST(Censored, CountsUseTheUpperTailFromTheBound) {
  const DistInfo& c = censored(fam("poisson"), false, true);
  bm::poisson_distribution<> p(3.5);
  // P(Y >= 6) for y = 6 and y = 9 (censored at 6), the mass at 2.
  const double want = 2 * std::log(bm::cdf(bm::complement(p, 5.0))) + std::log(bm::pdf(p, 2.0));
  EXPECT_LE(rel_err(eval(c, {{6, 9, 2}, {3.5}, {6}}, false, nullptr, 1u | 4u), want), 1e-12);
}

TEST(Censored, DetectionLimitOnTheSupportEdgeIsValid) {
  // lognormal with values censored at 0.5, some reported as 0 (below the limit).
  const DistInfo& c = censored(fam("lognormal"), true, false);
  std::vector<double> y = {0.0, 0.7}, mu = {0.1}, s = {0.9}, lo = {0.5};
  std::vector<Arg<double>> a(4);
  for (auto [k, v] : {std::pair{0, &y}, {1, &mu}, {2, &s}, {3, &lo}}) {
    a[size_t(k)].val = v->data();
    a[size_t(k)].size = v->size();
  }
  EXPECT_EQ(c.validate(a.data()), "");
  lo = {-1.0};  // -0.5 is then uncensored and must be in the support
  y = {-2.0, -0.5};
  EXPECT_EQ(c.validate(a.data()), "y must be in the support of lognormal (or censored), found -0.5 at index 2");
  lo = {0.5};
  bm::lognormal ln(0.1, 0.9);
  y = {0.0, 0.7};
  EXPECT_LE(rel_err(eval(c, {{0.0, 0.7}, {0.1}, {0.9}, {0.5}}, false), std::log(bm::cdf(ln, 0.5)) + std::log(bm::pdf(ln, 0.7))),
            1e-12);
}

// ---- mixtures ----

TEST(Mixture, NormalGammaMatchesTheClosedFormAndGradients) {
  const DistInfo& m = mixture({&fam("normal"), &fam("gamma")});
  EXPECT_EQ(m.name, "mixture(normal, gamma)");
  ASSERT_EQ(m.arg_names.size(), 6u);
  EXPECT_EQ(m.arg_names[2], "mu_1");
  EXPECT_EQ(m.arg_names[5], "beta_2");
  const Vals v = {{0.5, 2.0, 3.5, -0.2}, {0.3, 0.7}, {1.1, 0.9, 1.0, 1.2}, {1.0}, {2.0}, {1.5}};
  double want = 0;
  for (size_t i = 0; i < 4; ++i) {
    const double y = v[0][i];
    const double pg = y > 0 ? bm::pdf(bm::gamma_distribution<>(2.0, 1 / 1.5), y) : 0.0;
    want += std::log(0.3 * bm::pdf(bm::normal(v[2][i], 1.0), y) + 0.7 * pg);
  }
  EXPECT_LE(rel_err(eval(m, v, false), want), 1e-12);
  check_grads(m, v, 2u);
  check_simplex_grads(m, v, 1);
  // propto with only data is 0; any parameter keeps every term (no constant to drop).
  EXPECT_EQ(eval(m, v, true, nullptr, ~0u), 0.0);
  EXPECT_EQ(eval(m, v, true, nullptr, ~4u), eval(m, v, false));
  // Float.
  Vals gd, gf;
  const double ld = eval<double>(m, v, false, &gd), lf = eval<float>(m, v, false, &gf);
  EXPECT_LE(rel_err(lf, ld), 1e-5);
}

TEST(Mixture, EqualComponentsReduceToOneAndFarTailsStayFinite) {
  const DistInfo& m = mixture({&fam("normal"), &fam("normal")});
  EXPECT_LE(rel_err(eval(m, {{0.4}, {0.25, 0.75}, {1.0}, {2.0}, {1.0}, {2.0}}, false), normal_lpdf(0.4, 1.0, 2.0)),
            1e-14);
  // 60 sigmas from both components: exp underflows, log_sum_exp does not.
  const double lp = eval(m, {{-120.0}, {0.5, 0.5}, {0.0}, {1.0}, {1.0}, {1.0}}, false);
  EXPECT_LE(rel_err(lp, std::log(0.5) + normal_lpdf(-120, 0, 1) + std::log1p(std::exp(-120.5))), 1e-12);
  check_grads(m, {{-30.0}, {0.5, 0.5}, {0.0}, {1.0}, {1.0}, {1.0}}, 2u, 1e-5);
  check_simplex_grads(m, {{-30.0, 0.2}, {0.3, 0.7}, {0.0}, {1.0}, {1.0}, {1.5}}, 1);
  // A zero weight is allowed; a non-simplex w is -inf.
  EXPECT_LE(rel_err(eval(m, {{0.4}, {0.0, 1.0}, {1.0}, {2.0}, {0.0}, {1.0}}, false), normal_lpdf(0.4, 0, 1)), 1e-14);
  EXPECT_EQ(eval(m, {{0.4}, {0.5, 0.6}, {1.0}, {2.0}, {0.0}, {1.0}}, false), -kInf);
}

TEST(Mixture, CdfIsTheWeightedSumAndDrawsFollowTheWeights) {
  const DistInfo& m = mixture({&fam("normal"), &fam("logistic")});
  ASSERT_NE(m.lcdf_f64, nullptr);
  std::vector<double> y = {0.3}, w = {0.4, 0.6}, mu1 = {-1}, s1 = {1}, mu2 = {2}, s2 = {0.5};
  std::vector<Arg<double>> a(6);
  int k = 0;
  for (auto* v : {&y, &w, &mu1, &s1, &mu2, &s2}) {
    a[size_t(k)].val = v->data();
    a[size_t(k++)].size = v->size();
  }
  const double F = 0.4 * bm::cdf(bm::normal(-1, 1), 0.3) + 0.6 * bm::cdf(bm::logistic(2, 0.5), 0.3);
  EXPECT_LE(rel_err(m.lcdf_f64(a.data(), false), std::log(F)), 1e-12);
  EXPECT_LE(rel_err(m.lccdf_f64(a.data(), false), std::log1p(-F)), 1e-12);
  EXPECT_EQ(mixture({&fam("normal"), &fam("von_mises")}).lcdf_f64, nullptr);
  // Draws: the share below 0.5 is F(0.5); binomial MCSE.
  const size_t n = 40000;
  std::vector<double> out(n);
  a[0].size = n;
  Rng r(11, 3);
  m.rng(a.data(), r, out.data());
  const double F5 = 0.4 * bm::cdf(bm::normal(-1, 1), 0.5) + 0.6 * bm::cdf(bm::logistic(2, 0.5), 0.5);
  double share = 0;
  for (double x : out) share += (x < 0.5) / double(n);
  EXPECT_NEAR(share, F5, 5 * std::sqrt(F5 * (1 - F5) / n));
}

TEST(Mixture, ConstructionErrors) {
  EXPECT_THROW(mixture({}), std::invalid_argument);
  EXPECT_THROW(mixture({&fam("normal"), &fam("poisson")}), std::invalid_argument);
  EXPECT_THROW(mixture({&fam("normal"), &fam("multi_normal")}), std::invalid_argument);
  EXPECT_THROW(truncated(mixture({&fam("normal"), &fam("normal")}), true, false), std::invalid_argument);
  EXPECT_EQ(&mixture({&fam("normal"), &fam("gamma")}), &mixture({&fam("normal"), &fam("gamma")}));
  const DistInfo& m = mixture({&fam("normal"), &fam("normal")});
  std::vector<double> y = {0.3}, w = {0.4, 0.7}, mu = {0}, s = {1}, bad = {-1};
  std::vector<Arg<double>> a(6);
  int k = 0;
  for (auto* v : {&y, &w, &mu, &s, &mu, &bad}) {
    a[size_t(k)].val = v->data();
    a[size_t(k++)].size = v->size();
  }
  EXPECT_EQ(m.validate(a.data()), "w must be a simplex summing to 1, found sum 1.1 at index 1");
  w = {0.4, 0.6};
  EXPECT_EQ(m.validate(a.data()), "component 2 (normal): sigma must be positive and finite, found -1 at index 1");
}

}  // namespace
}  // namespace exmc::dist

namespace exmc::dist {
namespace {

TEST(Truncated, CountsIncludeTheLowerBound) {
  // poisson(3.5) T[2, 6]: P(2 <= Y <= 6) = F(6) - F(1) (Stan's convention).
  const DistInfo& t = truncated(fam("poisson"), true, true);
  bm::poisson_distribution<> p(3.5);
  const double mass = bm::cdf(p, 6.0) - bm::cdf(p, 1.0);
  const Vals v = {{2, 4, 6}, {3.5}, {2}, {6}};
  EXPECT_LE(rel_err(eval(t, v, false, nullptr, 1u | 4u | 8u), std::log(bm::pdf(p, 2.0)) + std::log(bm::pdf(p, 4.0)) +
                                                              std::log(bm::pdf(p, 6.0)) - 3 * std::log(mass)),
            1e-12);
  check_grads(t, v, 1u | 4u | 8u);
  // The bounds themselves are allowed values; L = U is one point of mass 1.
  EXPECT_LE(std::fabs(eval(t, {{3}, {3.5}, {3}, {3}}, false, nullptr, 1u | 4u | 8u)), 1e-14);
  EXPECT_EQ(eval(t, {{7}, {3.5}, {2}, {6}}, false, nullptr, 1u | 4u | 8u), -kInf);
  // A lower bound of 0 removes nothing.
  const DistInfo& lo = truncated(fam("poisson"), true, false);
  EXPECT_LE(rel_err(eval(lo, {{4}, {3.5}, {0}}, false, nullptr, 1u | 4u), std::log(bm::pdf(p, 4.0))), 1e-14);
}

TEST(Truncated, ShapeParameterPartialsOfGammaAndStudentT) {
  // The shape partials of the incomplete gamma / beta come from dshape; check them end to end.
  const DistInfo& g = truncated(fam("gamma"), true, true);
  bm::gamma_distribution<> gd(2.5, 1 / 1.5);
  const double want = std::log(bm::pdf(gd, 1.2)) - std::log(bm::cdf(gd, 3.0) - bm::cdf(gd, 0.5));
  EXPECT_LE(rel_err(eval(g, {{1.2}, {2.5}, {1.5}, {0.5}, {3.0}}, false), want), 1e-12);
  check_grads(g, {{1.2, 2.0}, {2.5}, {1.5}, {0.5}, {3.0}});
  const DistInfo& st = truncated(fam("student_t"), false, true);
  check_grads(st, {{-0.4, 1.0}, {4.5}, {0.2}, {1.3}, {1.7}});
}

}  // namespace
}  // namespace exmc::dist

namespace exmc::dist {
namespace {

TEST(Mixture, ComponentsMayBeTruncated) {
  // A half-normal and a normal truncated to [0, 1]: nested wrappers keep separate partials.
  const DistInfo& tn = truncated(fam("normal"), true, true);
  const DistInfo& m = mixture({&fam("half_normal"), &tn});
  const Vals v = {{0.3, 0.8}, {0.4, 0.6}, {1.5}, {0.2}, {0.7}, {0.0}, {1.0}};
  bm::normal n(0.2, 0.7);
  const double mass = bm::cdf(n, 1.0) - bm::cdf(n, 0.0);
  double want = 0;
  for (double y : v[0])
    want += std::log(0.4 * 2 * bm::pdf(bm::normal(0, 1.5), y) + 0.6 * bm::pdf(n, y) / mass);
  EXPECT_LE(rel_err(eval(m, v, false), want), 1e-12);
  check_grads(m, v, 2u);
  check_simplex_grads(m, v, 1);
}

}  // namespace
}  // namespace exmc::dist
