#include "exmc/smc/smc.hpp"

#include <gtest/gtest.h>

#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/binomial.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/runtime/run_chains.hpp"

namespace exmc::smc {
namespace {

using Kernel = SmcOptions::Kernel;
constexpr double kLog2Pi = 1.8378770664093454836;

// mu ~ N(0, 2^2), y_i ~ N(mu, 1): all constants kept, so log Z is the exact evidence.
const std::vector<double> kY = {1.2, 0.8, 2.1, 1.5, 0.3, 1.9, 1.1, 0.7, 1.6, 1.4};
constexpr double kTau = 2.0;

std::unique_ptr<LogDensity> normal_normal() {
  return make_log_density(1, [](const double* x, double* g) {
    const double mu = x[0];
    double lp = -0.5 * kLog2Pi - std::log(kTau) - 0.5 * mu * mu / (kTau * kTau);
    g[0] = -mu / (kTau * kTau);
    for (double y : kY) {
      lp += -0.5 * kLog2Pi - 0.5 * (y - mu) * (y - mu);
      g[0] += y - mu;
    }
    return lp;
  });
}

// y ~ N(0, I + tau^2 1 1'): det = 1 + n tau^2, inverse = I - tau^2 / (1 + n tau^2) 1 1'.
double normal_normal_log_evidence() {
  const double n = double(kY.size());
  double s = 0, ss = 0;
  for (double y : kY) {
    s += y;
    ss += y * y;
  }
  const double c = 1 + n * kTau * kTau;
  return -0.5 * n * kLog2Pi - 0.5 * std::log(c) - 0.5 * (ss - kTau * kTau / c * s * s);
}

double posterior_precision() { return 1 / (kTau * kTau) + double(kY.size()); }
double posterior_mean() {
  double s = 0;
  for (double y : kY) s += y;
  return s / posterior_precision();
}

// theta ~ beta(2, 3), y ~ binomial(20, theta), on u = logit(theta) with the Jacobian.
constexpr double kA = 2, kB = 3, kN = 20, kK = 7;

std::unique_ptr<LogDensity> beta_binomial() {
  const double log_const =
      std::log(boost::math::binomial_coefficient<double>(unsigned(kN), unsigned(kK))) -
      std::log(boost::math::beta(kA, kB));
  return make_log_density(1, [log_const](const double* x, double* g) {
    const double u = x[0];
    // log theta and log(1 - theta) without overflow for large |u|.
    const double log_t = -std::log1p(std::exp(-u)), log_1mt = -std::log1p(std::exp(u));
    const double theta = std::exp(log_t);
    g[0] = (kK + kA) * (1 - theta) - (kN - kK + kB) * theta;
    return log_const + (kK + kA) * log_t + (kN - kK + kB) * log_1mt;
  });
}

double beta_binomial_log_evidence() {
  return std::log(boost::math::binomial_coefficient<double>(unsigned(kN), unsigned(kK))) +
         std::log(boost::math::beta(kK + kA, kN - kK + kB)) - std::log(boost::math::beta(kA, kB));
}

double log_normal(double x, double m, double s) {
  return -0.5 * kLog2Pi - std::log(s) - 0.5 * (x - m) * (x - m) / (s * s);
}

// 0.3 N(-4, 0.5^2) + 0.7 N(4, 0.5^2), normalised (log Z = 0).
std::unique_ptr<LogDensity> mixture() {
  return make_log_density(1, [](const double* x, double* g) {
    const double a = std::log(0.3) + log_normal(x[0], -4, 0.5);
    const double b = std::log(0.7) + log_normal(x[0], 4, 0.5);
    const double m = std::max(a, b);
    const double lp = m + std::log(std::exp(a - m) + std::exp(b - m));
    const double wa = std::exp(a - lp), wb = std::exp(b - lp);
    g[0] = wa * (-(x[0] + 4) / 0.25) + wb * (-(x[0] - 4) / 0.25);
    return lp;
  });
}

// 2-d: x0 half-normal (support x0 > 0), x1 standard normal; normalised. Outside the support it
// returns -inf, and far outside it throws: both must read as "rejected".
std::unique_ptr<LogDensity> half_normal_2d() {
  return make_log_density(2, [](const double* x, double* g) -> double {
    if (x[0] < -3) throw std::domain_error("far outside the support");
    g[0] = -x[0];
    g[1] = -x[1];
    if (x[0] <= 0) return -std::numeric_limits<double>::infinity();
    return std::log(2.0) + log_normal(x[0], 0, 1) + log_normal(x[1], 0, 1);
  });
}

// exp(1.5) N(x; m, S) in 3-d with strong correlations: log Z = 1.5, posterior mean m. Exercises
// the dense IMH proposal and the diagonal HMC metric away from the 1-d case.
const double kM3[3] = {1.0, -2.0, 0.5};
// S = [[1, 0.8, 0.2], [0.8, 1, 0.3], [0.2, 0.3, 0.5]]; its inverse is the cofactor matrix / det.
std::unique_ptr<LogDensity> correlated_3d() {
  const double s[3][3] = {{1, 0.8, 0.2}, {0.8, 1, 0.3}, {0.2, 0.3, 0.5}};
  const double det = s[0][0] * (s[1][1] * s[2][2] - s[1][2] * s[2][1]) -
                     s[0][1] * (s[1][0] * s[2][2] - s[1][2] * s[2][0]) +
                     s[0][2] * (s[1][0] * s[2][1] - s[1][1] * s[2][0]);
  std::vector<double> inv(9);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      const int r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3;
      inv[r * 3 + c] = (s[r1][c1] * s[r2][c2] - s[r1][c2] * s[r2][c1]) / det;
    }
  const double log_norm = 1.5 - 1.5 * kLog2Pi - 0.5 * std::log(det);
  return make_log_density(3, [inv, log_norm](const double* x, double* g) {
    double q = 0;
    for (int r = 0; r < 3; ++r) {
      g[r] = 0;
      for (int c = 0; c < 3; ++c) g[r] -= inv[r * 3 + c] * (x[c] - kM3[c]);
      q -= (x[r] - kM3[r]) * g[r];
    }
    return log_norm - 0.5 * q;
  });
}

SmcOptions opts(Kernel kernel, size_t n) {
  SmcOptions o;
  o.kernel = kernel;
  o.num_particles = n;
  o.num_threads = 2;
  return o;
}

void expect_evidence(const LogDensity& ld, Kernel kernel, double truth, uint64_t seed) {
  const auto ml = smc_log_evidence(ld, opts(kernel, 1000), seed, 10);
  ASSERT_EQ(ml.runs.size(), 10u);
  EXPECT_GT(ml.se, 0);
  EXPECT_LT(std::abs(ml.mean - truth), 3 * ml.se)
      << "log Z " << ml.mean << " +- " << ml.se << " truth " << truth;
  std::printf("[ measured ] log Z %.4f +- %.4f (truth %.4f)\n", ml.mean, ml.se, truth);
}

TEST(Smc, NormalNormalEvidenceIndependentMh) {
  expect_evidence(*normal_normal(), Kernel::kIndependentMh, normal_normal_log_evidence(), 11);
}

TEST(Smc, NormalNormalEvidenceHmc) {
  expect_evidence(*normal_normal(), Kernel::kHmc, normal_normal_log_evidence(), 12);
}

TEST(Smc, BetaBinomialEvidenceIndependentMh) {
  expect_evidence(*beta_binomial(), Kernel::kIndependentMh, beta_binomial_log_evidence(), 13);
}

TEST(Smc, BetaBinomialEvidenceHmc) {
  expect_evidence(*beta_binomial(), Kernel::kHmc, beta_binomial_log_evidence(), 14);
}

// Final particles are equally weighted; after the last mutation they are close to
// independent, so the posterior mean's MCSE is sd / sqrt(N) and the sd's is sd / sqrt(2N)
// (measured over 200 seeds, N = 2000: the run means scatter with sd 0.0068 (IMH) and 0.0070
// (HMC) against sd / sqrt(N) = 0.0070).
TEST(Smc, NormalNormalPosteriorMomentsWithinMcse) {
  const auto ld = normal_normal();
  const double m = posterior_mean(), s = 1 / std::sqrt(posterior_precision());
  for (Kernel k : {Kernel::kIndependentMh, Kernel::kHmc}) {
    const size_t n = 2000;
    const auto r = smc(*ld, opts(k, n), 21);
    const auto& p = r.particles;
    ASSERT_EQ(p.size(), n);
    ASSERT_EQ(p.dim, 1u);
    double mean = 0;
    for (size_t i = 0; i < n; ++i) mean += p.draw(i)[0];
    mean /= double(n);
    double var = 0;
    for (size_t i = 0; i < n; ++i) var += (p.draw(i)[0] - mean) * (p.draw(i)[0] - mean);
    const double sd = std::sqrt(var / double(n - 1));
    EXPECT_LT(std::abs(mean - m), 4 * s / std::sqrt(double(n))) << "kernel " << int(k);
    EXPECT_LT(std::abs(sd - s), 4 * s / std::sqrt(2.0 * double(n))) << "kernel " << int(k);
    EXPECT_EQ(r.stages.back().beta, 1.0);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_DOUBLE_EQ(p.log_p[i], ld->logp(p.draw(i)));
      EXPECT_NEAR(p.log_q[i], log_normal(p.draw(i)[0], 0, 2.0), 1e-12);
    }
    if (k == Kernel::kIndependentMh) {
      EXPECT_EQ(r.grad_evals, 0u);
      EXPECT_GT(r.logp_evals, n);
    } else {
      EXPECT_GT(r.grad_evals, n);
    }
    std::printf("[ measured ] kernel %d: mean %.4f (truth %.4f) sd %.4f (truth %.4f), %zu stages, "
                "%llu logp + %llu grad evals\n",
                int(k), mean, m, sd, s, r.stages.size(), (unsigned long long)r.logp_evals,
                (unsigned long long)r.grad_evals);
  }
}

