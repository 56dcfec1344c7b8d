// The transforms at the edges of their supports: what constrain gives far out (a value on a
// bound, tied ordered elements, simplex zeros, tanh rounded to +-1) must read back through
// unconstrain, since exmc generate_quantities and exmc log_prob read a fit's draws that way;
// draws printed with 6 significant digits must read back too; values beyond the clamp map to its
// edge, never to a flat region or an infinity; non-finite values are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "exmc/transform/guards.hpp"
#include "exmc/transform/transform.hpp"

namespace exmc::transform {
namespace {

constexpr double kB = 200.0;  // log_clamp_bound<double>()
constexpr double kF = 700.0;  // log_clamp_floor<double>(): a log-type edge below
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Bnd {
  std::vector<double> lo, up;
  Bounds<double> get() {
    Bounds<double> b;
    if (!lo.empty()) b.lower = {lo.data(), lo.size(), nullptr};
    if (!up.empty()) b.upper = {up.data(), up.size(), nullptr};
    return b;
  }
};

std::vector<double> constrain(const Transform& t, const std::vector<double>& x, Bnd& b) {
  std::vector<double> y(t.constrained_size()), work(t.workspace_size());
  t.constrain(x.data(), b.get(), y.data(), work.data());
  return y;
}

// unconstrain(y) must succeed and constrain must give y back to within abs_tol.
std::vector<double> round_trip(const Transform& t, const std::vector<double>& y, Bnd& b, double abs_tol,
                               const std::string& what) {
  std::vector<double> x(t.unconstrained_size());
  std::string err;
  EXPECT_TRUE(t.unconstrain(y.data(), b.get(), x.data(), "v", &err)) << what << ": " << err;
  for (double v : x) EXPECT_TRUE(std::isfinite(v)) << what;
  const auto y2 = constrain(t, x, b);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y2[i], y[i], abs_tol) << what << " element " << i;
  return x;
}

// Far out, constrain rounds on to the bound exactly; that draw reads back, to the clamp's edge.
TEST(Edges, ValuesOnTheBoundReadBack) {
  {
    const Transform t = Transform::make(Kind::kLower, {2});
    Bnd b{{1.0}, {}};
    const auto y = constrain(t, {-40.0, 3.0}, b);
    ASSERT_EQ(y[0], 1.0);  // 1 + exp(-40) rounds to 1
    const auto x = round_trip(t, y, b, 1e-15, "lower");
    EXPECT_EQ(x[0], -kF);
    EXPECT_NEAR(x[1], 3.0, 1e-12);
  }
  {
    const Transform t = Transform::make(Kind::kUpper, {1});
    Bnd b{{}, {2.0}};
    const auto y = constrain(t, {-40.0}, b);
    ASSERT_EQ(y[0], 2.0);
    EXPECT_EQ(round_trip(t, y, b, 0.0, "upper")[0], -kF);
  }
  {
    const Transform t = Transform::make(Kind::kLowerUpper, {3});
    Bnd b{{-1.0}, {3.0}};
    const auto y = constrain(t, {40.0, -40.0, 0.5}, b);
    ASSERT_EQ(y[0], 3.0);   // inv_logit(40) rounds to 1
    ASSERT_EQ(y[1], -1.0);  // -1 + 4 * 4e-18 rounds to -1
    const auto x = round_trip(t, y, b, 1e-15, "lower_upper");
    EXPECT_EQ(x[0], kB);
    EXPECT_EQ(x[1], -kB);
    EXPECT_NEAR(x[2], 0.5, 1e-12);
  }
  {  // a narrow interval far from 0: its ulp (2e-6) swallows inv_logit(-20) = 2e-9
    const Transform t = Transform::make(Kind::kLowerUpper, {1});
    Bnd b{{1e10}, {1e10 + 1}};
    const auto y = constrain(t, {-20.0}, b);
    ASSERT_EQ(y[0], 1e10);
    EXPECT_EQ(round_trip(t, y, b, 0.0, "lower_upper [1e10, 1e10+1]")[0], -kB);
  }
  {  // one-sided element of a lower_upper (infinite upper)
    const Transform t = Transform::make(Kind::kLowerUpper, {1});
    Bnd b{{5.0}, {kInf}};
    const auto y = constrain(t, {-40.0}, b);
    ASSERT_EQ(y[0], 5.0);
    EXPECT_EQ(round_trip(t, y, b, 0.0, "lower_upper [5, inf)")[0], -kF);
  }
  {  // softplus underflows to its bound below x ~ -745
    const Transform t = Transform::make(Kind::kSoftplus, {1});
    Bnd b{{-1.0}, {}};
    const auto y = constrain(t, {-800.0}, b);
    ASSERT_EQ(y[0], -1.0);
    EXPECT_EQ(round_trip(t, y, b, 0.0, "softplus")[0], -kB);
  }
}

// Tied elements of an ordered vector, and a positive_ordered starting at 0.
TEST(Edges, OrderedTiesReadBack) {
  Bnd none;
  const Transform t = Transform::make(Kind::kOrdered, {4});
  const auto y = constrain(t, {-40.0, -40.0, 0.3, 50.0}, none);
  ASSERT_EQ(y[1], y[0]);  // -40 + exp(-40) rounds to -40
  const auto x = round_trip(t, y, none, 0.0, "ordered");
  EXPECT_EQ(x[1], -kF);
  EXPECT_NEAR(x[3], 50.0, 1e-9);

  const Transform p = Transform::make(Kind::kPositiveOrdered, {3});
  const auto xp = round_trip(p, {0.0, 0.0, 2.5}, none, 1e-80, "positive_ordered");
  EXPECT_EQ(xp[0], -kF);
  EXPECT_EQ(xp[1], -kF);
  std::string err;
  std::vector<double> xx(3);
  const std::vector<double> bad = {0.5, 0.25, 1.0};
  EXPECT_FALSE(p.unconstrain(bad.data(), Bounds<double>{}, xx.data(), "c", &err));
  EXPECT_NE(err.find("not increasing: 0.5 at index 1 then 0.25 at index 2"), std::string::npos) << err;
}

// A far-out break underflows a simplex element to 0 (a Dirichlet with small concentrations
// puts mass there); zeros read back, including a used-up stick.
TEST(Edges, SimplexZerosReadBack) {
  Bnd none;
  const Transform t = Transform::make(Kind::kSimplex, {4});
  const auto y = constrain(t, {0.0, -800.0, 0.0}, none);
  ASSERT_EQ(y[1], 0.0);
  round_trip(t, y, none, 1e-80, "simplex with a zero");
  round_trip(t, {1.0, 0.0, 0.0, 0.0}, none, 1e-80, "simplex vertex 1");
  round_trip(t, {0.0, 0.0, 0.0, 1.0}, none, 1e-80, "simplex vertex 4");
  round_trip(t, {0.0, 0.5, 0.0, 0.5}, none, 1e-80, "simplex edge");
  // What is left after a break is summed, not subtracted: a tiny remainder keeps its digits.
  // (Subtracting y_2 ~ 2/3 from y_2 + y_3 + y_4 left y_3 + y_4 ~ 1e-13 with 3 digits.)
  const auto x = round_trip(t, constrain(t, {0.2, 30.0, -0.4}, none), none, 1e-15, "simplex, big middle break");
  EXPECT_NEAR(x[1], 30.0, 1e-9);
  EXPECT_NEAR(x[2], -0.4, 1e-9);
}

// Past |x| ~ 19 tanh(x) rounds to +-1 and atanh of the row's ratio is infinite; the factor still
// holds x (in its tiny diagonal) and asinh reads it back.
TEST(Edges, CholeskyCorrNearUnitCorrelationReadsBack) {
  Bnd none;
  const Transform t = Transform::make(Kind::kCholeskyCorr, {3, 3});
  const std::vector<double> x = {25.0, -22.0, 0.5};
  const auto y = constrain(t, x, none);
  ASSERT_EQ(y[1], 1.0);  // L[2,1] = tanh(25)
  const auto x2 = round_trip(t, y, none, 1e-15, "cholesky_factor_corr");
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x2[i], x[i], 1e-9) << i;
}

