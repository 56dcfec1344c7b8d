// Per-chain progress display: a redrawn table on a terminal, plain periodic lines otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace exmc::runtime {

// Counters a chain updates (relaxed atomics: the display tolerates slightly stale values).
struct ChainProgress {
  std::atomic<unsigned> iteration{0};
  std::atomic<unsigned> total{0};
  std::atomic<unsigned> num_warmup{0};
  std::atomic<uint64_t> divergences{0};         // after warmup: the ones that matter
  std::atomic<uint64_t> warmup_divergences{0};  // expected early in warmup; shown apart
  std::atomic<uint64_t> grad_evals{0};
  std::atomic<double> step_size{0};
  std::atomic<bool> started{false};
  std::atomic<bool> done{false};     // no more iterations: completed, failed or stopped
  std::atomic<bool> failed{false};   // done with an error
  std::atomic<bool> stopped{false};  // done because the run was cancelled (Ctrl-C, SIGTERM)
  std::atomic<int64_t> start_ns{0};
};

struct ProgressOptions {
  bool enabled = false;
  FILE* stream = stderr;
  double interval_seconds = 0;  // 0: 0.25 s on a terminal, 5 s otherwise
  int force_tty = -1;           // -1: detect with isatty; 0/1 force plain lines / redraw
};

class ProgressReporter {
 public:
  ProgressReporter(size_t num_chains, ProgressOptions opts);
  ~ProgressReporter();  // stops the display thread and prints a final state
  ChainProgress& chain(size_t i) { return *chains_[i]; }
  void start();
  void stop();
  // One rendering of the current state (what the display thread prints each tick): a line per
  // chain, or for more than kMaxLines chains a line of counts and the running chains' lines, at
  // most kMaxLines in all.
  std::string render(bool tty) const;
  static constexpr size_t kMaxLines = 16;

 private:
  void loop();
  std::vector<std::unique_ptr<ChainProgress>> chains_;
  ProgressOptions opts_;
  bool tty_ = false;
  size_t lines_drawn_ = 0;
  std::chrono::steady_clock::time_point t0_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace exmc::runtime
