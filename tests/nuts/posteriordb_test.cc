// posteriordb gold standard: eight schools (non-centred), hand-written density, within 4 MCSE.
#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace exmc::testing {
namespace {

// x = (theta_trans[1..8], mu, log tau); theta = mu + tau * theta_trans.
class EightSchoolsNoncentered final : public LogDensity {
 public:
  const double y[8] = {28, 8, -3, 7, -1, 1, 18, 12};
  const double sigma[8] = {15, 10, 16, 11, 9, 11, 10, 18};
  size_t dim() const override { return 10; }
  double logp_grad(const double* x, double* g) const override {
    const double mu = x[8], tau = std::exp(x[9]);
    double lp = 0, g_mu = 0, g_tau = 0;
    for (int j = 0; j < 8; ++j) {
      const double th = mu + tau * x[j];
      const double r = (y[j] - th) / (sigma[j] * sigma[j]);
      lp += -0.5 * x[j] * x[j] - 0.5 * (y[j] - th) * r;
      g[j] = -x[j] + r * tau;
      g_mu += r;
      g_tau += r * x[j];
    }
    lp += -mu * mu / 50.0 - std::log1p(tau * tau / 25.0) + x[9];  // + log Jacobian of exp
    g[8] = g_mu - mu / 25.0;
    g[9] = (g_tau - 2.0 * tau / (25.0 + tau * tau)) * tau + 1.0;
    return lp;
  }
  std::vector<VarInfo> output_vars() const override {
    return {VarInfo{"theta", {8}}, VarInfo{"mu", {}}, VarInfo{"tau", {}}};
  }
  void constrain(const double* x, double* out) const override {
    const double tau = std::exp(x[9]);
    for (int j = 0; j < 8; ++j) out[j] = x[8] + tau * x[j];
    out[8] = x[8];
    out[9] = tau;
  }
};

TEST(PosteriorDb, EightSchoolsGradientIsRight) {
  EightSchoolsNoncentered ld;
  std::vector<double> x = {0.3, -0.2, 1.1, 0.5, -0.7, 0.1, 0.9, -1.3, 2.5, 1.2}, g(10), g2(10);
  ld.logp_grad(x.data(), g.data());
  for (int i = 0; i < 10; ++i) {
    auto xp = x, xm = x;
    xp[i] += 1e-6;
    xm[i] -= 1e-6;
    const double fd = (ld.logp_grad(xp.data(), g2.data()) - ld.logp_grad(xm.data(), g2.data())) / 2e-6;
    EXPECT_NEAR(g[i], fd, 1e-6 * (1 + std::fabs(fd))) << i;
  }
}

class EightSchools : public ::testing::TestWithParam<nuts::MetricAdaptation> {};

TEST_P(EightSchools, NoncenteredMatchesReference) {
  std::ifstream f(std::string(EXMC_SHARED_DIR) +
                  "/posteriordb/eight_schools-eight_schools_noncentered/reference.json");
  if (!f) EXMC_SKIP_UNLESS_CI() << "posteriordb reference not found under " << EXMC_SHARED_DIR;
  const auto ref = nlohmann::json::parse(f)["parameters"];
  EightSchoolsNoncentered ld;
  nuts::SamplerConfig cfg;
  cfg.num_warmup = 1000;
  cfg.num_samples = 2000;
  cfg.dual_averaging.delta = 0.9;  // a handful of divergences otherwise; they are not the point
  cfg.metric_adaptation = GetParam();
  const auto draws = sample_chains(ld, cfg, 4, 8);
  const std::vector<std::string> names = {"theta[1]", "theta[2]", "theta[3]", "theta[4]",
                                          "theta[5]", "theta[6]", "theta[7]", "theta[8]",
                                          "mu",       "tau"};
  for (size_t k = 0; k < names.size(); ++k) {
    const auto& r = ref[names[k]];
    const double ref_mean = r["mean"], ref_sd = r["sd"], ref_mcse = r["pdb_mcse_mean"];
    const double ref_ess = r["ref_ess_bulk"];
    const auto all = draws[k].pooled();
    const double m = mean_of(all), sd = std::sqrt(var_of(all));
    const double mcse = std::sqrt(var_of(all) / draws[k].ess());
    EXPECT_LT(std::fabs(m - ref_mean), 4 * std::hypot(mcse, ref_mcse))
        << names[k] << " mean " << m << " vs " << ref_mean;
    // sd: MCSE of the variance estimate by the delta method, plus the reference's share.
    const ChainsOf sq = draws[k].map([&](double x) { return (x - m) * (x - m); });
    const double mcse_sd = std::sqrt(var_of(sq.pooled()) / sq.ess()) / (2 * sd);
    const double ref_mcse_sd = ref_sd / std::sqrt(2 * ref_ess);
    EXPECT_LT(std::fabs(sd - ref_sd), 4 * std::hypot(mcse_sd, ref_mcse_sd))
        << names[k] << " sd " << sd << " vs " << ref_sd;
    // Quantiles without a density: the mass below the reference q5/q95 is 0.05/0.95.
    for (auto [p, key] : {std::pair{0.05, "q5"}, std::pair{0.95, "q95"}}) {
      const double q = r[key];
      const ChainsOf ind = draws[k].map([&](double x) { return x <= q ? 1.0 : 0.0; });
      const double frac = mean_of(ind.pooled());
      const double se = std::sqrt(p * (1 - p) / ind.ess() + p * (1 - p) / ref_ess);
      EXPECT_LT(std::fabs(frac - p), 4 * se) << names[k] << " P(x <= " << key << ") = " << frac;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PosteriorDb, EightSchools,
                         ::testing::Values(nuts::MetricAdaptation::Windowed,
                                           nuts::MetricAdaptation::Gradient,
                                           nuts::MetricAdaptation::LowRank));

}  // namespace
}  // namespace exmc::testing
