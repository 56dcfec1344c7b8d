// Chain runner: thread-count independence, streaming callbacks, cancellation, grad counts.
#include "exmc/runtime/run_chains.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <cmath>
#include <mutex>
#include <new>
#include <sstream>
#include <thread>

#include "../nuts/test_util.hpp"

namespace exmc::runtime {
namespace {

RunConfig small_config(unsigned threads) {
  RunConfig cfg;
  cfg.sampler.num_warmup = 300;
  cfg.sampler.num_samples = 300;
  cfg.num_chains = 4;
  cfg.num_threads = threads;
  cfg.seed = 12345;
  cfg.save_warmup = true;
  return cfg;
}

TEST(RunChains, IdenticalDrawsForOneTwoFourThreads) {
  auto ld = exmc::testing::scaled_normal(5, {1, 2, 3, 0.5, 0.1});
  const RunResult r1 = run_chains(*ld, small_config(1));
  const RunResult r2 = run_chains(*ld, small_config(2));
  const RunResult r4 = run_chains(*ld, small_config(4));
  r1.throw_if_failed();
  ASSERT_EQ(r1.chains.size(), 4u);
  for (const RunResult* r : {&r2, &r4}) {
    for (unsigned c = 0; c < 4; ++c) {
      ASSERT_EQ(r->chains[c].draws.size(), 300u * 5);
      EXPECT_EQ(r->chains[c].draws, r1.chains[c].draws) << "chain " << c;
      EXPECT_EQ(r->chains[c].warmup_draws, r1.chains[c].warmup_draws) << "chain " << c;
      EXPECT_EQ(r->chains[c].grad_evals, r1.chains[c].grad_evals);
      EXPECT_EQ(r->chains[c].adaptation.step_size, r1.chains[c].adaptation.step_size);
    }
  }
  // Different chains really are different streams.
  EXPECT_NE(r1.chains[0].draws, r1.chains[1].draws);
}

TEST(RunChains, GradEvalsEqualLeapfrogsPlusOverhead) {
  auto ld = exmc::testing::scaled_normal(3);
  std::atomic<uint64_t> calls{0};
  auto counting = make_log_density(3, [&](const double* x, double* g) {
    calls.fetch_add(1, std::memory_order_relaxed);
    return ld->logp_grad(x, g);
  });
  RunConfig cfg = small_config(2);
  const RunResult r = run_chains(*counting, cfg);
  uint64_t total = 0;
  for (const auto& c : r.chains) {
    total += c.grad_evals;
    uint64_t leapfrogs = 0;
    for (const auto& s : c.stats) leapfrogs += s.n_leapfrog;
    // Sampling-phase gradient evaluations are exactly the leapfrog steps.
    EXPECT_EQ(c.grad_evals - c.warmup_grad_evals, leapfrogs);
  }
  EXPECT_EQ(total, calls.load());
}

TEST(RunChains, CallbackSeesEveryDrawInOrderOnConstrainedScale) {
  auto ld = exmc::testing::scaled_normal(2);
  RunConfig cfg = small_config(2);
  std::mutex mu;
  std::vector<std::vector<unsigned>> iters(4);
  std::vector<int> adapt_calls(4, 0);
  Callbacks cb;
  cb.on_draw = [&](const DrawEvent& e) {
    std::lock_guard<std::mutex> lk(mu);
    EXPECT_EQ(e.num_values, 2u);
    EXPECT_EQ(e.warmup, e.iteration < 300);
    // Adaptation is reported before the first sampling draw.
    EXPECT_EQ(adapt_calls[e.chain], e.warmup ? 0 : 1);
    iters[e.chain].push_back(e.iteration);
  };
  cb.on_adaptation = [&](unsigned c, const nuts::AdaptationState& a) {
    std::lock_guard<std::mutex> lk(mu);
    ++adapt_calls[c];
    EXPECT_GT(a.step_size, 0);
  };
  const RunResult r = run_chains(*ld, cfg, cb);
  for (unsigned c = 0; c < 4; ++c) {
    ASSERT_EQ(iters[c].size(), 600u);
    for (unsigned i = 0; i < 600; ++i) EXPECT_EQ(iters[c][i], i);
    EXPECT_EQ(adapt_calls[c], 1);
  }
}

TEST(RunChains, CancelFromAnotherThreadReturnsDrawsSoFar) {
  // A slow density so that the run is still going when cancelled.
  auto ld = make_log_density(2, [](const double* x, double* g) {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    g[0] = -x[0];
    g[1] = -x[1];
    return -0.5 * (x[0] * x[0] + x[1] * x[1]);
  });
  CancelToken token;
  RunConfig cfg = small_config(2);
  cfg.sampler.num_samples = 100000;
  cfg.cancel = &token;
  std::atomic<int> draws{0};
  std::thread canceller([&] {
    while (draws.load() < 500) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    token.cancel();
  });
  const RunResult r = run_chains(*ld, cfg, [&](const DrawEvent&) { draws.fetch_add(1); });
  canceller.join();
  EXPECT_TRUE(r.cancelled);
  size_t kept = 0;
  for (const auto& c : r.chains) {
    EXPECT_TRUE(c.cancelled);
    EXPECT_EQ(c.draws.size(), c.stats.size() * 2);
    kept += c.stats.size() + c.warmup_stats.size();
  }
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, 4u * 100300);
}

// A cancel during a long trajectory ends it between its subtrees, not after it. Each iteration
// here is 1023 leapfrogs (a tiny fixed step size) and the cancel comes at the 1500th gradient,
// inside the second: the chain keeps only the first, completed iteration (the interrupted one
// gives no draw and no checkpoint) and stops within one leapfrog of the cancel, where it ran
// the second iteration to its end (2047 gradients or more) and kept its draw.
TEST(RunChains, ACancelInsideATrajectoryStopsItWithinALeapfrogAndKeepsNothingOfIt) {
  CancelToken token;
  std::atomic<long> calls{0};
  const long cancel_at = 1500;
  auto ld = make_log_density(3, [&](const double* x, double* g) {
    if (calls.fetch_add(1) + 1 == cancel_at) token.cancel();
    for (int i = 0; i < 3; ++i) g[i] = -x[i];
    return -0.5 * (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  });
  RunConfig cfg;
  cfg.num_chains = 1;
  cfg.sampler.num_warmup = 0;
  cfg.sampler.num_samples = 100;
  cfg.sampler.adapt = false;
  cfg.sampler.init_step_size = 1e-4;
  cfg.cancel = &token;
  cfg.checkpoint_every = 1;
  unsigned checkpoints = 0, draws = 0;
  Callbacks cb;
  cb.on_draw = [&](const DrawEvent&) { ++draws; };
  cb.on_checkpoint = [&](unsigned, unsigned done, const std::string&) {
    ++checkpoints;
    EXPECT_EQ(done, 1u);
  };
  const RunResult r = run_chains(*ld, cfg, cb);
  ASSERT_EQ(r.chains.size(), 1u);
  const ChainResult& c = r.chains[0];
  EXPECT_TRUE(r.cancelled);
  EXPECT_TRUE(c.cancelled);
  EXPECT_EQ(c.error, "");
  ASSERT_EQ(c.num_draws(), 1u);
  EXPECT_EQ(c.stats[0].n_leapfrog, 1023);
  EXPECT_EQ(draws, 1u);
  EXPECT_EQ(checkpoints, 1u);
  EXPECT_GE(calls.load(), cancel_at);
  EXPECT_LE(calls.load(), cancel_at + 1);
  EXPECT_EQ(c.grad_evals, uint64_t(calls.load()));
}

TEST(RunChains, InitFailureIsReportedPerChainWithReason) {
  auto ld = make_log_density(2, [](const double*, double* g) {
    g[0] = g[1] = 0;
    return std::nan("");
  });
  RunConfig cfg = small_config(1);
  const RunResult r = run_chains(*ld, cfg);
  for (const auto& c : r.chains) {
    EXPECT_NE(c.error.find("100 attempts"), std::string::npos) << c.error;
    EXPECT_NE(c.error.find("log density is NaN in 100 of 100 attempts"), std::string::npos)
        << c.error;
    EXPECT_TRUE(c.draws.empty());
  }
  EXPECT_THROW(r.throw_if_failed(), std::runtime_error);
}

TEST(Progress, RendersOneLinePerChain) {
  ProgressOptions o;
  o.stream = nullptr;
  ProgressReporter p(2, o);
  p.chain(0).started = true;
  p.chain(0).total = 100;
  p.chain(0).num_warmup = 50;
  p.chain(0).iteration = 25;
  p.chain(0).grad_evals = 250;
  p.chain(0).divergences = 3;
  p.chain(0).warmup_divergences = 7;
  const std::string s = p.render(false);
  // Chains are numbered from 1, as in the output files.
  EXPECT_NE(s.find("chain 1 warmup"), std::string::npos) << s;
  EXPECT_NE(s.find("divergent 3    (warmup 7   )"), std::string::npos) << s;
  EXPECT_NE(s.find("grads/draw 10.0"), std::string::npos) << s;
  EXPECT_NE(s.find("chain 2 waiting"), std::string::npos) << s;
}

// 200 chains: a line of counts and the running chains, at most ProgressReporter::kMaxLines lines
// (there were 200, redrawn 4 times a second on a terminal and written every 5 s to a log).
TEST(Progress, ManyChainsShowCountsAndTheRunningChainsOnly) {
  ProgressOptions o;
  o.stream = nullptr;
  ProgressReporter p(200, o);
  for (size_t c = 0; c < 130; ++c) {
    p.chain(c).started = true;
    p.chain(c).total = 100;
    p.chain(c).num_warmup = 50;
    p.chain(c).iteration = c < 100 ? 100 : 60;
    p.chain(c).divergences = 1;
    p.chain(c).done = c < 100;
  }
  p.chain(0).failed = true;
  const std::string s = p.render(false);
  EXPECT_LE(size_t(std::count(s.begin(), s.end(), '\n')), ProgressReporter::kMaxLines) << s;
  EXPECT_EQ(s.rfind("200 chains: 99 done, 30 running, 70 waiting, 1 failed or stopped; divergent 130;", 0), 0u) << s;
  EXPECT_NE(s.find("(15 running not listed)"), std::string::npos) << s;
  EXPECT_NE(s.find("chain 101 sampling"), std::string::npos) << s;
  EXPECT_EQ(s.find("waiting "), std::string::npos) << s;
  EXPECT_EQ(s.find("chain 1 "), std::string::npos) << s;
  // A few chains keep a line each.
  ProgressReporter few(ProgressReporter::kMaxLines, o);
  const std::string f = few.render(false);
  EXPECT_EQ(size_t(std::count(f.begin(), f.end(), '\n')), ProgressReporter::kMaxLines) << f;
}

// On a terminal each redraw goes back up over what the last one drew, never over more.
TEST(Progress, ATerminalRedrawOfManyChainsMovesUpOverItsOwnLinesOnly) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressOptions o;
  o.enabled = true;
  o.stream = f;
  o.force_tty = 1;
  o.interval_seconds = 0.005;
  {
    ProgressReporter p(300, o);
    for (size_t c = 0; c < 300; ++c) p.chain(c).started = c % 2 == 0;
    p.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  std::rewind(f);
  std::string text;
  for (int ch; (ch = std::fgetc(f)) != EOF;) text += char(ch);
  std::fclose(f);
  size_t ups = 0;
  for (size_t at = text.find("\x1b["); at != std::string::npos; at = text.find("\x1b[", at + 1)) {
    const size_t end = text.find_first_not_of("0123456789", at + 2);
    if (end == std::string::npos || text[end] != 'A') continue;
    ++ups;
    EXPECT_LE(std::stoul(text.substr(at + 2, end - at - 2)), ProgressReporter::kMaxLines);
  }
  EXPECT_GE(ups, 2u) << "redraws: " << ups;
}

}  // namespace
}  // namespace exmc::runtime

