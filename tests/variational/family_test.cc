// The variational families: transform, entropy and ELBO gradient against finite differences.
#include "exmc/variational/internal/family.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "exmc/core/rng.hpp"

namespace exmc::variational::internal {
namespace {

constexpr double kLogTwoPi = 1.8378770664093454836;

// A non-quadratic log density so the chain rule through z is exercised: sum_i -cosh(a_i z_i) + b_i z_i.
double logp(const std::vector<double>& z, std::vector<double>* g) {
  double v = 0;
  if (g) g->assign(z.size(), 0.0);
  for (size_t i = 0; i < z.size(); ++i) {
    const double a = 0.3 + 0.1 * double(i), b = 0.2 * double(i) - 0.3;
    v += -std::cosh(a * z[i]) + b * z[i];
    if (g) (*g)[i] = -a * std::sinh(a * z[i]) + b;
  }
  return v;
}

// ELBO integrand for one fixed eta: log p(transform(eta)) + entropy.
double integrand(const NormalFamily& q, const std::vector<double>& eta) {
  std::vector<double> z(q.dim());
  q.transform(eta.data(), z.data());
  return logp(z, nullptr) + q.entropy();
}

void check_gradient(bool fullrank) {
  const size_t d = 4;
  const std::vector<double> mu = {0.5, -1.0, 0.2, 1.5};
  NormalFamily q(fullrank, d, mu.data());
  Rng rng(7, 0);
  for (double& t : q.theta()) t += 0.3 * rng.normal();  // move off omega = 0 / L = I
  if (fullrank) q.theta()[d] = -0.8;                     // a negative diagonal entry is allowed
  std::vector<double> eta(d);
  for (double& e : eta) e = rng.normal();

  std::vector<double> z(d), g, grad(q.size(), 0.0);
  q.transform(eta.data(), z.data());
  logp(z, &g);
  q.add_logp_grad(g.data(), eta.data(), grad.data());
  q.add_entropy_grad(grad.data());

  for (size_t k = 0; k < q.size(); ++k) {
    const double h = 1e-6;
    NormalFamily hi = q, lo = q;
    hi.theta()[k] += h;
    lo.theta()[k] -= h;
    const double fd = (integrand(hi, eta) - integrand(lo, eta)) / (2 * h);
    // Central differences are accurate to O(h^2) + rounding (~1e-16 / h); 1e-7 leaves room.
    EXPECT_NEAR(grad[k], fd, 1e-7 * (1 + std::fabs(fd))) << "parameter " << k;
  }
}

TEST(NormalFamily, MeanfieldGradientMatchesFiniteDifferences) { check_gradient(false); }
TEST(NormalFamily, FullrankGradientMatchesFiniteDifferences) { check_gradient(true); }

TEST(NormalFamily, StartsAtIdentityScale) {
  const std::vector<double> mu = {1, 2, 3};
  for (bool fr : {false, true}) {
    NormalFamily q(fr, 3, mu.data());
    EXPECT_EQ(q.size(), fr ? 3u + 6u : 6u);
    const std::vector<double> eta = {0.1, -0.2, 0.3};
    std::vector<double> z(3);
    q.transform(eta.data(), z.data());
    for (size_t i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(z[i], mu[i] + eta[i]);
    EXPECT_NEAR(q.entropy(), 1.5 * (1 + kLogTwoPi), 1e-14);
  }
}

TEST(NormalFamily, FullrankGaussianMatchesTransformAndEntropy) {
  const size_t d = 3;
  const std::vector<double> mu = {0.1, 0.2, 0.3};
  NormalFamily q(true, d, mu.data());
  // packed columns: (L00, L10, L20), (L11, L21), (L22)
  q.theta() = {0.1, 0.2, 0.3, -2.0, 0.5, 0.7, 1.5, -0.4, -0.3};
  const Gaussian gq = q.to_gaussian();
  ASSERT_FALSE(gq.is_diagonal());
  for (size_t j = 0; j < d; ++j) EXPECT_GT(gq.scale()[j * d + j], 0);
  // Same covariance as the signed L: compare L L' built from the transform of unit vectors.
  std::vector<double> cov = gq.covariance(), lcols(d * d), z(d);
  for (size_t j = 0; j < d; ++j) {
    std::vector<double> e(d, 0.0);
    e[j] = 1;
    q.transform(e.data(), z.data());
    for (size_t i = 0; i < d; ++i) lcols[j * d + i] = z[i] - mu[i];
  }
  for (size_t r = 0; r < d; ++r)
    for (size_t c = 0; c < d; ++c) {
      double s = 0;
      for (size_t k = 0; k < d; ++k) s += lcols[k * d + r] * lcols[k * d + c];
      EXPECT_NEAR(cov[c * d + r], s, 1e-12);
    }
  // Entropy of N(mu, S) is d/2 (1 + log 2 pi) + log det(S) / 2.
  EXPECT_NEAR(q.entropy(), 0.5 * d * (1 + kLogTwoPi) + 0.5 * gq.log_det_covariance(), 1e-12);
}

TEST(NormalFamily, MeanfieldGaussianHasExpOmegaScales) {
  const std::vector<double> mu = {1, -1};
  NormalFamily q(false, 2, mu.data());
  q.theta()[2] = std::log(0.5);
  q.theta()[3] = std::log(3.0);
  const Gaussian gq = q.to_gaussian();
  ASSERT_TRUE(gq.is_diagonal());
  EXPECT_NEAR(gq.scale()[0], 0.5, 1e-15);
  EXPECT_NEAR(gq.scale()[1], 3.0, 1e-15);
  EXPECT_NEAR(q.entropy(), 1 + kLogTwoPi + 0.5 * gq.log_det_covariance(), 1e-12);
}

}  // namespace
}  // namespace exmc::variational::internal
