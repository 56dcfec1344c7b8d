// Warmup pieces: Stan's window schedule, dual averaging, Welford shrinkage, metric, init.
#include <gtest/gtest.h>

#include <cmath>

#include "exmc/core/state_io.hpp"
#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/nuts/chain_sampler.hpp"
#include "exmc/nuts/dual_averaging.hpp"
#include "exmc/nuts/initializer.hpp"
#include "exmc/nuts/welford.hpp"
#include "exmc/nuts/window_schedule.hpp"
#include "exmc/nuts/windowed_metric_adapter.hpp"
#include "test_util.hpp"

namespace exmc::testing {
namespace {

using namespace exmc::nuts;

std::vector<unsigned> window_ends(unsigned num_warmup, WindowConfig cfg = {}) {
  WindowSchedule s(num_warmup, cfg);
  std::vector<unsigned> ends;
  for (unsigned i = 0; i < num_warmup; ++i) {
    if (s.window_ends()) ends.push_back(i);
    s.advance();
  }
  return ends;
}

TEST(WindowSchedule, StanDefaultsFor1000Warmup) {
  EXPECT_EQ(window_ends(1000), (std::vector<unsigned>{99, 149, 249, 449, 949}));
  WindowSchedule s(1000, {});
  unsigned in = 0;
  for (unsigned i = 0; i < 1000; ++i, s.advance()) in += s.in_window();
  EXPECT_EQ(in, 1000u - 75 - 50);
}

TEST(WindowSchedule, ShortWarmupsUse15_75_10Split) {
  WindowSchedule s(100, {});
  EXPECT_EQ(s.init_buffer(), 15u);
  EXPECT_EQ(s.term_buffer(), 10u);
  EXPECT_EQ(s.base_window(), 75u);
  EXPECT_EQ(window_ends(100), (std::vector<unsigned>{89}));
  EXPECT_EQ(window_ends(150), (std::vector<unsigned>{99}));  // exactly fits: one window
  EXPECT_TRUE(window_ends(19).empty());                      // Stan: no metric below 20
  EXPECT_EQ(window_ends(2000), (std::vector<unsigned>{99, 149, 249, 449, 849, 1949}));
}

TEST(DualAveraging, FirstStepByHandAndConvergence) {
  DualAveraging da;
  da.set_mu(std::log(10.0));
  da.restart();
  const double eps1 = da.learn(1.0);
  const double s_bar = (0.8 - 1.0) / 11.0;
  EXPECT_DOUBLE_EQ(eps1, std::exp(std::log(10.0) - s_bar / 0.05));
  EXPECT_DOUBLE_EQ(da.final_step_size(), eps1);
  // accept(eps) = exp(-eps) has accept = 0.8 at eps = -log(0.8).
  double eps = eps1;
  for (int i = 0; i < 5000; ++i) eps = da.learn(std::exp(-eps));
  EXPECT_NEAR(da.final_step_size(), -std::log(0.8), 0.01 * -std::log(0.8));
}

TEST(WindowedMetricAdapter, ShrinksWelfordVarianceLikeStan) {
  // 25 iterations of warmup with init/term buffers scaled: feed known draws and compare the
  // metric after the single window with n/(n+5) var + 1e-3 * 5/(n+5).
  const unsigned nw = 100;
  WindowedMetricAdapter ad(2, MetricKind::Diag, nw, {});
  Metric m = Metric::unit(MetricKind::Diag, 2);
  PhasePoint z(2);
  Welford ref(2, false);
  Rng rng(3, 3);
  int updates = 0;
  for (unsigned i = 0; i < nw; ++i) {
    z.q = {rng.normal() * 3, rng.normal() * 0.1};
    if (i >= 15 && i < 90) ref.add(z.q.data());
    updates += ad.observe(z, m) == AdaptEvent::Restart;
  }
  EXPECT_EQ(updates, 1);
  std::vector<double> v;
  ref.variance(v);
  const double n = 75;
  for (int i = 0; i < 2; ++i)
    EXPECT_DOUBLE_EQ(m.inv()[i], n / (n + 5) * v[i] + 1e-3 * 5 / (n + 5));
}

TEST(Metric, DenseMomentumHasCovarianceMAndVelocityIsInverseTimesP) {
  // M^{-1} = [[2, 0.6], [0.6, 0.5]] => M = inv.
  const std::vector<double> inv = {2, 0.6, 0.6, 0.5};
  const Metric m = Metric::dense(inv, 2);
  const double det = 2 * 0.5 - 0.36;
  const double M[4] = {0.5 / det, -0.6 / det, -0.6 / det, 2 / det};
  Rng rng(9, 9);
  const int n = 200000;
  double c[4] = {0, 0, 0, 0};
  double p[2], v[2];
  for (int k = 0; k < n; ++k) {
    m.sample_momentum(rng, p);
    c[0] += p[0] * p[0], c[1] += p[0] * p[1], c[3] += p[1] * p[1];
  }
  c[2] = c[1];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      const double se = std::sqrt((M[i * 2 + i] * M[j * 2 + j] + M[i * 2 + j] * M[i * 2 + j]) / n);
      EXPECT_NEAR(c[i * 2 + j] / n, M[i * 2 + j], 5 * se) << i << "," << j;
    }
  p[0] = 1.5, p[1] = -2;
  m.velocity(p, v);
  EXPECT_DOUBLE_EQ(v[0], 2 * 1.5 + 0.6 * -2);
  EXPECT_DOUBLE_EQ(v[1], 0.6 * 1.5 + 0.5 * -2);
  EXPECT_THROW(Metric::dense({1, 2, 2, 1}, 2), std::invalid_argument);
  EXPECT_THROW(Metric::diag({1, -1}), std::invalid_argument);
}

// A chain with --metric dense starts from the unit metric: its Cholesky factor is the identity,
// written directly. Factorised (O(d^3)), it took 8 s at 3,000 dimensions before the first
// iteration, deaf to Ctrl-C, and minutes at 10^4 (helper 38: 4.6 s -> 0.05 s at 2,500, measured
// by hand; speed is not asserted in unit tests). The result is the factorised one, bit for bit.
TEST(Metric, UnitDenseIsTheFactorisedIdentityWithoutFactorising) {
  for (size_t d : {1u, 2u, 7u, 60u}) {
    std::vector<double> identity(d * d, 0.0);
    for (size_t i = 0; i < d; ++i) identity[i * d + i] = 1.0;
    StateWriter a, b;
    Metric::unit(MetricKind::Dense, d).save_state(a);
    Metric::dense(identity, d).save_state(b);
    EXPECT_EQ(a.data(), b.data()) << d;
  }
}

// Metric::dense's Cholesky factor sweeps whole columns (contiguous) where it strode across them;
// every entry sees the same operations in the same order, so the factor (and every momentum
// drawn with it) is the textbook loop's bit for bit. 2,500 dimensions: 4.3 s before, 1.0 s now.
TEST(Metric, DenseFactorIsTheTextbookCholeskyBitForBit) {
  auto textbook = [](const std::vector<double>& a, size_t d) {
    std::vector<double> L(d * d, 0.0);
    for (size_t j = 0; j < d; ++j) {
      double s = a[j * d + j];
      for (size_t k = 0; k < j; ++k) s -= L[k * d + j] * L[k * d + j];
      const double ljj = std::sqrt(s);
      L[j * d + j] = ljj;
      for (size_t i = j + 1; i < d; ++i) {
        double t = a[j * d + i];
        for (size_t k = 0; k < j; ++k) t -= L[k * d + i] * L[k * d + j];
        L[j * d + i] = t / ljj;
      }
    }
    return L;
  };
  // A = B B^T / n + 0.1 I with B's entries uniform in (-1, 1): symmetric positive definite.
  auto spd = [](size_t d, uint64_t seed) {
    Rng rng(seed, 0);
    std::vector<double> b(d * d), a(d * d, 0.0);
    for (double& x : b) x = 2 * rng.uniform() - 1;
    for (size_t i = 0; i < d; ++i)
      for (size_t j = 0; j <= i; ++j) {
        double t = 0;
        for (size_t k = 0; k < d; ++k) t += b[i * d + k] * b[j * d + k];
        a[i * d + j] = a[j * d + i] = t / double(d) + (i == j ? 0.1 : 0.0);
      }
    return a;
  };
  for (size_t d : {1u, 2u, 3u, 5u, 17u, 64u, 201u}) {
    const std::vector<double> a = spd(d, d);
    const std::vector<double> want = textbook(a, d);
    StateWriter got, expected;
    Metric::dense(a, d).save_state(got);
    expected.tag("METR");
    expected.u64(uint64_t(MetricKind::Dense));
    expected.u64(d);
    for (const auto* v : {&a, &want}) expected.f64s(*v);
    for (int empty = 0; empty < 4; ++empty) expected.f64s({});
    EXPECT_EQ(got.data(), expected.data()) << d;
  }
}

TEST(AdaptationState, JsonRoundTripIsExact) {
  const std::vector<double> inv = {2.0000000000000004, 0.1 + 0.2, 0.1 + 0.2, 1.0 / 3};
  const auto s = AdaptationState::from(0.123456789012345678, Metric::dense(inv, 2));
  const auto r = AdaptationState::from_json(s.to_json());
  EXPECT_EQ(r.step_size, s.step_size);
  EXPECT_EQ(r.metric_kind, MetricKind::Dense);
  EXPECT_EQ(r.inv_metric, s.inv_metric);
  const auto d = AdaptationState::from(0.7, Metric::diag({1.0 / 7, 3e-12}));
  EXPECT_EQ(AdaptationState::from_json(d.to_json()).inv_metric, d.inv_metric);
  try {
    AdaptationState::from_json(R"({"stepsize": 1, "inv_metric": [1, "a"]})");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("inv_metric[1]"), std::string::npos) << e.what();
  }
  // A CmdStan metric file: no step size.
  const auto cmdstan = AdaptationState::from_json(R"({"inv_metric": [[2, 0.5], [0.5, 1]]})");
  EXPECT_EQ(cmdstan.step_size, 1.0);
  EXPECT_EQ(cmdstan.metric_kind, MetricKind::Dense);
  EXPECT_THROW(AdaptationState::from_json(R"({"stepsize": -1, "inv_metric": [1]})"),
               std::invalid_argument);
  EXPECT_THROW(AdaptationState::from_json(R"({"inv_metric": [[1, 2], [2, 1]]})"),
               std::invalid_argument);  // not positive definite
}