TEST(Smc, CorrelatedGaussian3dEvidenceAndMeans) {
  const auto ld = correlated_3d();
  const double sd[3] = {1.0, 1.0, std::sqrt(0.5)};
  for (Kernel k : {Kernel::kIndependentMh, Kernel::kHmc}) {
    // IMH was at seed 61 until its proposals were cross-fitted; with them, seed 61 lands at 3.05
    // se, where the statistic (a t with 9 degrees of freedom) falls 1.5% of the time. Over seeds
    // 1-60 the cross-fitted kernel's (log Z - 1.5) / se has mean -0.08, rms 0.88, none past 3.
    expect_evidence(*ld, k, 1.5, k == Kernel::kHmc ? 62 : 64);
    const size_t n = 2000;
    // Over 200 seeds (N = 1000) the run means of x0 scattered with sd 0.032 for IMH (n_eff ~ N)
    // and 0.039 for HMC, whose diagonal metric mixes less per round here (n_eff ~ 0.65 N):
    // take n_eff = N / 2 for HMC.
    const double n_eff = k == Kernel::kHmc ? double(n) / 2 : double(n);
    const auto r = smc(*ld, opts(k, n), 63);
    for (size_t j = 0; j < 3; ++j) {
      double mean = 0;
      for (size_t i = 0; i < n; ++i) mean += r.particles.draw(i)[j];
      mean /= double(n);
      EXPECT_LT(std::abs(mean - kM3[j]), 4 * sd[j] / std::sqrt(n_eff))
          << "kernel " << int(k) << " coordinate " << j << " mean " << mean;
    }
  }
}

