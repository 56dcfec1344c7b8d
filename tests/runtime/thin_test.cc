// Thinning (Stan's thin): which iterations are kept, in the result and in the callbacks.
#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>
#include <vector>

#include "../nuts/test_util.hpp"
#include "exmc/runtime/run_chains.hpp"

namespace exmc::runtime {
namespace {

RunConfig config(unsigned thin) {
  RunConfig cfg;
  cfg.sampler.num_warmup = 100;
  cfg.sampler.num_samples = 50;
  cfg.sampler.thin = thin;
  cfg.num_chains = 2;
  cfg.num_threads = 2;
  cfg.seed = 77;
  cfg.save_warmup = true;
  return cfg;
}

TEST(Thin, KeepsEveryThinthIterationOfEachPhaseAsStanDoes) {
  auto ld = exmc::testing::scaled_normal(3, {1, 2, 0.5});
  const RunResult full = run_chains(*ld, config(1));
  std::vector<std::vector<unsigned>> seen(2);
  std::mutex mu;
  const RunResult thinned = run_chains(*ld, config(3), [&](const DrawEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    seen[e.chain].push_back(e.iteration);
  });
  full.throw_if_failed();
  thinned.throw_if_failed();
  for (unsigned c = 0; c < 2; ++c) {
    const ChainResult& f = full.chains[c];
    const ChainResult& t = thinned.chains[c];
    // ceil(50 / 3) = 17 sampling draws, ceil(100 / 3) = 34 warmup draws.
    ASSERT_EQ(t.num_draws(), 17u);
    ASSERT_EQ(t.warmup_stats.size(), 34u);
    ASSERT_EQ(t.draws.size(), 17u * 3);
    for (size_t k = 0; k < 17; ++k) {
      for (size_t j = 0; j < 3; ++j) EXPECT_EQ(t.draw(k)[j], f.draw(3 * k)[j]) << k;
      EXPECT_EQ(t.stats[k].n_leapfrog, f.stats[3 * k].n_leapfrog);
    }
    for (size_t k = 0; k < 34; ++k)
      EXPECT_EQ(t.warmup_draws[3 * k], f.warmup_draws[3 * (3 * k)]) << k;
    // Thinning drops output only: the chain itself, its adaptation and its cost are unchanged.
    EXPECT_EQ(t.adaptation.step_size, f.adaptation.step_size);
    EXPECT_EQ(t.grad_evals, f.grad_evals);
    EXPECT_EQ(t.divergences, f.divergences);
    // Callbacks see exactly the kept iterations: 0, 3, ..., 99 then 100, 103, ..., 148.
    std::vector<unsigned> want;
    for (unsigned it = 0; it < 100; it += 3) want.push_back(it);
    for (unsigned it = 100; it < 150; it += 3) want.push_back(it);
    EXPECT_EQ(seen[c], want);
  }
}

TEST(Thin, ZeroIsRejectedByName) {
  auto ld = exmc::testing::scaled_normal(1);
  const RunResult r = run_chains(*ld, config(0));
  ASSERT_FALSE(r.chains[0].error.empty());
  EXPECT_NE(r.chains[0].error.find("thin must be >= 1"), std::string::npos) << r.chains[0].error;
  EXPECT_THROW(r.throw_if_failed(), std::runtime_error);
}

}  // namespace
}  // namespace exmc::runtime
