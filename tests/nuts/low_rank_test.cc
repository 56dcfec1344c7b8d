// Low-rank metric: algebra of the metric, the estimator on Gaussian draws, and sampling with it.
#include "exmc/nuts/low_rank_metric_adapter.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "test_util.hpp"

namespace exmc::testing {
namespace {

using nuts::Metric;

// Sigma = I + (a - 1) v v^T: one long direction v (unit) with variance a, the rest unit.
struct Needle {
  size_t d;
  double a;
  std::vector<double> v;
  Needle(size_t d, double a) : d(d), a(a), v(d) {
    double n = 0;
    for (size_t i = 0; i < d; ++i) n += (v[i] = std::sin(1.0 + 2.7 * i));
    n = 0;
    for (double x : v) n += x * x;
    for (double& x : v) x /= std::sqrt(n);
  }
  // grad log N(0, Sigma) = -Sigma^{-1} x = -(x - (1 - 1/a) v (v.x)).
  std::unique_ptr<LogDensity> density() const {
    return make_log_density(d, [this](const double* x, double* g) {
      double vx = 0;
      for (size_t i = 0; i < d; ++i) vx += v[i] * x[i];
      double lp = 0;
      for (size_t i = 0; i < d; ++i) {
        g[i] = -(x[i] - (1 - 1 / a) * v[i] * vx);
        lp += 0.5 * x[i] * g[i];
      }
      return lp;
    });
  }
};

TEST(LowRankMetric, VelocityAndMomentumMatchTheDenseForm) {
  const size_t d = 4;
  std::vector<double> u = {0.5, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, -0.5};  // two orthonormal columns
  const Metric m = Metric::low_rank({1.0, 2.0, 0.5, 3.0}, u, {50.0, 0.1});
  const std::vector<double> dense = m.to_dense();
  const double p[4] = {0.3, -1.2, 2.0, 0.7};
  double v[4];
  m.velocity(p, v);
  for (size_t r = 0; r < d; ++r) {
    double ref = 0;
    for (size_t c = 0; c < d; ++c) ref += dense[c * d + r] * p[c];
    EXPECT_NEAR(v[r], ref, 1e-12 * (1 + std::fabs(ref)));
  }
  // Cov(p) must be M, the inverse of M^{-1}.
  const Eigen::Matrix4d M = Eigen::Map<const Eigen::Matrix4d>(dense.data()).inverse();
  Rng rng(4, 4);
  const int n = 200000;
  Eigen::Matrix4d acc = Eigen::Matrix4d::Zero();
  double q[4];
  for (int k = 0; k < n; ++k) {
    m.sample_momentum(rng, q);
    const Eigen::Map<const Eigen::Vector4d> qv(q);
    acc += qv * qv.transpose();
  }
  acc /= n;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      const double se = std::sqrt((M(r, r) * M(c, c) + M(r, c) * M(r, c)) / n);
      EXPECT_NEAR(acc(r, c), M(r, c), 5 * se) << r << "," << c;
    }
}

TEST(LowRankMetric, EstimateFindsTheLongDirectionOfAGaussian) {
  const Needle t(10, 1e5);
  auto ld = t.density();
  // Exact draws x = z + (sqrt(a) - 1) v (v.z) and their gradients.
  Rng rng(8, 8);
  const size_t n = 100;
  std::vector<double> xs, gs, x(t.d), g(t.d);
  for (size_t k = 0; k < n; ++k) {
    double vz = 0;
    for (size_t i = 0; i < t.d; ++i) vz += t.v[i] * (x[i] = rng.normal());
    for (size_t i = 0; i < t.d; ++i) x[i] += (std::sqrt(t.a) - 1) * t.v[i] * vz;
    ld->logp_grad(x.data(), g.data());
    xs.insert(xs.end(), x.begin(), x.end());
    gs.insert(gs.end(), g.begin(), g.end());
  }
  const Metric m = nuts::LowRankMetricAdapter::estimate(xs, gs, t.d, {});
  ASSERT_GE(m.rank(), 1u);
  // For a Gaussian the gradient is an exact linear map of the draw, so without regularisation
  // the estimate would be exact. nutpie's gamma = 1e-5 adds the identity to covariances scaled
  // to ~1000 x (rescaled covariance) at n = 100, which matters along the needle, where the
  // rescaled gradient variance is ~1e-3: the variance comes out ~1/sqrt(2) of the truth. The
  // diagonal part alone would give sum_i v_i^2 s_i^2 ~ 1e-3 of it.
  const auto dense = m.to_dense();
  double vmv = 0, diag_only = 0;
  for (size_t r = 0; r < t.d; ++r) {
    for (size_t c = 0; c < t.d; ++c) vmv += t.v[r] * dense[c * t.d + r] * t.v[c];
    diag_only += t.v[r] * t.v[r] * m.inv()[r];
  }
  EXPECT_GT(vmv / t.a, 0.5);
  EXPECT_LT(vmv / t.a, 1.2);
  EXPECT_LT(diag_only / t.a, 0.01);
}

TEST(LowRankMetric, SamplesCorrectlyAndBeatsTheDiagonalOnANeedle) {
  // Variance 1e5 along v: after the diagonal rescaling the needle still stands ~1000 times
  // above the rest (and the rescaled orthogonal directions ~100 times below), far beyond the
  // eigenvalue cutoff.
  const Needle t(10, 1e5);
  auto ld = t.density();
  auto run = [&](nuts::MetricAdaptation how, unsigned chains, double* leapfrogs_per_draw) {
    nuts::SamplerConfig cfg;
    cfg.num_warmup = 1000;
    cfg.num_samples = 2000;
    cfg.metric_adaptation = how;
    double n = 0;
    ChainsOf proj;
    for (unsigned c = 0; c < chains; ++c) {
      nuts::ChainSampler s(*ld, cfg, 77, c);
      s.initialize();
      proj.chains.emplace_back();
      for (unsigned i = 0; i < 3000; ++i) {
        const auto st = s.iterate();
        if (i < 1000) continue;
        n += st.n_leapfrog;
        double vx = 0;
        for (size_t k = 0; k < t.d; ++k) vx += t.v[k] * s.state().q[k];
        proj.chains.back().push_back(vx);
      }
    }
    *leapfrogs_per_draw = n / (2000.0 * chains);
    return proj;
  };
  double lf_low = 0, lf_diag = 0;
  const ChainsOf low = run(nuts::MetricAdaptation::LowRank, 4, &lf_low);
  run(nuts::MetricAdaptation::Gradient, 1, &lf_diag);
  // v.x ~ N(0, 1000).
  expect_matches(low, normal_truth(0, std::sqrt(t.a)), "v.x with the low-rank metric");
  // The diagonal metric cannot align with a rotated needle and needs far longer trajectories.
  EXPECT_LT(lf_low * 3, lf_diag) << "low rank " << lf_low << " vs diagonal " << lf_diag;
}

}  // namespace
}  // namespace exmc::testing