namespace exmc::runtime {
namespace {

TEST(Progress, PlainLinesWhenNotATerminalDuringARealRun) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto ld = make_log_density(2, [](const double* x, double* g) {
    std::this_thread::sleep_for(std::chrono::microseconds(5));
    g[0] = -x[0];
    g[1] = -x[1];
    return -0.5 * (x[0] * x[0] + x[1] * x[1]);
  });
  RunConfig cfg = small_config(2);
  cfg.progress.enabled = true;
  cfg.progress.stream = f;
  cfg.progress.interval_seconds = 0.01;
  run_chains(*ld, cfg);
  std::rewind(f);
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  std::fclose(f);
  EXPECT_EQ(text.find("\x1b["), std::string::npos) << "no terminal escapes in plain mode";
  // The final report (last four lines) shows every chain done with all its iterations.
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  ASSERT_GE(lines.size(), 4u);
  for (int c = 0; c < 4; ++c) {
    const std::string& l = lines[lines.size() - 4 + c];
    EXPECT_EQ(l.rfind("chain " + std::to_string(c + 1) + " done", 0), 0u) << l;
    EXPECT_NE(l.find("600/600"), std::string::npos) << l;
  }
  EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 8);
}

// The final report says how each chain ended: an interrupted chain said "done 47136/101000", as
// if it had completed, and so did a chain that failed.
TEST(Progress, FinalLinesSayWhetherAChainCompletedFailedOrWasStopped) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto ld = exmc::testing::scaled_normal(2);
  RunConfig cfg = small_config(1);  // one thread: chains 1..4 run in turn
  cfg.num_chains = 3;
  CancelToken cancel;
  cfg.cancel = &cancel;
  cfg.progress.enabled = true;
  cfg.progress.stream = f;
  cfg.progress.interval_seconds = 10;  // only the final report
  run_chains(*ld, cfg, [&](const DrawEvent& e) {
    if (e.chain == 1 && e.iteration == 100) throw std::runtime_error("disk full");
    if (e.chain == 2 && e.iteration == 200) cancel.cancel();
  });
  std::rewind(f);
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  std::fclose(f);
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  ASSERT_GE(lines.size(), 3u);
  // "chain K <how> <iterations>/<total> ...": the failed chain's iteration 100 never completed.
  const std::vector<std::vector<std::string>> expected = {
      {"chain", "1", "done", "600/600"}, {"chain", "2", "failed", "100/600"}, {"chain", "3", "stopped", "201/600"}};
  for (size_t c = 0; c < 3; ++c) {
    std::istringstream words(lines[lines.size() - 3 + c]);
    std::vector<std::string> first(4);
    for (auto& w : first) words >> w;
    EXPECT_EQ(first, expected[c]) << lines[lines.size() - 3 + c];
  }
}

}  // namespace
}  // namespace exmc::runtime

