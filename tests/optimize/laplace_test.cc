#include "exmc/optimize/laplace.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "targets.hpp"

namespace exmc::optimize {
namespace {

using testing::CorrelatedGaussian;

std::vector<double> to_std(const Eigen::VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

TEST(Laplace, ApproximationOfGaussianIsExact) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const Gaussian q = laplace_approximation(*ld, to_std(t.mu));
  EXPECT_EQ(q.mean(), to_std(t.mu));
  const std::vector<double> cov = q.covariance();
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_NEAR(cov[j * 5 + i], t.sigma(i, j), 1e-6 * t.sigma(i, i)) << i << "," << j;
}

TEST(Laplace, DrawsMatchTheTargetWithinMonteCarloError) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const Gaussian q = laplace_approximation(*ld, to_std(t.mu));
  const size_t n = 4000;
  const ApproxDraws draws = laplace_draws(*ld, q, n, 20240611);
  ASSERT_EQ(draws.size(), n);
  ASSERT_EQ(draws.dim, 5u);
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(5);
  for (size_t k = 0; k < n; ++k) mean += Eigen::Map<const Eigen::VectorXd>(draws.draw(k), 5);
  mean /= double(n);
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(5, 5);
  for (size_t k = 0; k < n; ++k) {
    const Eigen::VectorXd r = Eigen::Map<const Eigen::VectorXd>(draws.draw(k), 5) - t.mu;
    cov += r * r.transpose();
  }
  cov /= double(n);  // centred at the true mean, so unbiased with this divisor
  for (int i = 0; i < 5; ++i) {
    // Independent draws: n_eff = n.
    EXPECT_LT(std::fabs(mean[i] - t.mu[i]), 4 * std::sqrt(t.sigma(i, i) / n)) << i;
    for (int j = 0; j <= i; ++j) {
      // Var(r_i r_j) = S_ii S_jj + S_ij^2 for a normal.
      const double sd = std::sqrt((t.sigma(i, i) * t.sigma(j, j) + t.sigma(i, j) * t.sigma(i, j)) / n);
      EXPECT_LT(std::fabs(cov(i, j) - t.sigma(i, j)), 4 * sd) << i << "," << j;
    }
  }
}

TEST(Laplace, LogDensitiesPerDraw) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const Gaussian q = laplace_approximation(*ld, to_std(t.mu));
  const ApproxDraws draws = laplace_draws(*ld, q, 200, 7);
  const double log_norm = 0.5 * (5 * std::log(2 * M_PI) + std::log(t.sigma.determinant()));
  for (size_t k = 0; k < draws.size(); ++k) {
    const Eigen::VectorXd r = Eigen::Map<const Eigen::VectorXd>(draws.draw(k), 5) - t.mu;
    const double closed = -0.5 * r.dot(t.precision * r) - log_norm;
    EXPECT_NEAR(draws.log_q[k], closed, 1e-8 * std::max(1.0, std::fabs(closed)));
    EXPECT_DOUBLE_EQ(draws.log_p[k], ld->logp(draws.draw(k)));
    // The target is this normal up to its normalising constant.
    EXPECT_NEAR(draws.log_p[k] - draws.log_q[k], log_norm, 1e-6);
  }
}

TEST(Laplace, DrawsAreAFunctionOfTheSeed) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const Gaussian q = laplace_approximation(*ld, to_std(t.mu));
  const ApproxDraws a = laplace_draws(*ld, q, 50, 3), b = laplace_draws(*ld, q, 50, 3), c = laplace_draws(*ld, q, 50, 4);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.log_p, b.log_p);
  EXPECT_NE(a.x, c.x);
}

// A cancelled caller (Ctrl-C in Python) waited for every draw: 3e6 draws ran on after it. The
// stop callback is asked between blocks; the draws made before it said stop are those of an
// uninterrupted run.
TEST(Laplace, DrawsStopBetweenBlocksWhenAsked) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const Gaussian q = laplace_approximation(*ld, to_std(t.mu));
  int asked = 0;
  const ApproxDraws stopped = laplace_draws(*ld, q, 1000, 3, [&] { return ++asked > 2; });
  const ApproxDraws whole = laplace_draws(*ld, q, 1000, 3);
  ASSERT_EQ(whole.size(), 1000u);
  ASSERT_GT(stopped.size(), 0u);
  ASSERT_LT(stopped.size(), 1000u);
  EXPECT_EQ(stopped.x.size(), stopped.size() * stopped.dim);
  EXPECT_EQ(stopped.log_q.size(), stopped.size());
  EXPECT_EQ(std::vector<double>(whole.x.begin(), whole.x.begin() + std::ptrdiff_t(stopped.x.size())), stopped.x);
  EXPECT_EQ(std::vector<double>(whole.log_p.begin(), whole.log_p.begin() + std::ptrdiff_t(stopped.size())),
            stopped.log_p);
}

