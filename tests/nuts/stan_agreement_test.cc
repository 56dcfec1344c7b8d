// Tree statistics at a fixed step size agree with Stan's own NUTS (rstan 2.21, recorded).
//
// Stan's side was run with tests/nuts/stan_compare.R: 40000 draws after 100 burn-in, unit
// diagonal metric, adaptation off; its means and batch-means MCSEs are recorded below. Where
// the chain sits does not change how long trees grow in law, so n_leapfrog and treedepth test
// the termination rules alone. A reading of base_nuts that hands the wrong subtree end to the
// cross-subtree checks moved the first case by 18 MCSE.
//
// The warmup test compares whole adapted runs: Stan's windowed adaptation (1000 + 1000, one
// chain per seed) over 300 seeds of tests/nuts/warmup_vs_stan.R against exmc's over 100 seeds,
// by the mean across seeds of the adapted step size, sampling n_leapfrog and accept_stat.
#include <gtest/gtest.h>

#include <cmath>

#include "bench_models.hpp"
#include "test_util.hpp"

namespace exmc::testing {
namespace {

struct StanRecord {
  std::vector<double> scales;
  double eps;
  double n_leapfrog, n_leapfrog_mcse, depth, depth_mcse;
};

TEST(StanAgreement, TreeLengthsMatchStanAtFixedStepSize) {
  const std::vector<StanRecord> records = {
      {{1, 2, 4, 8, 16}, 0.8, 31.30210, 0.10395, 4.22980, 0.00535},
      {{1, 1}, 1.9, 1.35790, 0.00762, 1.07622, 0.00190},
  };
  for (const auto& r : records) {
    auto ld = scaled_normal(r.scales.size(), r.scales);
    nuts::SamplerConfig cfg;
    cfg.adapt = false;
    cfg.init_step_size = r.eps;
    cfg.num_warmup = 100;
    cfg.num_samples = 40000;
    nuts::ChainSampler s(*ld, cfg, 3, 0);
    s.initialize();
    std::vector<double> n, depth;
    for (unsigned i = 0; i < cfg.num_warmup + cfg.num_samples; ++i) {
      const auto st = s.iterate();
      if (i < cfg.num_warmup) continue;
      n.push_back(st.n_leapfrog);
      depth.push_back(st.tree_depth);
    }
    const double se_n = std::sqrt(var_of(n) / ess_geyer(n));
    const double se_d = std::sqrt(var_of(depth) / ess_geyer(depth));
    EXPECT_LT(std::fabs(mean_of(n) - r.n_leapfrog),
              4 * std::sqrt(se_n * se_n + r.n_leapfrog_mcse * r.n_leapfrog_mcse))
        << "eps " << r.eps << ": mean n_leapfrog " << mean_of(n) << " vs Stan " << r.n_leapfrog;
    EXPECT_LT(std::fabs(mean_of(depth) - r.depth),
              4 * std::sqrt(se_d * se_d + r.depth_mcse * r.depth_mcse))
        << "eps " << r.eps << ": mean treedepth " << mean_of(depth) << " vs Stan " << r.depth;
  }
}

// Stan 2.21 (rstan), eight_schools_noncentered, seeds 1..300: mean and standard error over seeds.
TEST(StanAgreement, WindowedWarmupMatchesStanOverSeeds) {
  struct Stat {
    const char* name;
    double stan_mean, stan_se;
    std::vector<double> exmc;
  };
  Stat stats[] = {{"adapted step size", 0.42522, 0.00352, {}},
                  {"mean n_leapfrog", 9.16889, 0.12036, {}},
                  {"mean accept_stat", 0.87863, 0.00215, {}}};
  EightNoncentered ld;
  nuts::SamplerConfig cfg;  // Stan's defaults: 1000 + 1000, delta 0.8, windows 75/25/50
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    nuts::ChainSampler s(ld, cfg, seed, 0);
    s.initialize();
    double nl = 0, acc = 0;
    for (unsigned it = 0; it < cfg.num_warmup + cfg.num_samples; ++it) {
      const auto st = s.iterate();
      if (it < cfg.num_warmup) continue;
      nl += st.n_leapfrog;
      acc += st.accept_stat;
    }
    stats[0].exmc.push_back(s.step_size());
    stats[1].exmc.push_back(nl / cfg.num_samples);
    stats[2].exmc.push_back(acc / cfg.num_samples);
  }
  for (const Stat& st : stats) {
    const double m = mean_of(st.exmc), se = std::sqrt(var_of(st.exmc) / st.exmc.size());
    EXPECT_LT(std::fabs(m - st.stan_mean), 4 * std::sqrt(se * se + st.stan_se * st.stan_se))
        << st.name << ": exmc " << m << " (se " << se << ") vs Stan " << st.stan_mean << " (se "
        << st.stan_se << ")";
  }
}

}  // namespace
}  // namespace exmc::testing