TEST(Edges, NonFiniteValuesAreRefused) {
  auto refused = [](Kind k, std::vector<size_t> shape, Bnd b, std::vector<double> y, const std::string& want) {
    const Transform t = Transform::make(k, shape);
    std::vector<double> x(t.unconstrained_size());
    std::string err;
    EXPECT_FALSE(t.unconstrain(y.data(), b.get(), x.data(), "v", &err)) << kind_name(k);
    EXPECT_NE(err.find(want), std::string::npos) << err;
  };
  refused(Kind::kLower, {1}, {{0.0}, {}}, {kInf}, "value inf at index 1 is not finite");
  refused(Kind::kLower, {2}, {{-kInf}, {}}, {1.0, kInf}, "value inf at index 2 is not finite");
  refused(Kind::kUpper, {1}, {{}, {0.0}}, {-kInf}, "value -inf at index 1 is not finite");
  refused(Kind::kLowerUpper, {1}, {{0.0}, {kInf}}, {kInf}, "not finite");
  refused(Kind::kLowerUpper, {1}, {{0.0}, {1.0}}, {NAN}, "not finite");
  refused(Kind::kSoftplus, {1}, {}, {kInf}, "not finite");
  refused(Kind::kSimplex, {2}, {}, {kInf, 0.0}, "element inf at index 1 is not a finite value >= 0");
  refused(Kind::kPositiveOrdered, {2}, {}, {1.0, kInf}, "not finite");
}