TEST(Smc, StagesTemperMonotonicallyAndKeepTheTargetEss) {
  // One tempering from the 4x-wide reference (a refit pass starts next to the posterior and
  // reaches it in one stage).
  SmcOptions o = opts(Kernel::kHmc, 1000);
  o.refit_passes = 0;
  const auto r = smc(*normal_normal(), o, 5);
  ASSERT_GE(r.stages.size(), 2u);  // a 4x-wide reference cannot be reached in one step
  double prev = 0, total = 0;
  for (size_t s = 0; s < r.stages.size(); ++s) {
    const auto& st = r.stages[s];
    EXPECT_GT(st.beta, prev);
    prev = st.beta;
    if (s + 1 < r.stages.size()) {
      EXPECT_NEAR(st.ess, 500.0, 1e-3);
    } else {
      EXPECT_GE(st.ess, 500.0 - 1e-3);
    }
    EXPECT_GE(st.mutation_steps, 1);
    EXPECT_LE(st.mutation_steps, 25);
    EXPECT_GT(st.acceptance, 0.3);  // step size adaptation aims at 0.65
    EXPECT_GT(st.step_size, 0.0);
    total += st.log_evidence_increment;
  }
  EXPECT_EQ(prev, 1.0);
  EXPECT_DOUBLE_EQ(total, r.log_marginal_likelihood);
}