namespace exmc::runtime {
namespace {

TEST(RunChains, ThrowingCallbackStopsOnlyItsChainWithAMessage) {
  auto ld = exmc::testing::scaled_normal(2);
  RunConfig cfg = small_config(2);
  const RunResult r = run_chains(*ld, cfg, [](const DrawEvent& e) {
    if (e.chain == 1 && e.iteration == 350) throw std::runtime_error("disk full");
  });
  EXPECT_EQ(r.chains[1].error, "iteration 350: disk full");
  try {
    r.throw_if_failed();
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "chain 2: iteration 350: disk full");  // chains count from 1 for people
  }
  EXPECT_EQ(r.chains[1].num_draws(), 51u);  // draws 300..350 were made before the throw
  for (unsigned c : {0u, 2u, 3u}) {
    EXPECT_TRUE(r.chains[c].error.empty());
    EXPECT_EQ(r.chains[c].num_draws(), 300u);
  }
}

// Running out of memory is the machine's state, not the inputs': the chain says so in words (not
// "std::bad_alloc") and marks it, so a caller may retry where another error would only repeat.
TEST(RunChains, OutOfMemoryInAChainIsMarkedAndWorded) {
  auto ld = exmc::testing::scaled_normal(2);
  RunConfig cfg = small_config(3);
  const RunResult r = run_chains(*ld, cfg, [](const DrawEvent& e) {
    if (e.chain == 0 && e.iteration == 320) throw std::bad_alloc();
    if (e.chain == 2 && e.iteration == 330) throw std::runtime_error("disk full");
  });
  EXPECT_EQ(r.chains[0].error, "iteration 320: out of memory");
  EXPECT_TRUE(r.chains[0].out_of_memory);
  EXPECT_TRUE(r.chains[1].error.empty());
  EXPECT_FALSE(r.chains[1].out_of_memory);
  EXPECT_EQ(r.chains[2].error, "iteration 330: disk full");
  EXPECT_FALSE(r.chains[2].out_of_memory);
}

}  // namespace
}  // namespace exmc::runtime