// exp(clamp(x)) never goes below exp(-700) nor above exp(200), so a value beyond that maps to
// the clamp's edge, where the gradient is alive (a start at x = -690 gave "step size search ran
// past 1e7: the posterior is improper" for sigma = 1e-300 when the floor was -200 and the
// density flat below it).
TEST(Edges, ValuesBeyondTheClampMapToItsEdge) {
  const Transform t = Transform::make(Kind::kLower, {3});
  Bnd b{{0.0}, {}};
  std::vector<double> x(3);
  const std::vector<double> y = {1e-310, 1e100, 2.0};
  std::string err;
  ASSERT_TRUE(t.unconstrain(y.data(), b.get(), x.data(), "sigma", &err)) << err;
  EXPECT_EQ(x[0], -kF);
  EXPECT_EQ(x[1], kB);
  EXPECT_DOUBLE_EQ(x[2], std::log(2.0));

  const Transform c = Transform::make(Kind::kCholeskyCov, {2, 2});
  const std::vector<double> L = {1e-310, 0.5, 0.0, 1.0};  // column-major
  std::vector<double> xc(3);
  ASSERT_TRUE(c.unconstrain(L.data(), Bounds<double>{}, xc.data(), "L", &err)) << err;
  EXPECT_EQ(xc[0], -kF);
}

// A draw printed with 6 significant digits (exmc's and CmdStan's default) reads back: the sum of
// a simplex, the norm of a unit vector or of a Cholesky factor's row miss 1 by up to 5e-6.
std::vector<double> printed(const std::vector<double>& y, int digits) {
  std::vector<double> out;
  char buf[64];
  for (double v : y) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    out.push_back(std::strtod(buf, nullptr));
  }
  return out;
}

TEST(Edges, DrawsPrintedWithSixSignificantDigitsReadBack) {
  struct C {
    Kind k;
    std::vector<size_t> shape;
  };
  const std::vector<C> cases = {{Kind::kSimplex, {3}},          {Kind::kSimplex, {10}},
                                {Kind::kSimplex, {100}},        {Kind::kUnitVector, {3}},
                                {Kind::kUnitVector, {50}},      {Kind::kCholeskyCorr, {4, 4}},
                                {Kind::kCholeskyCorr, {8, 8}},  {Kind::kCorrMatrix, {4, 4}}};
  std::mt19937_64 rng(42);
  std::normal_distribution<double> nd;
  Bnd none;
  int misses = 0;  // draws whose printed value misses the equality by more than Stan's 1e-8
  for (const C& c : cases) {
    const Transform t = Transform::make(c.k, c.shape);
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<double> x(t.unconstrained_size());
      for (double& v : x) v = nd(rng);
      const auto y = printed(constrain(t, x, none), 6);
      double s = 0, ss = 0;
      for (double v : y) s += v, ss += v * v;
      misses += std::fabs((c.k == Kind::kSimplex ? s : std::sqrt(ss)) - 1.0) > 1e-8;
      // What is used is the value given up to scale: within the printing's error of it.
      round_trip(t, y, none, 1e-5, std::string(kind_name(c.k)) + " rep " + std::to_string(rep));
    }
  }
  EXPECT_GT(misses, 100);  // the case is real: most of these draws fail a 1e-8 check

  // Beyond what printing can do, still refused, with the tolerance in the message.
  const Transform t = Transform::make(Kind::kSimplex, {3});
  const std::vector<double> y = {0.3, 0.3, 0.4001};
  std::vector<double> x(2);
  std::string err;
  EXPECT_FALSE(t.unconstrain(y.data(), Bounds<double>{}, x.data(), "theta", &err));
  EXPECT_NE(err.find("elements sum to 1.0001, not 1 (tolerance 1e-05)"), std::string::npos) << err;
}