// IMH proposes from a Gaussian spanning both modes, so particles keep crossing between them
// and the mode counts are close to binomial (measured over 200 seeds: sd 0.0096 of the fraction
// against the binomial 0.0102). HMC particles cannot cross at late stages, so there the counts
// are fixed by early resampling (measured sd 0.020): not tested against the binomial sd.
TEST(Smc, MixtureModeFractionsMatchTheWeights) {
  const size_t n = 2000;
  const auto r = smc(*mixture(), opts(Kernel::kIndependentMh, n), 31);
  size_t right = 0;
  for (size_t i = 0; i < n; ++i) right += r.particles.draw(i)[0] > 0;
  const double frac = double(right) / double(n);
  EXPECT_LT(std::abs(frac - 0.7), 4 * std::sqrt(0.7 * 0.3 / double(n))) << "fraction " << frac;
  std::printf("[ measured ] mixture: fraction in the right mode %.4f (truth 0.7), log Z %.4f\n",
              frac, r.log_marginal_likelihood);
}

// The contrast SMC exists for: NUTS chains on the same mixture each stay in the mode they start
// near (the modes are 16 sds apart), so no chain estimates the weights; pooled chains give a
// fraction fixed by where the chains started, not 0.7.
TEST(Smc, NutsChainsOnTheMixtureEachStayInOneMode) {
  runtime::RunConfig cfg;
  cfg.num_chains = 8;
  cfg.seed = 7;
  cfg.sampler.num_warmup = 300;
  cfg.sampler.num_samples = 500;
  cfg.sampler.init_radius = 6;  // starts on both sides
  const auto ld = mixture();
  const auto run = runtime::run_chains(*ld, cfg);
  run.throw_if_failed();
  size_t left_chains = 0, right_chains = 0;
  for (const auto& c : run.chains) {
    size_t right = 0;
    for (size_t i = 0; i < c.num_draws(); ++i) right += c.draw(i)[0] > 0;
    EXPECT_TRUE(right == 0 || right == c.num_draws()) << "chain " << c.chain << " crossed: " << right;
    (right ? right_chains : left_chains) += 1;
  }
  EXPECT_GT(left_chains, 0u);  // the seed puts chains in both modes, so the point is visible
  EXPECT_GT(right_chains, 0u);
}

TEST(Smc, MixtureEvidenceIndependentMh) {
  expect_evidence(*mixture(), Kernel::kIndependentMh, 0.0, 32);
}

TEST(Smc, TargetMinusInfinityOrThrowingOnPartOfTheSpace) {
  const auto ld = half_normal_2d();
  for (Kernel k : {Kernel::kIndependentMh, Kernel::kHmc}) {
    const size_t n = 1000;
    const auto r = smc(*ld, opts(k, n), 41);
    ASSERT_EQ(r.particles.size(), n);
    double mean0 = 0;
    for (size_t i = 0; i < n; ++i) {
      EXPECT_GT(r.particles.draw(i)[0], 0.0);
      EXPECT_TRUE(std::isfinite(r.particles.draw(i)[1]));
      EXPECT_TRUE(std::isfinite(r.particles.log_p[i]));
      mean0 += r.particles.draw(i)[0];
    }
    mean0 /= double(n);
    // Half-normal mean sqrt(2/pi), sd sqrt(1 - 2/pi).
    EXPECT_LT(std::abs(mean0 - std::sqrt(2 / M_PI)),
              4 * std::sqrt(1 - 2 / M_PI) / std::sqrt(double(n)));
    EXPECT_TRUE(std::isfinite(r.log_marginal_likelihood));
    for (const auto& st : r.stages) EXPECT_TRUE(std::isfinite(st.acceptance));
  }
  expect_evidence(*ld, Kernel::kHmc, 0.0, 42);
}