namespace exmc::runtime {
namespace {

TEST(RunChains, ZeroDimensionalDensityRunsAndEmitsDeterministics) {
  // No parameters, only a derived output (as a generated-quantities-only model would have).
  class Empty final : public LogDensity {
   public:
    size_t dim() const override { return 0; }
    double logp_grad(const double*, double*) const override { return 0.0; }
    std::vector<VarInfo> output_vars() const override { return {VarInfo{"c", {}}}; }
    void constrain(const double*, double* out) const override { out[0] = 42; }
  } ld;
  RunConfig cfg = small_config(1);
  const RunResult r = run_chains(ld, cfg);
  r.throw_if_failed();
  for (const auto& c : r.chains) {
    ASSERT_EQ(c.num_draws(), 300u);
    EXPECT_EQ(c.draw(299)[0], 42);
    EXPECT_FALSE(c.stats[0].divergent);
  }
}

}  // namespace
}  // namespace exmc::runtime

namespace exmc::runtime {
namespace {

TEST(RunChains, PerChainInitialValues) {
  auto ld = exmc::testing::scaled_normal(2);
  RunConfig cfg = small_config(2);
  cfg.num_chains = 2;
  cfg.sampler.num_warmup = 0;
  cfg.sampler.adapt = false;
  cfg.sampler.init_step_size = 1e-3;  // one tiny step: the first draw stays near the start
  cfg.sampler.max_depth = 1;
  cfg.chain_init_values = {{{"x", {5, 5}}}, {{"x", {-5, -5}}}};
  const RunResult r = run_chains(*ld, cfg);
  r.throw_if_failed();
  EXPECT_NEAR(r.chains[0].draw(0)[0], 5, 0.1);
  EXPECT_NEAR(r.chains[1].draw(0)[0], -5, 0.1);
  cfg.chain_init_values.pop_back();
  EXPECT_THROW(run_chains(*ld, cfg), std::invalid_argument);
}

TEST(RunChains, NoChainsIsRefused) {
  auto ld = exmc::testing::scaled_normal(2);
  RunConfig cfg = small_config(1);
  cfg.num_chains = 0;
  try {
    run_chains(*ld, cfg);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("num_chains must be >= 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace exmc::runtime
