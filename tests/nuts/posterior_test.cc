// Posterior accuracy: Gaussians and conjugate models with closed forms, within 4 MCSE.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <cmath>

#include "test_util.hpp"

namespace exmc::testing {
namespace {

nuts::SamplerConfig standard_config() {
  nuts::SamplerConfig cfg;
  cfg.num_warmup = 1000;
  cfg.num_samples = 2000;
  return cfg;
}

// Messages of the non-fatal failures `check` reports (swallowed, not failing this test).
std::string failures_of(const std::function<void()>& check) {
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    check();
  }
  std::string all;
  for (int i = 0; i < results.size(); ++i) all += results.GetTestPartResult(i).message();
  return all;
}

// The 4-MCSE check has power: exact draws pass, and at 4 x 2000 draws a shift of 0.1 sd in the
// mean, a 10% wider sd, or heavy tails (Student-t 3 rescaled to unit variance) each fail the
// statistic they should.
TEST(McseCheck, PassesExactDrawsAndRejectsSmallErrors) {
  Rng rng(404, 0);
  auto draws = [&](const std::function<double()>& draw) {
    ChainsOf c;
    for (int k = 0; k < 4; ++k) {
      c.chains.emplace_back();
      for (int i = 0; i < 2000; ++i) c.chains.back().push_back(draw());
    }
    return c;
  };
  const ChainsOf exact = draws([&] { return rng.normal(); });
  EXPECT_EQ(failures_of([&] { expect_matches(exact, normal_truth(0, 1), "exact"); }), "");
  const ChainsOf shifted = draws([&] { return 0.1 + rng.normal(); });
  EXPECT_NE(failures_of([&] { expect_matches(shifted, normal_truth(0, 1), "shifted"); })
                .find("shifted: mean"),
            std::string::npos);
  const ChainsOf wide = draws([&] { return 1.1 * rng.normal(); });
  EXPECT_NE(failures_of([&] { expect_matches(wide, normal_truth(0, 1), "wide"); })
                .find("wide: variance"),
            std::string::npos);
  const ChainsOf heavy = draws([&] {
    double chi2 = 0;
    for (int j = 0; j < 3; ++j) {
      const double z = rng.normal();
      chi2 += z * z;
    }
    return rng.normal() / std::sqrt(chi2 / 3) / std::sqrt(3.0);
  });
  const std::string heavy_failures =
      failures_of([&] { expect_matches(heavy, normal_truth(0, 1), "heavy"); });
  EXPECT_NE(heavy_failures.find("heavy: 5% quantile"), std::string::npos) << heavy_failures;
  EXPECT_NE(heavy_failures.find("heavy: 95% quantile"), std::string::npos) << heavy_failures;
}

class StandardNormal : public ::testing::TestWithParam<size_t> {};

TEST_P(StandardNormal, MomentsAndQuantilesWithin4Mcse) {
  const size_t d = GetParam();
  auto ld = scaled_normal(d);
  const auto draws = sample_chains(*ld, standard_config(), 4, 20261122 + d);
  for (size_t i = 0; i < d; ++i)
    expect_matches(draws[i], normal_truth(0, 1), "x[" + std::to_string(i) + "]");
}

INSTANTIATE_TEST_SUITE_P(Dims, StandardNormal, ::testing::Values(1, 10, 100));

TEST(StandardNormal, GradientMetricAdaptationAlsoMatches) {
  auto ld = scaled_normal(10, {0.1, 0.3, 1, 3, 10, 0.5, 2, 5, 0.2, 1});
  auto cfg = standard_config();
  cfg.metric_adaptation = nuts::MetricAdaptation::Gradient;
  const auto draws = sample_chains(*ld, cfg, 4, 99);
  const double sd[] = {0.1, 0.3, 1, 3, 10, 0.5, 2, 5, 0.2, 1};
  for (size_t i = 0; i < 10; ++i)
    expect_matches(draws[i], normal_truth(0, sd[i]), "x[" + std::to_string(i) + "]");
}

// Correlated Gaussian: Sigma_ij = s_i s_j 0.95^|i-j|, sampled with an adapted dense metric.
TEST(CorrelatedNormal, DenseMetricMatchesMarginals) {
  const size_t d = 4;
  const double s[d] = {1, 2, 0.5, 3};
  std::vector<double> S(d * d), P(d * d);
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j < d; ++j) S[i * d + j] = s[i] * s[j] * std::pow(0.95, std::fabs(double(i) - j));
  // Invert by Gauss-Jordan (small, well conditioned enough).
  std::vector<double> A = S;
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j < d; ++j) P[i * d + j] = i == j;
  for (size_t c = 0; c < d; ++c) {
    const double piv = A[c * d + c];
    for (size_t j = 0; j < d; ++j) A[c * d + j] /= piv, P[c * d + j] /= piv;
    for (size_t r = 0; r < d; ++r) {
      if (r == c) continue;
      const double f = A[r * d + c];
      for (size_t j = 0; j < d; ++j) A[r * d + j] -= f * A[c * d + j], P[r * d + j] -= f * P[c * d + j];
    }
  }
  auto ld = make_log_density(d, [P, d](const double* x, double* g) {
    double lp = 0;
    for (size_t i = 0; i < d; ++i) {
      double r = 0;
      for (size_t j = 0; j < d; ++j) r += P[i * d + j] * x[j];
      g[i] = -r;
      lp -= 0.5 * x[i] * r;
    }
    return lp;
  });
  auto cfg = standard_config();
  cfg.metric = nuts::MetricKind::Dense;
  std::vector<nuts::ChainSampler*> unused;
  const auto draws = sample_chains(*ld, cfg, 4, 4242);
  for (size_t i = 0; i < d; ++i)
    expect_matches(draws[i], normal_truth(0, s[i]), "x[" + std::to_string(i) + "]");
  // The product x0*x1 has mean Sigma_01 = 0.95 * 2: the correlation is right, not just marginals.
  ChainsOf prod;
  for (size_t c = 0; c < 4; ++c) {
    prod.chains.emplace_back();
    for (size_t k = 0; k < draws[0].chains[c].size(); ++k)
      prod.chains.back().push_back(draws[0].chains[c][k] * draws[1].chains[c][k]);
  }
  const auto all = prod.pooled();
  EXPECT_LT(std::fabs(mean_of(all) - 1.9), 4 * std::sqrt(var_of(all) / prod.ess()));
}