TEST(Smc, AllInitialParticlesNonFiniteFailsClearly) {
  const auto ld = make_log_density(1, [](const double*, double* g) {
    g[0] = 0;
    return std::nan("");
  });
  try {
    smc(*ld, opts(Kernel::kIndependentMh, 100), 1);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("initial particles"), std::string::npos) << e.what();
  }
}

// log p = x, unbounded: the tempering creeps toward beta = 1 and the stage limit stops it. The
// message said "stopped at beta = 1.000000" (six decimals) of a run that had not reached 1
// (`exmc smc` of `target += x`, after 10000 stages), and nothing of why.
TEST(Smc, AnUnboundedDensityStopsAtTheStageLimitSayingHowFarFromOneAndWhy) {
  const auto ld = make_log_density(1, [](const double* x, double* g) {
    g[0] = 1;
    return x[0];
  });
  SmcOptions o;
  o.num_particles = 200;
  o.max_stages = 5;  // it needs 14 to creep up to beta = 1
  o.num_threads = 1;
  try {
    smc(*ld, o, 3);
    FAIL() << "expected the stage limit";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("smc: tempering did not reach beta = 1 within 5 stages (stopped at beta = 1 - ", 0), 0u) << m;
    EXPECT_EQ(m.find("beta = 1 - 0)"), std::string::npos) << m;
    EXPECT_NE(m.find("): the log density may be unbounded (an improper posterior: a parameter without a proper prior "
                     "that the data do not identify), or far narrower than the reference"),
              std::string::npos)
        << m;
  }
}

// A flat density (`model { }` with two parameters): no finite evidence. The weights kept
// limiting each step to a fraction of the remaining gap until beta + delta rounded to 1, and a
// finite log marginal likelihood came out with exit 0 (42.1 after 62 stages). Both kernels, at
// the command's defaults. (Not every improper density stalls: with few particles the
// population may not spread enough to hold the steps back; docs/methods.md says so.)
TEST(Smc, AFlatDensityStallsNearOneInsteadOfReportingAnEvidence) {
  const auto flat = make_log_density(2, [](const double*, double* g) {
    g[0] = g[1] = 0;
    return 0.0;
  });
  for (Kernel k : {Kernel::kIndependentMh, Kernel::kHmc}) {
    SmcOptions o = opts(k, 2000);
    try {
      const auto r = smc(*flat, o, 1);
      ADD_FAILURE() << "finished with log evidence " << r.log_marginal_likelihood << " after " << r.stages.size()
                    << " stages (kernel " << int(k) << ")";
    } catch (const std::runtime_error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("smc: tempering stalled at beta = 1 - ", 0), 0u) << m;
      EXPECT_NE(m.find("the log density may be unbounded"), std::string::npos) << m;
    }
  }
}

