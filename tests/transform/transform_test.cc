// Every transform: round trip, log|J| against a finite-difference Jacobian determinant, the
// vector-Jacobian product against finite differences, float against double, and the clamps.
#include "exmc/transform/transform.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/transform/guards.hpp"

namespace exmc::transform {
namespace {

struct Case {
  const char* label;
  Kind kind;
  std::vector<size_t> shape;
  std::vector<double> lower, upper, offset, multiplier;  // empty when unused
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

std::vector<Case> cases() {
  return {
      {"identity", Kind::kIdentity, {3}, {}, {}, {}, {}},
      {"lower_scalar_bound", Kind::kLower, {4}, {0.5}, {}, {}, {}},
      {"lower_vector_bound", Kind::kLower, {3}, {-1.0, 0.0, 2.0}, {}, {}, {}},
      {"upper", Kind::kUpper, {3}, {}, {1.5}, {}, {}},
      {"lower_upper", Kind::kLowerUpper, {4}, {-2.0}, {3.0}, {}, {}},
      {"lower_upper_vector", Kind::kLowerUpper, {3}, {0.0, -1.0, 5.0}, {1.0, 1.0, 5.5}, {}, {}},
      {"offset_multiplier", Kind::kOffsetMultiplier, {3}, {}, {}, {1.5}, {0.3}},
      {"offset_multiplier_vector", Kind::kOffsetMultiplier, {3}, {}, {}, {1.0, -2.0, 0.0}, {2.0, 0.5, 3.0}},
      {"softplus", Kind::kSoftplus, {3}, {}, {}, {}, {}},
      {"softplus_lower", Kind::kSoftplus, {3}, {-1.0}, {}, {}, {}},
      {"ordered", Kind::kOrdered, {5}, {}, {}, {}, {}},
      {"positive_ordered", Kind::kPositiveOrdered, {4}, {}, {}, {}, {}},
      {"simplex2", Kind::kSimplex, {2}, {}, {}, {}, {}},
      {"simplex5", Kind::kSimplex, {5}, {}, {}, {}, {}},
      {"unit_vector", Kind::kUnitVector, {4}, {}, {}, {}, {}},
      {"cholesky_corr2", Kind::kCholeskyCorr, {2, 2}, {}, {}, {}, {}},
      {"cholesky_corr4", Kind::kCholeskyCorr, {4, 4}, {}, {}, {}, {}},
      {"cholesky_cov3", Kind::kCholeskyCov, {3, 3}, {}, {}, {}, {}},
      {"cholesky_cov4x2", Kind::kCholeskyCov, {4, 2}, {}, {}, {}, {}},
      {"corr_matrix2", Kind::kCorrMatrix, {2, 2}, {}, {}, {}, {}},
      {"corr_matrix4", Kind::kCorrMatrix, {4, 4}, {}, {}, {}, {}},
      {"cov_matrix1", Kind::kCovMatrix, {1, 1}, {}, {}, {}, {}},
      {"cov_matrix3", Kind::kCovMatrix, {3, 3}, {}, {}, {}, {}},
  };
}

// Indices of y that form a minimal (bijective) parameterisation of the constrained set.
std::vector<size_t> minimal_coords(const Case& c) {
  std::vector<size_t> idx;
  const Transform t = Transform::make(c.kind, c.shape);
  const size_t n = t.constrained_size();
  switch (c.kind) {
    case Kind::kSimplex:
      for (size_t i = 0; i + 1 < n; ++i) idx.push_back(i);
      break;
    case Kind::kCholeskyCorr:
    case Kind::kCorrMatrix: {
      const size_t K = c.shape[0];
      for (size_t i = 1; i < K; ++i)
        for (size_t j = 0; j < i; ++j) idx.push_back(i + K * j);
      break;
    }
    case Kind::kCholeskyCov:
    case Kind::kCovMatrix: {
      const size_t M = c.shape[0], N = c.shape[1];
      for (size_t i = 0; i < M; ++i)
        for (size_t j = 0; j <= i && j < N; ++j) idx.push_back(i + M * j);
      break;
    }
    default:
      for (size_t i = 0; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

// Holds bound values and their gradients for one precision.
template <class T>
struct BoundStore {
  std::vector<T> lo, up, off, mul, glo, gup, goff, gmul;
  explicit BoundStore(const Case& c)
      : lo(c.lower.begin(), c.lower.end()), up(c.upper.begin(), c.upper.end()),
        off(c.offset.begin(), c.offset.end()), mul(c.multiplier.begin(), c.multiplier.end()),
        glo(lo.size()), gup(up.size()), goff(off.size()), gmul(mul.size()) {}
  Bounds<T> bounds(bool with_grad) {
    auto arg = [&](std::vector<T>& v, std::vector<T>& g) {
      return BoundArg<T>{v.data(), v.size(), with_grad ? g.data() : nullptr};
    };
    return {arg(lo, glo), arg(up, gup), arg(off, goff), arg(mul, gmul)};
  }
};

template <class T>
struct Evaluator {
  Transform t;
  std::vector<T> y, work;
  explicit Evaluator(const Case& c)
      : t(Transform::make(c.kind, c.shape, c.label)), y(t.constrained_size()), work(t.workspace_size()) {}
  double operator()(const std::vector<T>& x, BoundStore<T>& b) {
    return t.constrain(x.data(), b.bounds(false), y.data(), work.data());
  }
};

std::vector<double> random_x(size_t n, std::mt19937_64& rng, double scale = 1.0) {
  std::normal_distribution<double> nd(0.0, scale);
  std::vector<double> x(n);
  for (auto& v : x) v = nd(rng);
  return x;
}

class TransformCase : public ::testing::TestWithParam<Case> {};

TEST_P(TransformCase, RoundTrip) {
  const Case c = GetParam();
  Evaluator<double> ev(c);
  BoundStore<double> b(c);
  std::mt19937_64 rng(11);
  for (int rep = 0; rep < 20; ++rep) {
    auto x = random_x(ev.t.unconstrained_size(), rng, 1.5);
    ev(x, b);
    std::vector<double> x2(x.size()), y2(ev.y.size());
    std::string err;
    ASSERT_TRUE(ev.t.unconstrain(ev.y.data(), b.bounds(false), x2.data(), "v", &err)) << err;
    if (c.kind == Kind::kUnitVector) {
      // Not injective: x comes back as the direction; constraining it again gives the same y.
      ev.t.constrain(x2.data(), b.bounds(false), y2.data(), ev.work.data());
      for (size_t i = 0; i < y2.size(); ++i) EXPECT_NEAR(y2[i], ev.y[i], 1e-12);
      continue;
    }
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x2[i], x[i], 1e-8 * (1 + std::fabs(x[i]))) << "i=" << i;
  }
}

TEST_P(TransformCase, LogJacobianMatchesFiniteDifferenceDeterminant) {
  const Case c = GetParam();
  if (c.kind == Kind::kUnitVector) {
    Evaluator<double> ev(c);
    BoundStore<double> b(c);
    std::vector<double> x = {0.3, -1.2, 2.0, 0.5};
    EXPECT_NEAR(ev(x, b), -0.5 * (0.09 + 1.44 + 4.0 + 0.25), 1e-14);  // Stan's -|x|^2/2
    return;
  }
  const auto idx = minimal_coords(c);
  Evaluator<double> ev(c);
  BoundStore<double> b(c);
  const size_t d = ev.t.unconstrained_size();
  ASSERT_EQ(idx.size(), d);
  std::mt19937_64 rng(5);
  for (int rep = 0; rep < 5; ++rep) {
    auto x = random_x(d, rng);
    const double lj = ev(x, b);
    Eigen::MatrixXd J(d, d);
    const double h = 1e-5;
    for (size_t k = 0; k < d; ++k) {
      auto xp = x, xm = x;
      xp[k] += h;
      xm[k] -= h;
      ev(xp, b);
      std::vector<double> yp = ev.y;
      ev(xm, b);
      for (size_t r = 0; r < d; ++r) J(r, k) = (yp[idx[r]] - ev.y[idx[r]]) / (2 * h);
    }
    const double num = d == 0 ? 0.0 : std::log(std::fabs(J.partialPivLu().determinant()));
    EXPECT_NEAR(lj, num, 1e-6 * (1 + std::fabs(num))) << c.label << " rep " << rep;
  }
}

// F(x, bounds) = <w, y> + alpha log|J|: its gradient from vjp against central differences,
// for x and for every bound argument.
TEST_P(TransformCase, VjpMatchesFiniteDifferences) {
  const Case c = GetParam();
  Evaluator<double> ev(c);
  BoundStore<double> b(c);
  const size_t d = ev.t.unconstrained_size(), n = ev.t.constrained_size();
  std::mt19937_64 rng(7);
  for (int rep = 0; rep < 5; ++rep) {
    auto x = random_x(d, rng);
    auto w = random_x(n, rng);
    const double alpha = 0.7;
    auto F = [&](const std::vector<double>& xx) {
      double lj = ev(xx, b);
      double s = alpha * lj;
      for (size_t i = 0; i < n; ++i) s += w[i] * ev.y[i];
      return s;
    };
    ev(x, b);
    std::vector<double> gx(d, 0.0);
    std::fill(b.glo.begin(), b.glo.end(), 0.0);
    std::fill(b.gup.begin(), b.gup.end(), 0.0);
    std::fill(b.goff.begin(), b.goff.end(), 0.0);
    std::fill(b.gmul.begin(), b.gmul.end(), 0.0);
    ev.t.vjp(x.data(), ev.y.data(), w.data(), alpha, b.bounds(true), gx.data(), ev.work.data());
    const double h = 1e-6;
    for (size_t k = 0; k < d; ++k) {
      auto xp = x, xm = x;
      xp[k] += h;
      xm[k] -= h;
      const double fd = (F(xp) - F(xm)) / (2 * h);
      EXPECT_NEAR(gx[k], fd, 1e-6 * (1 + std::fabs(fd))) << c.label << " x[" << k << "]";
    }
    auto check_bound = [&](std::vector<double>& v, std::vector<double>& g, const char* what) {
      for (size_t k = 0; k < v.size(); ++k) {
        const double keep = v[k];
        v[k] = keep + h;
        const double fp = F(x);
        v[k] = keep - h;
        const double fm = F(x);
        v[k] = keep;
        const double fd = (fp - fm) / (2 * h);
        EXPECT_NEAR(g[k], fd, 1e-6 * (1 + std::fabs(fd))) << c.label << " " << what << "[" << k << "]";
      }
    };
    check_bound(b.lo, b.glo, "lower");
    check_bound(b.up, b.gup, "upper");
    check_bound(b.off, b.goff, "offset");
    check_bound(b.mul, b.gmul, "multiplier");
  }
}

TEST_P(TransformCase, FloatAgreesWithDouble) {
  const Case c = GetParam();
  Evaluator<double> ed(c);
  Evaluator<float> ef(c);
  BoundStore<double> bd(c);
  BoundStore<float> bf(c);
  std::mt19937_64 rng(3);
  auto x = random_x(ed.t.unconstrained_size(), rng);
  std::vector<float> xf(x.begin(), x.end());
  for (size_t i = 0; i < x.size(); ++i) x[i] = xf[i];  // same point in both precisions
  const double ljd = ed(x, bd), ljf = ef(xf, bf);
  EXPECT_NEAR(ljf, ljd, 1e-5 * (1 + std::fabs(ljd)));
  for (size_t i = 0; i < ed.y.size(); ++i) EXPECT_NEAR(ef.y[i], ed.y[i], 1e-5 * (1 + std::fabs(ed.y[i])));
  std::vector<double> w = random_x(ed.y.size(), rng), gd(x.size(), 0.0);
  std::vector<float> wf(w.begin(), w.end()), gf(x.size(), 0.0f);
  ed.t.vjp(x.data(), ed.y.data(), w.data(), 1.0, bd.bounds(false), gd.data(), ed.work.data());
  ef.t.vjp(xf.data(), ef.y.data(), wf.data(), 1.0, bf.bounds(false), gf.data(), ef.work.data());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(gf[i], gd[i], 1e-4 * (1 + std::fabs(gd[i])));
}

// Far outside the clamp (and far in the tails of the sigmoids) every output and gradient is
// finite, in both precisions.
template <class T> void check_extremes(const Case& c, double big) {
  Evaluator<T> ev(c);
  BoundStore<T> b(c);
  const size_t d = ev.t.unconstrained_size();
  for (double sgn : {-1.0, 1.0}) {
    std::vector<T> x(d);
    for (size_t i = 0; i < d; ++i) x[i] = T(sgn * big * (i % 2 ? 1.0 : 0.9));
    const double lj = ev(x, b);
    EXPECT_TRUE(std::isfinite(lj)) << c.label << " lj at " << sgn * big;
    for (T v : ev.y) EXPECT_TRUE(std::isfinite(v)) << c.label;
    std::vector<T> gy(ev.y.size(), T(1)), gx(d, T(0));
    ev.t.vjp(x.data(), ev.y.data(), gy.data(), 1.0, b.bounds(true), gx.data(), ev.work.data());
    for (T g : gx) EXPECT_TRUE(std::isfinite(g)) << c.label << " grad at " << sgn * big;
  }
}

TEST_P(TransformCase, FiniteFarOutsideTheClamp) {
  check_extremes<double>(GetParam(), 250.0);
  check_extremes<float>(GetParam(), 25.0);
}

INSTANTIATE_TEST_SUITE_P(All, TransformCase, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.label); });

// The clamp is part of the function: past it the value stops moving and the gradient is that of
// what is computed (zero), inside it the gradient is exact; the value at the clamp is what the
// bound says.
TEST(Clamp, LowerTransformAtAndBeyondTheBound) {
  const Transform t = Transform::make(Kind::kLower, {1});
  double lb = 0.0;
  Bounds<double> b;
  b.lower = {&lb, 1, nullptr};
  double x = 250.0, y, gx = 0, gy = 1.0;
  const double lj = t.constrain(&x, b, &y);
  EXPECT_EQ(lj, 200.0);
  EXPECT_DOUBLE_EQ(y, std::exp(200.0));
  t.vjp(&x, &y, &gy, 1.0, b, &gx);
  EXPECT_EQ(gx, 0.0);
  x = 199.0;
  gx = 0;
  t.constrain(&x, b, &y);
  t.vjp(&x, &y, &gy, 1.0, b, &gx);
  EXPECT_DOUBLE_EQ(gx, std::exp(199.0) + 1.0);

  const Transform tf = Transform::make(Kind::kLower, {1});
  float lbf = 0.0f, xf = -30.0f, yf, gxf = 0, gyf = 1.0f;
  Bounds<float> bf;
  bf.lower = {&lbf, 1, nullptr};
  EXPECT_EQ(tf.constrain(&xf, bf, &yf), -20.0);
  EXPECT_FLOAT_EQ(yf, std::exp(-20.0f));
  EXPECT_GT(yf, 0.0f);
  tf.vjp(&xf, &yf, &gyf, 1.0, bf, &gxf);
  EXPECT_EQ(gxf, 0.0f);
}

TEST(Guards, ScaleFloorAndStableSoftplus) {
  EXPECT_EQ(floor_scale(0.0), 1e-30);
  EXPECT_EQ(floor_scale(-3.0), 1e-30);
  EXPECT_EQ(floor_scale(2.0), 2.0);
  EXPECT_EQ(floor_scale_deriv(-3.0), 0.0);
  EXPECT_DOUBLE_EQ(log1p_exp(800.0), 800.0);
  EXPECT_DOUBLE_EQ(log1p_exp(-800.0), 0.0);
  EXPECT_NEAR(log1p_exp(-40.0), std::exp(-40.0), 1e-30);
  EXPECT_FLOAT_EQ(log1p_exp(100.0f), 100.0f);
  EXPECT_DOUBLE_EQ(log_inv_logit(-800.0), -800.0);
  EXPECT_NEAR(log1m_tanh_sq(30.0), 2 * (std::log(2.0) - 30.0), 1e-12);
  EXPECT_NEAR(log1m_tanh_sq(0.3), std::log(1 - std::tanh(0.3) * std::tanh(0.3)), 1e-15);
}

// Offset/multiplier with a multiplier floored at 1e-30 stays finite; the log-Jacobian is that
// of the floored scale and the multiplier gets no gradient below the floor.
TEST(Clamp, MultiplierFloor) {
  const Transform t = Transform::make(Kind::kOffsetMultiplier, {1});
  double m = -1.0, gm = 0, x = 2.0, y, gx = 0, gy = 1.0;
  Bounds<double> b;
  b.multiplier = {&m, 1, &gm};
  EXPECT_NEAR(t.constrain(&x, b, &y), std::log(1e-30), 1e-12);
  t.vjp(&x, &y, &gy, 1.0, b, &gx);
  EXPECT_EQ(gm, 0.0);
  EXPECT_EQ(gx, 1e-30);
}

// Stan's simplex centring: x = 0 maps to the uniform simplex.
TEST(Simplex, ZeroIsUniform) {
  const Transform t = Transform::make(Kind::kSimplex, {4});
  std::vector<double> x(3, 0.0), y(4);
  t.constrain(x.data(), Bounds<double>{}, y.data());
  for (double v : y) EXPECT_NEAR(v, 0.25, 1e-15);
}

TEST(Unconstrain, ErrorsNameTheVariableAndTheProblem) {
  std::string err;
  std::vector<double> x(4);
  {
    const Transform t = Transform::make(Kind::kLower, {3});
    double lb = 0, y[3] = {1.0, -1.0, 2.0};
    Bounds<double> b;
    b.lower = {&lb, 1, nullptr};
    EXPECT_FALSE(t.unconstrain(y, b, x.data(), "sigma", &err));
    EXPECT_NE(err.find("'sigma'"), std::string::npos) << err;
    EXPECT_NE(err.find("value -1 at index 2 is"), std::string::npos) << err;  // 1-based, as Stan
  }
  {
    const Transform t = Transform::make(Kind::kSimplex, {3});
    double y[3] = {0.5, 0.4, 0.2};
    EXPECT_FALSE(t.unconstrain(y, Bounds<double>{}, x.data(), "theta", &err));
    EXPECT_NE(err.find("'theta'"), std::string::npos) << err;
    EXPECT_NE(err.find("sum to 1.1"), std::string::npos) << err;
  }
  {
    const Transform t = Transform::make(Kind::kOrdered, {3});
    double y[3] = {0.0, 2.0, 1.0};
    EXPECT_FALSE(t.unconstrain(y, Bounds<double>{}, x.data(), "cut", &err));
    EXPECT_NE(err.find("'cut'"), std::string::npos) << err;
    EXPECT_NE(err.find("increasing"), std::string::npos) << err;
    EXPECT_NE(err.find("2 at index 2 then 1 at index 3"), std::string::npos) << err;  // 1-based
  }
  {
    const Transform t = Transform::make(Kind::kCorrMatrix, {2, 2});
    double y[4] = {1.0, 1.5, 1.5, 1.0};
    EXPECT_FALSE(t.unconstrain(y, Bounds<double>{}, x.data(), "Omega", &err));
    EXPECT_NE(err.find("'Omega'"), std::string::npos) << err;
    EXPECT_NE(err.find("positive definite"), std::string::npos) << err;
  }
  {
    const Transform t = Transform::make(Kind::kCovMatrix, {2, 2});
    double y[4] = {1.0, 0.5, 0.4, 1.0};
    EXPECT_FALSE(t.unconstrain(y, Bounds<double>{}, x.data(), "Sigma", &err));
    EXPECT_NE(err.find("symmetric"), std::string::npos) << err;
    EXPECT_NE(err.find("element [2,1] is 0.5 but [1,2] is 0.4"), std::string::npos) << err;  // 1-based
  }
  {  // Elements of a matrix or array: Stan's index per dimension, 1-based (column-major values).
    const Transform t = Transform::make(Kind::kLower, {2, 3});
    double lb = 0, y[6] = {1, 2, 3, 4, -5, 6};  // y[1,3] = -5
    Bounds<double> b;
    b.lower = {&lb, 1, nullptr};
    std::vector<double> xs(6);
    EXPECT_FALSE(t.unconstrain(y, b, xs.data(), "m", &err));
    EXPECT_NE(err.find("value -5 at index [1,3] is not above the lower bound 0"), std::string::npos) << err;
    const Transform v = Transform::make(Kind::kIdentity, {4});
    double z[4] = {1, 2, NAN, 4};
    EXPECT_FALSE(v.unconstrain(z, Bounds<double>{}, x.data(), "z", &err));
    EXPECT_NE(err.find("value at index 3 is not finite"), std::string::npos) << err;
  }
  {
    const Transform t = Transform::make(Kind::kLowerUpper, {1});
    double lo = 0, hi = 1, y = 1.5;  // 1.0 itself is accepted: see edges_test.cc
    Bounds<double> b;
    b.lower = {&lo, 1, nullptr};
    b.upper = {&hi, 1, nullptr};
    EXPECT_FALSE(t.unconstrain(&y, b, x.data(), "p", &err));
    EXPECT_NE(err.find("value 1.5 at index 1 is outside the interval [0, 1]"), std::string::npos) << err;
  }
}

TEST(Make, UnsupportedShapeNamesTheVariable) {
  auto msg = [](Kind k, std::vector<size_t> s) {
    try {
      Transform::make(k, s, "L");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(msg(Kind::kCholeskyCorr, {3, 2}),
            "variable 'L': cholesky_factor_corr needs a square matrix, got shape [3, 2]");
  EXPECT_NE(msg(Kind::kSimplex, {}).find("needs a vector"), std::string::npos);
  EXPECT_NE(msg(Kind::kCholeskyCov, {2, 3}).find("M >= N"), std::string::npos);
  EXPECT_NE(msg(Kind::kUnitVector, {1}).find("at least 2"), std::string::npos);
  EXPECT_EQ(msg(Kind::kLower, {2, 2}), "");
}

TEST(Make, BoundChecks) {
  const Transform t = Transform::make(Kind::kLowerUpper, {3});
  EXPECT_THROW(t.check_bounds(1, 0, 0, 0, "p"), std::invalid_argument);
  EXPECT_THROW(t.check_bounds(2, 1, 0, 0, "p"), std::invalid_argument);
  EXPECT_NO_THROW(t.check_bounds(3, 1, 0, 0, "p"));
  EXPECT_EQ(parse_kind("cholesky_factor_corr"), Kind::kCholeskyCorr);
  EXPECT_EQ(kind_name(Kind::kSoftplus), "softplus");
  EXPECT_FALSE(parse_kind("nonsense").has_value());
}

}  // namespace
}  // namespace exmc::transform
