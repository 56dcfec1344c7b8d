// The approximation maths on hand-made iterate histories of quadratic targets.
#include "exmc/pathfinder/lbfgs_normal.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "exmc/core/rng.hpp"

namespace exmc::pathfinder {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// log p = -(x - mu)' A (x - mu) / 2 with a random well-conditioned precision A.
struct Quadratic {
  VectorXd mu;
  MatrixXd a;
  Quadratic(int d, uint64_t seed) : mu(d), a(d, d) {
    Rng rng(seed, 0);
    MatrixXd m(d, d);
    for (int i = 0; i < d; ++i) {
      mu[i] = rng.normal();
      for (int j = 0; j < d; ++j) m(i, j) = rng.normal();
    }
    a = m * m.transpose() / d + 0.5 * MatrixXd::Identity(d, d);
  }
  VectorXd grad(const VectorXd& x) const { return -a * (x - mu); }
};

// Feeds the iterates x_0 = start, x_i = x_{i-1} + steps.col(i-1) to a history.
void feed(CurvatureHistory& h, const Quadratic& q, const VectorXd& start, const MatrixXd& steps) {
  VectorXd x = start, g = q.grad(x);
  for (int i = 0; i < steps.cols(); ++i) {
    const VectorXd xn = x + steps.col(i), gn = q.grad(xn);
    EXPECT_TRUE(h.update(x.data(), g.data(), xn.data(), gn.data()));
    x = xn;
    g = gn;
  }
}

MatrixXd covariance_of(const LbfgsNormal& n) {
  const int d = int(n.dim());
  MatrixXd h(d, d);
  VectorXd e = VectorXd::Zero(d);
  for (int j = 0; j < d; ++j) {
    e.setZero();
    e[j] = 1;
    n.covariance_times(e.data(), h.col(j).data());
  }
  return h;
}

// Checks the factor, densities, diagonal and mean of `n` against the explicit H it represents.
void check_against_explicit(const LbfgsNormal& n, const VectorXd& x, const VectorXd& g) {
  const int d = int(n.dim());
  const MatrixXd h = covariance_of(n);
  EXPECT_LT((h - h.transpose()).cwiseAbs().maxCoeff(), 1e-10);
  Eigen::LLT<MatrixXd> llt(h);
  ASSERT_EQ(llt.info(), Eigen::Success);
  const VectorXd mean = Eigen::Map<const VectorXd>(n.mean().data(), d);
  EXPECT_LT((mean - (x + h * g)).cwiseAbs().maxCoeff(), 1e-10);
  for (int i = 0; i < d; ++i) EXPECT_NEAR(n.cov_diagonal()[i], h(i, i), 1e-10 * (1 + h(i, i)));
  double log_det = 0;
  for (int i = 0; i < d; ++i) log_det += 2 * std::log(MatrixXd(llt.matrixL())(i, i));
  EXPECT_NEAR(n.log_det_covariance(), log_det, 1e-9);

  // The factor F (columns transform(e_j) - mean) reproduces H.
  MatrixXd f(d, d);
  VectorXd e = VectorXd::Zero(d), out(d);
  for (int j = 0; j < d; ++j) {
    e.setZero();
    e[j] = 1;
    n.transform(e.data(), out.data());
    f.col(j) = out - mean;
  }
  EXPECT_LT((f * f.transpose() - h).cwiseAbs().maxCoeff(), 1e-9);

  // Densities: from u, at transform(u), and the closed form at an arbitrary point.
  Rng rng(11, 0);
  VectorXd u(d), z(d);
  for (int i = 0; i < d; ++i) u[i] = rng.normal();
  n.transform(u.data(), z.data());
  EXPECT_NEAR(n.log_density(z.data()), n.log_density_standard(u.data()), 1e-9);
  for (int i = 0; i < d; ++i) z[i] = mean[i] + rng.normal();
  const VectorXd r = z - mean;
  const double expected =
      -0.5 * (r.dot(llt.solve(r)) + log_det + d * std::log(2 * M_PI));
  EXPECT_NEAR(n.log_density(z.data()), expected, 1e-9);
}

TEST(CurvatureHistory, ConjugateStepsOnAQuadraticGiveTheExactInverseHessian) {
  // BFGS's hereditary property: with A-conjugate steps (A's eigenvectors) every secant
  // condition survives, so d pairs determine H = A^-1 whatever the diagonal start.
  const int d = 4;
  const Quadratic q(d, 1);
  Eigen::SelfAdjointEigenSolver<MatrixXd> eig(q.a);
  MatrixXd steps = eig.eigenvectors();
  for (int j = 0; j < d; ++j) steps.col(j) *= 0.5 + j;
  CurvatureHistory h(d, d);
  const VectorXd start = VectorXd::Constant(d, 2.0);
  feed(h, q, start, steps);
  const VectorXd x = start + steps.rowwise().sum(), g = q.grad(x);
  LbfgsNormal n;
  ASSERT_TRUE(LbfgsNormal::build(h, x.data(), g.data(), &n));
  EXPECT_FALSE(n.low_rank());
  const MatrixXd sigma = q.a.inverse();
  EXPECT_LT((covariance_of(n) - sigma).cwiseAbs().maxCoeff(), 1e-10);
  // mean = x + A^-1 A (mu - x) = mu.
  for (int i = 0; i < d; ++i) EXPECT_NEAR(n.mean()[i], q.mu[i], 1e-10);
  check_against_explicit(n, x, g);
}

TEST(CurvatureHistory, LowRankFactorMatchesTheExplicitCovariance) {
  // d = 12 with 3 pairs: 2m = 6 < d takes the QR path (Algorithm 4).
  const int d = 12;
  const Quadratic q(d, 2);
  Rng rng(5, 0);
  MatrixXd steps(d, 3);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < 3; ++j) steps(i, j) = rng.normal();
  CurvatureHistory h(d, 3);
  const VectorXd start = VectorXd::Zero(d);
  feed(h, q, start, steps);
  const VectorXd x = start + steps.rowwise().sum(), g = q.grad(x);
  LbfgsNormal n;
  ASSERT_TRUE(LbfgsNormal::build(h, x.data(), g.data(), &n));
  EXPECT_TRUE(n.low_rank());
  check_against_explicit(n, x, g);
  // BFGS's defining property: the newest secant condition H y = s holds exactly.
  VectorXd hy(d);
  n.covariance_times(h.y(2), hy.data());
  for (int i = 0; i < d; ++i) EXPECT_NEAR(hy[i], h.s(2)[i], 1e-10);
}

