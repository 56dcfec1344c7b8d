// Test helpers: MCSE-based checks (exmc::analysis's multi-chain ESS and MCSE, as r-cran-posterior
// computes them), a one-chain Geyer ESS for hand-run programs, small target densities.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "exmc/analysis/convergence.hpp"
#include "exmc/core/log_density.hpp"
#include "exmc/nuts/chain_sampler.hpp"

namespace exmc::testing {

// Effective sample size of one chain by Geyer's initial monotone sequence estimator.
inline double ess_geyer(const std::vector<double>& x) {
  const size_t n = x.size();
  if (n < 4) return double(n);
  double mean = 0;
  for (double v : x) mean += v;
  mean /= n;
  auto acov = [&](size_t lag) {
    double s = 0;
    for (size_t i = 0; i + lag < n; ++i) s += (x[i] - mean) * (x[i + lag] - mean);
    return s / n;
  };
  const double c0 = acov(0);
  if (c0 <= 0) return double(n);
  double tau = -1.0, prev = std::numeric_limits<double>::infinity();
  for (size_t k = 0; 2 * k + 1 < n; ++k) {
    double p = (acov(2 * k) + acov(2 * k + 1)) / c0;
    if (p <= 0) break;
    p = std::min(p, prev);  // initial monotone sequence
    prev = p;
    tau += 2 * p;
  }
  return n / std::max(tau, 1.0 / std::log10(double(n)));
}

// Draws of one scalar quantity from several chains (all of the same length).
struct ChainsOf {
  std::vector<std::vector<double>> chains;
  // Split-chain ESS of the mean over all chains (Geyer's initial positive + monotone sequence
  // on the combined autocorrelation): between-chain disagreement lowers it, as it should.
  double ess() const {
    const std::vector<double> all = pooled();
    return analysis::ess_mean(view(all));
  }
  analysis::ChainView view(const std::vector<double>& all) const {
    return {all.data(), chains.empty() ? 0 : chains[0].size(), chains.size()};
  }
  std::vector<double> pooled() const {
    std::vector<double> all;
    for (const auto& c : chains) all.insert(all.end(), c.begin(), c.end());
    return all;
  }
  ChainsOf map(const std::function<double(double)>& f) const {
    ChainsOf o = *this;
    for (auto& c : o.chains)
      for (double& v : c) v = f(v);
    return o;
  }
};

inline double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / v.size();
}
inline double var_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / (v.size() - 1);
}
inline double quantile_of(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double h = (v.size() - 1) * q;
  const size_t lo = size_t(h);
  const double f = h - lo;
  return lo + 1 < v.size() ? v[lo] * (1 - f) + v[lo + 1] * f : v[lo];
}

// Checks mean, variance and the 5%/95% quantiles of `draws` against the truth, each within
// `k` Monte Carlo standard errors estimated from the draws themselves: exmc::analysis's
// mcse_mean and mcse_quantile (split-chain, autocorrelation-aware ESS, no fixed window), and
// for the variance the same ESS-based MCSE of the mean of the squared deviations.
struct Truth {
  double mean, var, q05, q95;
  std::function<double(double)> pdf;  // the true marginal density (kept for callers' use)
};

inline void expect_matches(const ChainsOf& draws, const Truth& t, const std::string& what,
                           double k = 4.0) {
  const std::vector<double> all = draws.pooled();
  ASSERT_GT(all.size(), 100u) << what;
  for (const auto& c : draws.chains) ASSERT_EQ(c.size(), draws.chains[0].size()) << what;
  const analysis::ChainView x = draws.view(all);
  const double m = mean_of(all), v = var_of(all);
  const double mcse_mean = analysis::mcse_mean(x);
  ASSERT_TRUE(std::isfinite(mcse_mean) && mcse_mean > 0) << what;
  EXPECT_LT(std::fabs(m - t.mean), k * mcse_mean)
      << what << ": mean " << m << " vs " << t.mean << " (mcse " << mcse_mean << ")";

  const ChainsOf sq = draws.map([&](double x) { return (x - m) * (x - m); });
  const std::vector<double> sq_all = sq.pooled();
  const double mcse_var = analysis::mcse_mean(sq.view(sq_all));
  ASSERT_TRUE(std::isfinite(mcse_var) && mcse_var > 0) << what;
  EXPECT_LT(std::fabs(v - t.var), k * mcse_var)
      << what << ": variance " << v << " vs " << t.var << " (mcse " << mcse_var << ")";

  for (auto [q, truth] : {std::pair{0.05, t.q05}, std::pair{0.95, t.q95}}) {
    const double qhat = quantile_of(all, q);
    const double mcse_q = analysis::mcse_quantile(x, q);
    ASSERT_TRUE(std::isfinite(mcse_q) && mcse_q > 0) << what;
    EXPECT_LT(std::fabs(qhat - truth), k * mcse_q)
        << what << ": " << (q < 0.5 ? "5%" : "95%") << " quantile " << qhat << " vs " << truth << " (mcse " << mcse_q
        << ")";
  }
}

inline Truth normal_truth(double mu, double sd) {
  const double z = 1.6448536269514722;
  return {mu, sd * sd, mu - z * sd, mu + z * sd, [mu, sd](double x) {
            const double u = (x - mu) / sd;
            return std::exp(-0.5 * u * u) / (sd * 2.5066282746310002);
          }};
}

// Runs `chains` chains sequentially with ChainSampler and returns the constrained draws
// (sampling phase) per output element.
inline std::vector<ChainsOf> sample_chains(const LogDensity& ld, const nuts::SamplerConfig& cfg,
                                           unsigned chains, uint64_t seed,
                                           std::vector<nuts::ChainSampler*>* keep = nullptr) {
  const size_t n_out = total_size(ld.output_vars());
  std::vector<ChainsOf> out(n_out);
  std::vector<double> vals(n_out);
  for (unsigned c = 0; c < chains; ++c) {
    nuts::ChainSampler s(ld, cfg, seed, c);
    s.initialize();
    for (auto& o : out) o.chains.emplace_back();
    for (unsigned it = 0; it < cfg.num_warmup + cfg.num_samples; ++it) {
      s.iterate();
      if (it < cfg.num_warmup) continue;
      ld.constrain(s.state().q.data(), vals.data());
      for (size_t j = 0; j < n_out; ++j) out[j].chains.back().push_back(vals[j]);
    }
  }
  return out;
}

// Independent standard normals in d dimensions, scaled per coordinate.
inline std::unique_ptr<LogDensity> scaled_normal(size_t d, std::vector<double> sd = {}) {
  if (sd.empty()) sd.assign(d, 1.0);
  return make_log_density(d, [sd](const double* x, double* g) {
    double lp = 0;
    for (size_t i = 0; i < sd.size(); ++i) {
      const double p = 1.0 / (sd[i] * sd[i]);
      lp -= 0.5 * x[i] * x[i] * p;
      g[i] = -x[i] * p;
    }
    return lp;
  });
}

}  // namespace exmc::testing