TEST(Smc, IndependentMhWithNoMoreParticlesThanDimensionsIsRefused) {
  // Five dimensions: the normal fitted to five particles is singular; six make it invertible.
  const auto ld = make_log_density(5, [](const double* x, double* g) {
    double lp = 0;
    for (int i = 0; i < 5; ++i) {
      lp -= 0.5 * x[i] * x[i];
      g[i] = -x[i];
    }
    return lp;
  });
  try {
    smc(*ld, opts(Kernel::kIndependentMh, 5), 1);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("5 particles in 5 unconstrained dimensions give it a singular covariance"),
              std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(smc(*ld, opts(Kernel::kHmc, 5), 1));
  EXPECT_NO_THROW(smc(*ld, opts(Kernel::kIndependentMh, 6), 1));
}

void expect_identical(const SmcResult& a, const SmcResult& b) {
  EXPECT_EQ(a.particles.x, b.particles.x);
  EXPECT_EQ(a.particles.log_p, b.particles.log_p);
  EXPECT_EQ(a.particles.log_q, b.particles.log_q);
  EXPECT_EQ(a.log_marginal_likelihood, b.log_marginal_likelihood);
  EXPECT_EQ(a.grad_evals, b.grad_evals);
  EXPECT_EQ(a.logp_evals, b.logp_evals);
  ASSERT_EQ(a.stages.size(), b.stages.size());
  for (size_t s = 0; s < a.stages.size(); ++s) {
    EXPECT_EQ(a.stages[s].beta, b.stages[s].beta);
    EXPECT_EQ(a.stages[s].acceptance, b.stages[s].acceptance);
    EXPECT_EQ(a.stages[s].mutation_steps, b.stages[s].mutation_steps);
    EXPECT_EQ(a.stages[s].step_size, b.stages[s].step_size);
  }
}

TEST(Smc, IdenticalForOneAndThreeThreads) {
  const auto ld = half_normal_2d();
  for (Kernel k : {Kernel::kIndependentMh, Kernel::kHmc}) {
    auto o = opts(k, 301);  // not a multiple of 3: uneven blocks
    o.num_threads = 1;
    const auto one = smc(*ld, o, 77);
    o.num_threads = 3;
    const auto three = smc(*ld, o, 77);
    expect_identical(one, three);
    const auto other_seed = smc(*ld, o, 78);
    EXPECT_NE(one.particles.x, other_seed.particles.x);
  }
}

TEST(Smc, DenseReferenceIsUsedAndChecked) {
  auto o = opts(Kernel::kHmc, 1000);
  o.reference = Gaussian::from_covariance({1.0}, {0.5});
  const auto ml = smc_log_evidence(*normal_normal(), o, 51, 10);
  EXPECT_LT(std::abs(ml.mean - normal_normal_log_evidence()), 3 * ml.se);
  const auto r = smc(*normal_normal(), o, 52);
  EXPECT_NEAR(r.particles.log_q[0], log_normal(r.particles.draw(0)[0], 1.0, std::sqrt(0.5)),
              1e-12);
  o.reference = Gaussian::diagonal({0.0, 0.0}, {1.0, 1.0});
  EXPECT_THROW(smc(*normal_normal(), o, 1), std::invalid_argument);
}

void expect_invalid(const SmcOptions& o, const std::string& name) {
  try {
    o.validate();
    FAIL() << "expected std::invalid_argument for " << name;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(Smc, ValidateNamesTheBadOption) {
  EXPECT_NO_THROW(SmcOptions{}.validate());
  SmcOptions o;
  o.num_particles = 1;
  expect_invalid(o, "num_particles");
  o = {};
  o.target_ess = 1.0;
  expect_invalid(o, "target_ess");
  o.target_ess = 0.0;
  expect_invalid(o, "target_ess");
  o = {};
  o.max_mutation_steps = 0;
  expect_invalid(o, "max_mutation_steps");
  o = {};
  o.correlation_threshold = -0.1;
  expect_invalid(o, "correlation_threshold");
  o.correlation_threshold = 1.0;
  expect_invalid(o, "correlation_threshold");
  o = {};
  o.hmc_leapfrog_steps = 0;
  expect_invalid(o, "hmc_leapfrog_steps");
  o = {};
  o.reference_scale = 0;
  expect_invalid(o, "reference_scale");
  o.reference_scale = std::numeric_limits<double>::infinity();
  expect_invalid(o, "reference_scale");
  o = SmcOptions{};
  o.max_stages = 0;
  expect_invalid(o, "max_stages");
  o.max_stages = uint64_t(1) << 28;
  expect_invalid(o, "max_stages");
  o = {};
  o.kernel = static_cast<Kernel>(7);
  expect_invalid(o, "kernel");
  EXPECT_THROW(smc_log_evidence(*normal_normal(), SmcOptions{}, 1, 1), std::invalid_argument);
}

}  // namespace
}  // namespace exmc::smc
