#include "exmc/optimize/hessian.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "targets.hpp"

namespace exmc::optimize {
namespace {

TEST(Hessian, CorrelatedGaussianIsMinusPrecision) {
  testing::CorrelatedGaussian t;
  auto ld = t.density();
  const double scale = t.precision.cwiseAbs().maxCoeff();
  for (const std::vector<double>& x : {std::vector<double>{0, 0, 0, 0, 0}, std::vector<double>{1, -2, 0.5, 3, -0.25},
                                       std::vector<double>{-40, 7, 1e3, -2, 0.001}}) {
    double lp = 0;
    uint64_t evals = 0;
    const std::vector<double> h = hessian(*ld, x.data(), &lp, &evals);
    ASSERT_EQ(h.size(), 25u);
    EXPECT_EQ(evals, 4u * 5u + 1u);
    EXPECT_DOUBLE_EQ(lp, ld->logp(x.data()));
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) {
        EXPECT_NEAR(h[j * 5 + i], -t.precision(i, j), 1e-6 * scale) << i << "," << j;
        EXPECT_EQ(h[j * 5 + i], h[i * 5 + j]);  // symmetrised exactly
      }
  }
}

// A non-quadratic target with a known Hessian: log p = -exp(a) + a b - b^4 / 4.
TEST(Hessian, MatchesAnalyticHessianOfNonQuadratic) {
  auto ld = make_log_density(2, [](const double* x, double* g) {
    g[0] = -std::exp(x[0]) + x[1];
    g[1] = x[0] - x[1] * x[1] * x[1];
    return -std::exp(x[0]) + x[0] * x[1] - std::pow(x[1], 4) / 4;
  });
  for (const std::vector<double>& x : {std::vector<double>{0.3, -1.2}, std::vector<double>{-2, 5}}) {
    const std::vector<double> h = hessian(*ld, x.data());
    const double haa = -std::exp(x[0]), hbb = -3 * x[1] * x[1];
    EXPECT_NEAR(h[0], haa, 1e-8 * std::max(1.0, std::fabs(haa)));
    EXPECT_NEAR(h[3], hbb, 1e-8 * std::max(1.0, std::fabs(hbb)));
    EXPECT_NEAR(h[1], 1.0, 1e-8);
    EXPECT_NEAR(h[2], 1.0, 1e-8);
  }
}

TEST(Hessian, NonFiniteNeighbourNamesTheCoordinate) {
  auto ld = make_log_density(
      2,
      [](const double* x, double* g) {
        g[0] = -x[0];
        g[1] = -x[1];
        return x[1] > 1 ? std::numeric_limits<double>::quiet_NaN() : -0.5 * (x[0] * x[0] + x[1] * x[1]);
      },
      {VarInfo{"a", {}}, VarInfo{"b", {}}});
  const std::vector<double> x = {0, 1 - 1e-9};
  try {
    hessian(*ld, x.data());
    FAIL() << "no throw";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("coordinate 2"), std::string::npos) << m;
    EXPECT_NE(m.find("'b'"), std::string::npos) << m;
  }
  const std::vector<double> outside = {0, 2};
  EXPECT_THROW(hessian(*ld, outside.data()), std::runtime_error);
}

}  // namespace
}  // namespace exmc::optimize