TEST(CurvatureHistory, DenseBranchWithFewerPairsThanCoordinates) {
  const int d = 4;  // 3 pairs: 2m = 6 >= d, the d x d factor
  const Quadratic q(d, 3);
  Rng rng(6, 0);
  MatrixXd steps(d, 3);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < 3; ++j) steps(i, j) = rng.normal();
  CurvatureHistory h(d, 5);
  feed(h, q, VectorXd::Ones(d), steps);
  const VectorXd x = VectorXd::Ones(d) + steps.rowwise().sum(), g = q.grad(x);
  LbfgsNormal n;
  ASSERT_TRUE(LbfgsNormal::build(h, x.data(), g.data(), &n));
  EXPECT_FALSE(n.low_rank());
  check_against_explicit(n, x, g);
}

TEST(CurvatureHistory, EmptyHistoryIsTheDiagonalStart) {
  const int d = 3;
  CurvatureHistory h(d, 5);
  const VectorXd x = VectorXd::Constant(d, 1.0), g = VectorXd::Constant(d, -0.5);
  LbfgsNormal n;
  ASSERT_TRUE(LbfgsNormal::build(h, x.data(), g.data(), &n));
  for (int i = 0; i < d; ++i) {
    EXPECT_DOUBLE_EQ(n.mean()[i], 0.5);
    EXPECT_DOUBLE_EQ(n.cov_diagonal()[i], 1.0);
  }
  EXPECT_DOUBLE_EQ(n.log_det_covariance(), 0.0);
  check_against_explicit(n, x, g);
}

TEST(CurvatureHistory, DiagonalUpdateAlongOneAxis) {
  // A step t e_0 on a diagonal quadratic: by hand, Gilbert-Lemarechal's update sets alpha_0 =
  // s_0 / y_0 = 1 / a_00 and rescales the others by b / a = 1 / a_00 (from alpha = 1).
  const int d = 3;
  CurvatureHistory h(d, 5);
  const double a00 = 4.0, t = 0.7;
  const double x0[d] = {0, 0, 0}, g0[d] = {0, 0, 0};
  const double x1[d] = {t, 0, 0}, g1[d] = {-a00 * t, 0, 0};
  ASSERT_TRUE(h.update(x0, g0, x1, g1));
  for (int i = 0; i < d; ++i) EXPECT_NEAR(h.alpha()[i], 1 / a00, 1e-15);
}

TEST(CurvatureHistory, SkipsPairsWithoutPositiveCurvature) {
  const int d = 2;
  CurvatureHistory h(d, 5);
  // log p = +x'x / 2 (convex log p): s'y = -s's < 0.
  const double x0[d] = {1, 1}, g0[d] = {1, 1}, x1[d] = {2, 1}, g1[d] = {2, 1};
  EXPECT_FALSE(h.update(x0, g0, x1, g1));
  // A step with no change of gradient: s'y = 0.
  EXPECT_FALSE(h.update(x0, g0, x1, g0));
  const double nan_g[d] = {NAN, 0};
  EXPECT_FALSE(h.update(x0, g0, x1, nan_g));
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(h.alpha(), std::vector<double>(d, 1.0));
}

TEST(CurvatureHistory, KeepsTheNewestPairs) {
  const int d = 2;
  CurvatureHistory h(d, 2);
  for (int i = 0; i < 4; ++i) {
    const double x0[d] = {double(i), 0}, g0[d] = {-double(i), 0};
    const double x1[d] = {double(i) + 1 + i, 0}, g1[d] = {-double(i) - 1 - i, 0};
    ASSERT_TRUE(h.update(x0, g0, x1, g1));
  }
  ASSERT_EQ(h.size(), 2u);
  EXPECT_DOUBLE_EQ(h.s(0)[0], 3.0);  // the third step (i = 2), then the fourth
  EXPECT_DOUBLE_EQ(h.s(1)[0], 4.0);
}

TEST(CurvatureHistory, RejectsBadSizes) {
  EXPECT_THROW(CurvatureHistory(0, 5), std::invalid_argument);
  EXPECT_THROW(CurvatureHistory(3, 0), std::invalid_argument);
}

}  // namespace
}  // namespace exmc::pathfinder