// Normal-normal: y_i ~ N(mu, 1), mu ~ N(0, 2^2).
TEST(Conjugate, NormalNormal) {
  const std::vector<double> y = {1.2, 0.4, 2.1, 1.7, 0.9, 1.5, 2.4, 0.3, 1.1, 1.8};
  const double s0 = 2.0;
  auto ld = make_log_density(1, [y, s0](const double* x, double* g) {
    const double mu = x[0];
    double lp = -0.5 * mu * mu / (s0 * s0), gr = -mu / (s0 * s0);
    for (double yi : y) lp -= 0.5 * (yi - mu) * (yi - mu), gr += yi - mu;
    g[0] = gr;
    return lp;
  });
  double sum = 0;
  for (double yi : y) sum += yi;
  const double prec = 1 / (s0 * s0) + y.size();
  const auto draws = sample_chains(*ld, standard_config(), 4, 7);
  expect_matches(draws[0], normal_truth(sum / prec, std::sqrt(1 / prec)), "mu");
}

// Beta-binomial on the logit scale: theta ~ Beta(2, 3), 7 successes in 20 trials.
class LogitBeta final : public LogDensity {
 public:
  size_t dim() const override { return 1; }
  double logp_grad(const double* x, double* g) const override {
    const double u = x[0];
    const double th = 1 / (1 + std::exp(-u));
    // log Beta kernel + log Jacobian theta(1-theta): (a+k) log th + (b+n-k) log(1-th).
    const double A = 2 + 7, B = 3 + 13;
    g[0] = A * (1 - th) - B * th;
    return -A * std::log1p(std::exp(-u)) - B * std::log1p(std::exp(u));
  }
  std::vector<VarInfo> output_vars() const override { return {VarInfo{"theta", {}}}; }
  void constrain(const double* x, double* out) const override { out[0] = 1 / (1 + std::exp(-x[0])); }
};

TEST(Conjugate, BetaBinomialViaLogit) {
  LogitBeta ld;
  const boost::math::beta_distribution<> post(9, 16);
  const Truth t{boost::math::mean(post), boost::math::variance(post),
                boost::math::quantile(post, 0.05), boost::math::quantile(post, 0.95),
                [post](double x) { return boost::math::pdf(post, x); }};
  const auto draws = sample_chains(ld, standard_config(), 4, 11);
  expect_matches(draws[0], t, "theta");
}

// Gamma-Poisson on the log scale: lambda ~ Gamma(3, rate 1), y = {2, 4, 3, 6, 1}.
class LogGamma final : public LogDensity {
 public:
  size_t dim() const override { return 1; }
  double logp_grad(const double* x, double* g) const override {
    const double a = 3 + 16, b = 1 + 5;  // posterior shape, rate; +u is the log Jacobian
    const double lam = std::exp(x[0]);
    g[0] = a - b * lam;
    return a * x[0] - b * lam;
  }
  std::vector<VarInfo> output_vars() const override { return {VarInfo{"lambda", {}}}; }
  void constrain(const double* x, double* out) const override { out[0] = std::exp(x[0]); }
};

TEST(Conjugate, GammaPoissonViaLog) {
  LogGamma ld;
  const boost::math::gamma_distribution<> post(19, 1.0 / 6);
  const Truth t{boost::math::mean(post), boost::math::variance(post),
                boost::math::quantile(post, 0.05), boost::math::quantile(post, 0.95),
                [post](double x) { return boost::math::pdf(post, x); }};
  const auto draws = sample_chains(ld, standard_config(), 4, 13);
  expect_matches(draws[0], t, "lambda");
}

}  // namespace
}  // namespace exmc::testing
