// Progress display thread.
#include "exmc/runtime/progress.hpp"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>

namespace exmc::runtime {

namespace {
std::string fmt_seconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}
}  // namespace

ProgressReporter::ProgressReporter(size_t num_chains, ProgressOptions opts) : opts_(opts) {
  for (size_t i = 0; i < num_chains; ++i) chains_.push_back(std::make_unique<ChainProgress>());
  tty_ = opts_.force_tty >= 0 ? opts_.force_tty == 1
                              : (opts_.stream && isatty(fileno(opts_.stream)) == 1);
  t0_ = std::chrono::steady_clock::now();
}

ProgressReporter::~ProgressReporter() { stop(); }

void ProgressReporter::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void ProgressReporter::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string ProgressReporter::render(bool tty) const {
  std::string out;
  const auto now = std::chrono::steady_clock::now();
  const int64_t now_ns = now.time_since_epoch().count();
  char line[256];
  for (size_t i = 0; i < chains_.size(); ++i) {
    const ChainProgress& c = *chains_[i];
    const unsigned it = c.iteration.load(std::memory_order_relaxed);
    const unsigned total = c.total.load(std::memory_order_relaxed);
    const bool started = c.started.load(std::memory_order_relaxed);
    const double elapsed = started ? (now_ns - c.start_ns.load()) * 1e-9 : 0.0;
    const double eta = (it > 0 && total > it) ? elapsed / it * (total - it) : 0.0;
    const uint64_t grads = c.grad_evals.load(std::memory_order_relaxed);
    const char* phase = !started ? "waiting"
                        : c.done.load() ? (c.failed.load() ? "failed" : c.stopped.load() ? "stopped" : "done")
                        : it < c.num_warmup.load() ? "warmup"
                                                   : "sampling";
    std::snprintf(line, sizeof line,
                  "chain %zu %-8s %5u/%-5u divergent %-4" PRIu64 " (warmup %-4" PRIu64
                  ") step %.3g grads/draw %.1f elapsed %s eta %s",
                  i + 1, phase, it, total, c.divergences.load(std::memory_order_relaxed),
                  c.warmup_divergences.load(std::memory_order_relaxed),
                  c.step_size.load(std::memory_order_relaxed),
                  it ? double(grads) / it : 0.0, fmt_seconds(elapsed).c_str(),
                  fmt_seconds(eta).c_str());
    out += line;
    out += tty ? "\x1b[K\n" : "\n";
  }
  return out;
}

void ProgressReporter::loop() {
  const double interval =
      opts_.interval_seconds > 0 ? opts_.interval_seconds : (tty_ ? 0.25 : 5.0);
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    const bool stopping =
        cv_.wait_for(lk, std::chrono::duration<double>(interval), [this] { return stop_; });
    if (opts_.stream) {
      std::string s = render(tty_);
      if (tty_ && lines_drawn_ > 0) {
        char up[32];
        std::snprintf(up, sizeof up, "\x1b[%zuA", lines_drawn_);
        s = up + s;
      }
      std::fputs(s.c_str(), opts_.stream);
      std::fflush(opts_.stream);
      lines_drawn_ = chains_.size();
    }
    if (stopping) return;
  }
}

}  // namespace exmc::runtime