TEST(Laplace, NonFiniteLogDensityBecomesMinusInfinity) {
  // Standard normal, but NaN for x_0 > 0 and a throw for x_1 > 1.5: the draws stay, log_p = -inf.
  auto ld = make_log_density(2, [](const double* x, double* g) {
    if (x[1] > 1.5) throw std::domain_error("outside");
    g[0] = -x[0];
    g[1] = -x[1];
    return x[0] > 0 ? std::numeric_limits<double>::quiet_NaN() : -0.5 * (x[0] * x[0] + x[1] * x[1]);
  });
  const Gaussian q = Gaussian::diagonal({0, 0}, {1, 1});
  const ApproxDraws d = laplace_draws(*ld, q, 400, 11);
  size_t neg_inf = 0;
  for (size_t k = 0; k < d.size(); ++k) {
    EXPECT_FALSE(std::isnan(d.log_p[k]));
    const bool outside = d.draw(k)[0] > 0 || d.draw(k)[1] > 1.5;
    EXPECT_EQ(d.log_p[k] == -std::numeric_limits<double>::infinity(), outside) << k;
    neg_inf += outside;
    EXPECT_TRUE(std::isfinite(d.log_q[k]));
  }
  EXPECT_GT(neg_inf, 0u);
}

TEST(Laplace, SaddleIsNotNegativeDefinite) {
  // log p = -a^2 / 2 + b^2 / 2 - c^2: at 0 it curves upward along b.
  auto ld = make_log_density(
      3,
      [](const double* x, double* g) {
        g[0] = -x[0];
        g[1] = x[1];
        g[2] = -2 * x[2];
        return -0.5 * x[0] * x[0] + 0.5 * x[1] * x[1] - x[2] * x[2];
      },
      {VarInfo{"a", {}}, VarInfo{"b", {}}, VarInfo{"c", {}}});
  try {
    laplace_approximation(*ld, {0, 0, 0});
    FAIL() << "no throw";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("not negative definite"), std::string::npos) << m;
    EXPECT_NE(m.find("coordinate 2 'b'"), std::string::npos) << m;
  }
  EXPECT_THROW(laplace_approximation(*ld, {0, 0}), std::invalid_argument);
  EXPECT_THROW(laplace_draws(*ld, Gaussian::diagonal({0, 0}, {1, 1}), 10, 1), std::invalid_argument);
}

TEST(Laplace, LargeSaddleIsNamedWithoutAnEigendecomposition) {
  // 1,600 coordinates (past the eigendecomposition's limit): independent normals except
  // coordinate 1,235, along which log p curves upward; a weak coupling of neighbours keeps the
  // Hessian from being diagonal.
  const size_t d = 1600, up = 1234;
  auto ld = make_log_density(d, [&](const double* x, double* g) {
    double lp = 0;
    for (size_t i = 0; i < d; ++i) {
      const double sign = i == up ? 1.0 : -1.0;
      lp += 0.5 * sign * x[i] * x[i];
      g[i] = sign * x[i];
    }
    for (size_t i = 0; i + 1 < d; ++i) {
      lp -= 0.01 * x[i] * x[i + 1];
      g[i] -= 0.01 * x[i + 1];
      g[i + 1] -= 0.01 * x[i];
    }
    return lp;
  });
  uint64_t evals = 0;
  try {
    laplace_approximation(*ld, std::vector<double>(d, 0.0), &evals);
    FAIL() << "no throw";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("not negative definite (coordinate 1235 'x.1235' dominates"), std::string::npos) << m;
  }
}

TEST(Laplace, CountsTheHessiansGradientCalls) {
  CorrelatedGaussian t;
  auto ld = t.density();
  uint64_t evals = 0;
  laplace_approximation(*ld, to_std(t.mu), &evals);
  EXPECT_EQ(evals, 4u * 5 + 1);  // four per coordinate and one at the mode
}

}  // namespace
}  // namespace exmc::optimize
