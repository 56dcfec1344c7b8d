// run_chains with checkpoints: chains resumed from the states handed to on_checkpoint produce
// the draws, statistics and counters of the uninterrupted run, whichever checkpoint each chain
// resumes from (chains of one run resumed at different iterations, one not at all).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../nuts/test_util.hpp"
#include "exmc/runtime/run_chains.hpp"

namespace exmc::runtime {
namespace {

struct Recorded {
  std::mutex mu;
  // chain -> iteration -> stats and values of that iteration's draw
  std::map<unsigned, std::map<unsigned, std::vector<double>>> draws;
  std::map<unsigned, std::map<unsigned, std::string>> states;
};

Callbacks recorder(Recorded& rec) {
  Callbacks cb;
  cb.on_draw = [&rec](const DrawEvent& e) {
    std::vector<double> v(e.values, e.values + e.num_values);
    for (double s : e.stats.as_array()) v.push_back(s);
    std::lock_guard<std::mutex> lock(rec.mu);
    rec.draws[e.chain][e.iteration] = std::move(v);
  };
  cb.on_checkpoint = [&rec](unsigned chain, unsigned done, const std::string& state) {
    std::lock_guard<std::mutex> lock(rec.mu);
    rec.states[chain][done] = state;
  };
  return cb;
}

TEST(RunCheckpoint, ResumedChainsContinueTheUninterruptedRun) {
  auto ld = exmc::testing::scaled_normal(2, {1, 5});
  RunConfig cfg;
  cfg.num_chains = 3;
  cfg.seed = 9;
  cfg.sampler.num_warmup = 100;
  cfg.sampler.num_samples = 50;
  cfg.save_warmup = true;
  cfg.checkpoint_every = 20;
  Recorded whole;
  const RunResult full = run_chains(*ld, cfg, recorder(whole));
  ASSERT_TRUE(full.chains[0].error.empty());
  // Every 20 iterations and after the last (150): 20, 40, ..., 140, 150.
  ASSERT_EQ(whole.states[0].size(), 8u);
  EXPECT_EQ(whole.states[0].rbegin()->first, 150u);

  // Chain 0 from iteration 40 (warmup), chain 1 from 100 (the warmup/sampling boundary), chain 2
  // afresh.
  RunConfig again = cfg;
  again.resume_states = {whole.states[0][40], whole.states[1][100], ""};
  Recorded resumed;
  const RunResult part = run_chains(*ld, again, recorder(resumed));
  const unsigned from[3] = {40, 100, 0};
  for (unsigned c = 0; c < 3; ++c) {
    ASSERT_TRUE(part.chains[c].error.empty()) << part.chains[c].error;
    EXPECT_EQ(resumed.draws[c].begin()->first, from[c]) << c;
    for (const auto& [it, v] : resumed.draws[c]) {
      const auto& w = whole.draws[c][it];
      ASSERT_EQ(v.size(), w.size());
      EXPECT_EQ(std::memcmp(v.data(), w.data(), v.size() * sizeof(double)), 0)
          << "chain " << c << " iteration " << it;
    }
    EXPECT_EQ(resumed.draws[c].size(), 150u - from[c]);
    EXPECT_EQ(part.chains[c].grad_evals, full.chains[c].grad_evals) << c;
    EXPECT_EQ(part.chains[c].divergences, full.chains[c].divergences) << c;
    EXPECT_EQ(part.chains[c].warmup_grad_evals, full.chains[c].warmup_grad_evals) << c;
    EXPECT_EQ(part.chains[c].adaptation.step_size, full.chains[c].adaptation.step_size) << c;
    // A chain's later checkpoints are the uninterrupted run's, byte for byte, but for the phase
    // clock (the last 8 bytes).
    const auto& a = resumed.states[c].rbegin()->second;
    const auto& b = whole.states[c].rbegin()->second;
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(a.substr(0, a.size() - 16), b.substr(0, b.size() - 16)) << c;
  }
}

TEST(RunCheckpoint, StatesOfTheWrongChainOrCountAreErrors) {
  auto ld = exmc::testing::scaled_normal(2);
  RunConfig cfg;
  cfg.num_chains = 2;
  cfg.sampler.num_warmup = 30;
  cfg.sampler.num_samples = 10;
  cfg.checkpoint_every = 10;
  Recorded rec;
  run_chains(*ld, cfg, recorder(rec));
  RunConfig swapped = cfg;
  swapped.resume_states = {rec.states[1][20], rec.states[0][20]};
  const RunResult r = run_chains(*ld, swapped, Callbacks{});
  EXPECT_NE(r.chains[0].error.find("random stream"), std::string::npos) << r.chains[0].error;
  RunConfig short_list = cfg;
  short_list.resume_states = {rec.states[0][20]};
  EXPECT_THROW(run_chains(*ld, short_list, Callbacks{}), std::invalid_argument);
}

// A state's last two numbers are the warmup's seconds and the current phase's seconds so far.
// A damaged one (what the checkpoint fuzzer in fuzz/ made: 1e135 s) was converted to the clock's
// integer nanoseconds, undefined behaviour, and the chain went on; NaN went on too.
TEST(RunCheckpoint, AStateWithAnImpossiblePhaseTimeIsAnError) {
  auto ld = exmc::testing::scaled_normal(2);
  RunConfig cfg;
  cfg.num_chains = 1;
  cfg.sampler.num_warmup = 30;
  cfg.sampler.num_samples = 10;
  cfg.checkpoint_every = 10;
  Recorded rec;
  run_chains(*ld, cfg, recorder(rec));
  const std::string saved = rec.states[0][20];
  for (const size_t from_end : {8u, 16u}) {
    for (const double t : {1e135, -1.0, std::nan("")}) {
      std::string state = saved;
      std::memcpy(&state[state.size() - from_end], &t, 8);
      RunConfig again = cfg;
      again.resume_states = {state};
      const RunResult r = run_chains(*ld, again, Callbacks{});
      EXPECT_EQ(r.chains[0].error, "sampler state: corrupt phase time") << from_end << " " << t;
    }
  }
  RunConfig as_saved = cfg;
  as_saved.resume_states = {saved};
  EXPECT_EQ(run_chains(*ld, as_saved, Callbacks{}).chains[0].error, "");
}

}  // namespace
}  // namespace exmc::runtime
