#include "exmc/core/gaussian.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace exmc {
namespace {

// Correlated 2-d normal: cov = [[4, 1.2], [1.2, 1]].
const std::vector<double> kMean = {1.0, -2.0};
const std::vector<double> kCov = {4.0, 1.2, 1.2, 1.0};

TEST(Gaussian, LogDensityMatchesTheClosedForm) {
  const auto g = Gaussian::from_covariance(kMean, kCov);
  const double x[2] = {0.3, -1.1};
  const double det = 4.0 * 1.0 - 1.2 * 1.2;
  const double dx = x[0] - kMean[0], dy = x[1] - kMean[1];
  // inverse of [[a, b], [b, c]] is [[c, -b], [-b, a]] / det
  const double q = (1.0 * dx * dx - 2 * 1.2 * dx * dy + 4.0 * dy * dy) / det;
  const double expected = -std::log(2 * M_PI) - 0.5 * std::log(det) - 0.5 * q;
  EXPECT_NEAR(g.log_density(x), expected, 1e-13);
  EXPECT_NEAR(g.log_det_covariance(), std::log(det), 1e-13);
  const auto c = g.covariance();
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(c[i], kCov[i], 1e-13);
}

TEST(Gaussian, DiagonalEqualsDenseWithDiagonalCovariance) {
  const auto diag = Gaussian::diagonal(kMean, {2.0, 0.5});
  const auto dense = Gaussian::from_covariance(kMean, {4.0, 0.0, 0.0, 0.25});
  const double x[2] = {-0.7, 0.4};
  EXPECT_NEAR(diag.log_density(x), dense.log_density(x), 1e-13);
  Rng a(3, 1), b(3, 1);
  double u[2], v[2];
  diag.sample(a, u);
  dense.sample(b, v);
  EXPECT_NEAR(u[0], v[0], 1e-14);
  EXPECT_NEAR(u[1], v[1], 1e-14);
}

TEST(Gaussian, DrawsHaveTheMeanAndCovarianceWithinFiveMcse) {
  const auto g = Gaussian::from_covariance(kMean, kCov);
  Rng rng(42, 0);
  const int n = 100000;
  double s0 = 0, s1 = 0, s00 = 0, s01 = 0, s11 = 0;
  for (int i = 0; i < n; ++i) {
    double x[2];
    g.sample(rng, x);
    const double a = x[0] - kMean[0], b = x[1] - kMean[1];
    s0 += a;
    s1 += b;
    s00 += a * a;
    s01 += a * b;
    s11 += b * b;
  }
  // MCSE of a mean: sd / sqrt(n); of a second moment E[ab]: sqrt(Var(ab) / n) with
  // Var(ab) = s_aa s_bb + s_ab^2 for a normal pair.
  EXPECT_NEAR(s0 / n, 0.0, 5 * std::sqrt(4.0 / n));
  EXPECT_NEAR(s1 / n, 0.0, 5 * std::sqrt(1.0 / n));
  EXPECT_NEAR(s00 / n, 4.0, 5 * std::sqrt(2 * 16.0 / n));
  EXPECT_NEAR(s11 / n, 1.0, 5 * std::sqrt(2 * 1.0 / n));
  EXPECT_NEAR(s01 / n, 1.2, 5 * std::sqrt((4.0 + 1.44) / n));
}

TEST(Gaussian, RejectsACovarianceThatIsNotPositiveDefinite) {
  EXPECT_THROW(Gaussian::from_covariance({0, 0}, {1, 2, 2, 1}), std::invalid_argument);
  EXPECT_THROW(Gaussian::diagonal({0}, {0.0}), std::invalid_argument);
  EXPECT_THROW(Gaussian::from_covariance({0, 0}, {1, 0, 0}), std::invalid_argument);
}

TEST(Gaussian, TransformOfZAndTheLogDensityFromZAgreeWithTheDefinitions) {
  // A dense 7-d factor: transform(z) = mean + L z, in place too, and log_density_from_z(z)
  // equals log_density at that point.
  const size_t d = 7;
  std::vector<double> mean(d), chol(d * d, 0.0);
  for (size_t i = 0; i < d; ++i) {
    mean[i] = 0.5 * double(i) - 1;
    for (size_t j = 0; j <= i; ++j) chol[j * d + i] = i == j ? 1.0 + 0.1 * double(i) : 0.3 / double(1 + i + j);
  }
  const auto g = Gaussian::from_cholesky(mean, chol);
  std::vector<double> z(d), x(d);
  for (size_t i = 0; i < d; ++i) z[i] = std::sin(double(i) + 0.5);
  g.transform(z.data(), x.data());
  for (size_t r = 0; r < d; ++r) {
    double expected = mean[r];
    for (size_t k = 0; k <= r; ++k) expected += chol[k * d + r] * z[k];
    EXPECT_NEAR(x[r], expected, 1e-14) << r;
  }
  std::vector<double> in_place = z;
  g.transform(in_place.data(), in_place.data());
  EXPECT_EQ(in_place, x);
  EXPECT_NEAR(g.log_density_from_z(z.data()), g.log_density(x.data()), 1e-12);

  // Three points at once, dense and diagonal: as one at a time, up to rounding.
  std::vector<double> zs(3 * d), many(3 * d), one(d);
  for (size_t i = 0; i < zs.size(); ++i) zs[i] = std::cos(0.7 * double(i));
  const auto diagonal = Gaussian::diagonal(mean, std::vector<double>(d, 1.5));
  for (const Gaussian* q : {&g, &diagonal}) {
    q->transform_many(zs.data(), many.data(), 3);
    for (size_t k = 0; k < 3; ++k) {
      q->transform(zs.data() + k * d, one.data());
      for (size_t r = 0; r < d; ++r) EXPECT_NEAR(many[k * d + r], one[r], 1e-14) << k << "," << r;
    }
  }
}

}  // namespace
}  // namespace exmc
