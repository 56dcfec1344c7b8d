// A chain's checkpoint state is written into a buffer sized once (a counting pass first), not
// grown by doubling: the heap it takes while the state is handed over, counted by this binary's
// operator new and delete (tests/support/heap_peak.hpp; the only such file of runtime_test).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "../nuts/test_util.hpp"
#include "../support/heap_peak.hpp"
#include "exmc/core/state_io.hpp"
#include "exmc/runtime/run_chains.hpp"

namespace exmc::runtime {
namespace {

// A state of a few MB (every vector of the sampler, the metric and its adapter at 20,000
// dimensions) took up to three times its size at once while its buffer's last doubling copied.
TEST(RunCheckpointPeak, AChainsStateIsWrittenIntoABufferSizedOnce) {
  auto ld = exmc::testing::scaled_normal(20000);
  RunConfig cfg;
  cfg.num_chains = 1;
  cfg.num_threads = 1;
  cfg.seed = 4;
  cfg.sampler.num_warmup = 10;
  cfg.sampler.num_samples = 6;
  cfg.checkpoint_every = 12;  // after sampling iterations 12 and 16
  long long at_draw = 0, worst = 0;
  size_t state_bytes = 0, checkpoints = 0;
  Callbacks cb;
  // The sampling draw of an iteration comes just before its checkpoint.
  cb.on_draw = [&](const DrawEvent&) { at_draw = test_support::start_peak(); };
  cb.on_checkpoint = [&](unsigned, unsigned, const std::string& state) {
    worst = std::max(worst, test_support::peak_bytes() - at_draw);
    state_bytes = state.size();
    ++checkpoints;
  };
  const RunResult r = run_chains(*ld, cfg, cb);
  ASSERT_TRUE(r.chains[0].error.empty()) << r.chains[0].error;
  ASSERT_EQ(checkpoints, 2u);
  ASSERT_GT(state_bytes, size_t(1) << 20);
  // The state itself and a page's worth of anything else.
  EXPECT_LE(worst, static_cast<long long>(state_bytes) + (64 << 10))
      << "heap beyond the draw's, for a state of " << state_bytes << " bytes";
}

// A finished chain's adapted metric goes to its result moved, not copied: a dense metric at 10^4
// dimensions is 800 MB, and the copy (and its page faults) came after the last draw.
TEST(RunChainsPeak, AFinishedChainsMetricIsMovedIntoItsResult) {
  constexpr size_t d = 300;
  auto ld = exmc::testing::scaled_normal(d);
  RunConfig cfg;
  cfg.num_chains = 1;
  cfg.num_threads = 1;
  cfg.seed = 4;
  cfg.sampler.metric = nuts::MetricKind::Dense;
  cfg.sampler.num_warmup = 0;
  cfg.sampler.num_samples = 3;
  long long at_draw = 0;
  Callbacks cb;
  cb.on_draw = [&](const DrawEvent&) { at_draw = test_support::start_peak(); };
  const RunResult r = run_chains(*ld, cfg, cb);
  const long long after_last_draw = test_support::peak_bytes() - at_draw;
  ASSERT_TRUE(r.chains[0].error.empty()) << r.chains[0].error;
  ASSERT_EQ(r.chains[0].adaptation.inv_metric.size(), d * d);
  EXPECT_EQ(r.chains[0].adaptation.inv_metric[0], 1.0);
  EXPECT_LE(after_last_draw, 64 << 10) << "heap taken after the last draw; the metric is " << d * d * 8 << " bytes";
}

// The counting writer's size is the bytes the real one writes, field for field.
TEST(StateWriterCount, CountsWhatTheWriterWrites) {
  const auto write = [](StateWriter& w) {
    w.tag("ABCD");
    w.u64(7);
    w.f64(0.5);
    w.bytes("hello");
    w.f64s(std::vector<double>(3, 1.0));
    w.u64s(std::vector<uint64_t>(2, 9));
  };
  StateWriter count = StateWriter::counter(), w;
  write(count);
  write(w);
  EXPECT_EQ(count.size(), w.data().size());
  EXPECT_TRUE(count.data().empty());
}

}  // namespace
}  // namespace exmc::runtime
