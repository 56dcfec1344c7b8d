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

double normal_lpdf(double y, double mu, double s) { return std::log(bm::pdf(bm::normal(mu, s), y)); }

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
            "y must lie in the truncation interval [0, 2], found 3 at index 1");
  EXPECT_EQ(msg({{0.5}, {0.0}, {1.0}, {2.0}, {1.0}}, ~0u), "lower must be less than upper, found lower 2 and upper 1 at index 0");
  EXPECT_EQ(msg({{0.5}, {0.0}, {-1.0}, {0.0}, {2.0}}, ~0u), "sigma must be positive and finite, found -1 at index 0");
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