// Every kind at |x| = 20 and 40, sizes 1 to 100: whatever constrain gives reads back and
// constrains to the same value. (corr_matrix and cov_matrix are left out: there L L^T rounds to
// a singular matrix, whose factor no longer holds x.)
TEST(Edges, FarOutDrawsOfEveryKindReadBack) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.5, 1.0);
  int checked = 0;
  for (size_t K : {1, 2, 3, 10, 100}) {
    struct C {
      Kind k;
      std::vector<size_t> shape;
      Bnd b;
    };
    std::vector<C> cases = {{Kind::kLower, {K}, {{1.0}, {}}},
                            {Kind::kUpper, {K}, {{}, {2.0}}},
                            {Kind::kLowerUpper, {K}, {{-1.0}, {3.0}}},
                            {Kind::kLowerUpper, {K}, {{-1e300}, {1e300}}},
                            {Kind::kSoftplus, {K}, {{0.5}, {}}},
                            {Kind::kOrdered, {K}, {}},
                            {Kind::kPositiveOrdered, {K}, {}},
                            {Kind::kSimplex, {K}, {}}};
    if (K >= 2) cases.push_back({Kind::kUnitVector, {K}, {}});
    if (K <= 10) {
      cases.push_back({Kind::kCholeskyCorr, {K, K}, {}});
      cases.push_back({Kind::kCholeskyCov, {K + 2, K}, {}});
    }
    for (auto& c : cases) {
      const Transform t = Transform::make(c.k, c.shape);
      for (double p : {20.0, -20.0, 40.0, -40.0}) {
        std::vector<double> x(t.unconstrained_size());
        for (size_t i = 0; i < x.size(); ++i) x[i] = p * u(rng) * (i % 3 == 2 ? -1 : 1);
        const auto y = constrain(t, x, c.b);
        double scale = 1;
        for (double v : y) scale = std::max(scale, std::fabs(v));
        round_trip(t, y, c.b, 1e-12 * scale,
                   std::string(kind_name(c.k)) + " K=" + std::to_string(K) + " x~" + std::to_string(p));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 4 * (8 * 5 + 4 + 2 * 4));
}

// An interval whose width overflows (-1e308 to 1e308): l + (u - l) s was inf - inf = NaN for
// every x. In halves the value, log|J| and gradients are exact; unconstrain inverts it.
TEST(Edges, AnIntervalWhoseWidthOverflowsIsExact) {
  const Transform t = Transform::make(Kind::kLowerUpper, {3});
  Bnd b{{-1e308}, {1.5e308}};
  std::vector<double> y(3);
  const std::vector<double> x = {0.0, 30.0, -2.0};
  const double lj = t.constrain(x.data(), b.get(), y.data());
  EXPECT_EQ(y[0], 0.25e308);  // the middle
  for (size_t i = 0; i < 3; ++i) {
    const double s = 1 / (1 + std::exp(-x[i]));
    EXPECT_NEAR(y[i] / 1e308, -1 + 2.5 * s, 1e-15) << i;
  }
  double expected_lj = 0;
  for (double xi : x) expected_lj += std::log(2.5e308 / 1e308) + std::log(1e308) - std::log1p(std::exp(-xi)) - std::log1p(std::exp(xi));
  EXPECT_NEAR(lj, expected_lj, 1e-12 * std::fabs(expected_lj));
  // d log|J| / dx = 1 - 2 s, and d y / dx = (u - l) s (1 - s), through vjp.
  std::vector<double> gy = {1e-308, 0.0, 0.0}, gx(3, 0.0);
  t.vjp(x.data(), y.data(), gy.data(), 1.0, b.get(), gx.data());
  EXPECT_NEAR(gx[0], 2.5 * 0.25 + 0.0, 1e-15);
  const double s1 = 1 / (1 + std::exp(-x[1])), s2 = 1 / (1 + std::exp(-x[2]));
  EXPECT_NEAR(gx[1], 1 - 2 * s1, 1e-15);
  EXPECT_NEAR(gx[2], 1 - 2 * s2, 1e-15);
  // The round trip is exact to a few ulps of the width (2.5e308), as any value on this scale is.
  const double width_ulps = 16 * std::numeric_limits<double>::epsilon() * 2.5e308;
  const auto back = round_trip(t, {5.0, -1e308 * 0.999, 1.4e308}, b, width_ulps, "lower_upper [-1e308, 1.5e308]");
  EXPECT_NEAR(back[0], std::log(1e308 + 5.0) - std::log(1.5e308 - 5.0), 1e-12);
}

}  // namespace
}  // namespace exmc::transform