TEST(Init, UserValuesAndClearErrors) {
  auto ld = make_log_density(2, [](const double* x, double* g) {
    g[0] = g[1] = -1;
    return x[0] > 0 ? -x[0] - x[1] : std::nan("");
  });
  SamplerConfig cfg;
  cfg.init_x = {0.5, 0.5};
  const Metric m = Metric::unit(MetricKind::Diag, 2);
  Leapfrog integ(*ld, m);
  Rng rng(1, 1);
  PhasePoint z(2);
  initialize_point(integ, cfg, rng, z);
  EXPECT_EQ(z.q, cfg.init_x);
  EXPECT_DOUBLE_EQ(z.logp, -1.0);

  cfg.init_x = {-1, 0};
  try {
    initialize_point(integ, cfg, rng, z);
    FAIL();
  } catch (const InitError& e) {
    EXPECT_NE(std::string(e.what()).find("given initial values"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("log density is NaN"), std::string::npos) << e.what();
  }
  cfg.init_x = {1};
  EXPECT_THROW(initialize_point(integ, cfg, rng, z), InitError);
  cfg.init_x.clear();
  cfg.init_values = {{"y", {1, 2}}};
  try {
    initialize_point(integ, cfg, rng, z);
    FAIL();
  } catch (const InitError& e) {
    EXPECT_NE(std::string(e.what()).find("\"x\""), std::string::npos) << e.what();
  }
  cfg.init_values = {{"x", {2, 3}}};
  initialize_point(integ, cfg, rng, z);
  EXPECT_EQ(z.q, (std::vector<double>{2, 3}));
  // Random init succeeds when half the box is valid.
  cfg.init_values.clear();
  initialize_point(integ, cfg, rng, z);
  EXPECT_GT(z.q[0], 0);
  EXPECT_LT(std::fabs(z.q[1]), 2);
  // ... and fails with a reason when none is.
  auto bad = make_log_density(1, [](const double*, double* g) -> double {
    g[0] = 0;
    throw std::domain_error("sigma must be positive");
  });
  Leapfrog integ_bad(*bad, Metric::unit(MetricKind::Diag, 1));
  PhasePoint z1(1);
  try {
    initialize_point(integ_bad, cfg, rng, z1);
    FAIL();
  } catch (const InitError& e) {
    EXPECT_NE(std::string(e.what()).find("sigma must be positive"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("100 attempts"), std::string::npos);
  }
}

TEST(Init, NonFiniteGradientNamesTheCoordinate) {
  auto ld = make_log_density(3, [](const double*, double* g) {
    g[0] = 0, g[1] = 0, g[2] = std::numeric_limits<double>::infinity();
    return 0.0;
  });
  SamplerConfig cfg;
  cfg.init_x = {0, 0, 0};
  const Metric m = Metric::unit(MetricKind::Diag, 3);
  Leapfrog integ(*ld, m);
  Rng rng(1, 1);
  PhasePoint z(3);
  try {
    initialize_point(integ, cfg, rng, z);
    FAIL();
  } catch (const InitError& e) {
    EXPECT_NE(std::string(e.what()).find("variable 'x.3' (coordinate 2) gradient is +inf"),
              std::string::npos)
        << e.what();
  }
}

TEST(ChainSampler, WarmupAdaptsScalesAndStepSize) {
  auto ld = scaled_normal(3, {0.01, 1, 100});
  SamplerConfig cfg;
  // 4000 warmup iterations make the last window 2400 draws long, so each variance estimate has
  // a relative standard error of about sqrt(2 / ESS) ~ 0.04; 0.2 is about 5 of those.
  cfg.num_warmup = 4000;
  cfg.num_samples = 1000;
  ChainSampler s(*ld, cfg, 5, 0);
  s.initialize();
  double accept = 0;
  for (unsigned i = 0; i < 5000; ++i) {
    const auto& st = s.iterate();
    if (i >= 4000) {
      accept += st.accept_stat;
      EXPECT_EQ(st.step_size, s.step_size());
    }
  }
  const double var[3] = {1e-4, 1, 1e4};
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(s.metric().inv()[i] / var[i], 1.0, 0.2) << i;
  // Dual averaging aims at 0.8 during warmup; with the averaged step size the sampling-phase
  // mean is typically higher on Gaussians (as in Stan), so only a floor is checked.
  EXPECT_GT(accept / 1000, 0.7);
}

TEST(SamplerConfig, BadOptionsNameTheField) {
  auto ld = scaled_normal(1);
  auto expect_error = [&](SamplerConfig cfg, const std::string& field) {
    try {
      ChainSampler s(*ld, cfg, 1, 0);
      ADD_FAILURE() << "no error for " << field;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  SamplerConfig c;
  c.dual_averaging.delta = 1.0;
  expect_error(c, "delta");
  c = {};
  c.max_depth = 0;
  expect_error(c, "max_depth");
  c = {};
  c.init_step_size = -1;
  expect_error(c, "stepsize");
  c = {};
  c.metric = MetricKind::Dense;
  c.metric_adaptation = MetricAdaptation::Gradient;
  expect_error(c, "diagonal only");
  c = {};
  c.warm_start = AdaptationState::from(0.5, Metric::unit(MetricKind::Diag, 3));
  expect_error(c, "dimension 3");
}

TEST(ChainSampler, DenseWarmupLearnsTheCovariance) {
  // Sigma = [[1, 1.8], [1.8, 4]] (correlation 0.9); precision P = Sigma^{-1}.
  const double det = 4 - 1.8 * 1.8;
  const double P[4] = {4 / det, -1.8 / det, -1.8 / det, 1 / det};
  auto ld = make_log_density(2, [P](const double* x, double* g) {
    g[0] = -(P[0] * x[0] + P[1] * x[1]);
    g[1] = -(P[2] * x[0] + P[3] * x[1]);
    return 0.5 * (x[0] * g[0] + x[1] * g[1]);
  });
  SamplerConfig cfg;
  cfg.metric = MetricKind::Dense;
  cfg.num_warmup = 4000;  // last window ~2400 draws: relative se of each entry ~0.04
  ChainSampler s(*ld, cfg, 12, 0);
  s.initialize();
  for (unsigned i = 0; i < 4000; ++i) s.iterate();
  const auto& m = s.metric().inv();
  ASSERT_TRUE(s.metric().is_dense());
  EXPECT_NEAR(m[0], 1.0, 0.2);
  EXPECT_NEAR(m[3] / 4.0, 1.0, 0.2);
  EXPECT_EQ(m[1], m[2]);
  EXPECT_NEAR(m[1] / std::sqrt(m[0] * m[3]), 0.9, 0.05);
}

TEST(ChainSampler, ZeroTermBufferDoesNotResetStepSizeToOne) {
  auto ld = scaled_normal(2, {0.05, 0.05});
  SamplerConfig cfg;
  cfg.num_warmup = 200;
  cfg.windows.term_buffer = 0;
  ChainSampler s(*ld, cfg, 2, 0);
  s.initialize();
  for (unsigned i = 0; i < 200; ++i) s.iterate();
  // The last window closes on iteration 199, the last of warmup.
  EXPECT_EQ(window_ends(200, cfg.windows), (std::vector<unsigned>{99, 199}));
  // Stan would end with exp(0) = 1 exactly here; we keep the re-initialised step size.
  EXPECT_NE(s.step_size(), 1.0);
  EXPECT_GT(s.step_size(), 0.1);
  EXPECT_LT(s.step_size(), 4.0);
}

TEST(ChainSampler, GradientAdaptationFindsGaussianVariances) {
  // For a Gaussian, sqrt(Var x / Var grad) = sqrt(s^2 / s^-2) = s^2: the exact variance.
  auto ld = scaled_normal(3, {0.01, 1, 100});
  SamplerConfig cfg;
  cfg.num_warmup = 1000;
  cfg.metric_adaptation = MetricAdaptation::Gradient;
  ChainSampler s(*ld, cfg, 6, 0);
  s.initialize();
  // Right after initialisation the metric is 1/|grad| at the initial point (not the unit).
  const double var[3] = {1e-4, 1, 1e4};
  EXPECT_NE(s.metric().inv()[0], 1.0);
  std::vector<double> frozen;
  double accept = 0;
  for (unsigned i = 0; i < 2000; ++i) {
    accept += i >= 1000 ? s.iterate().accept_stat : (s.iterate(), 0.0);
    if (i == 850) frozen = s.metric().inv();  // last 15% of warmup: metric fixed
  }
  EXPECT_EQ(s.metric().inv(), frozen);
  // grad = -x / s^2 exactly, so the sample variances of x and grad from the same draws differ
  // by exactly s^4 and the estimate is exact up to rounding.
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(s.metric().inv()[i] / var[i], 1.0, 1e-9) << i;
  EXPECT_GT(accept / 1000, 0.7);
}

}  // namespace
}  // namespace exmc::testing
