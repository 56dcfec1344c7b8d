// Progress display thread.
#include "exmc/runtime/progress.hpp"

#include <unistd.h>

#include <algorithm>
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
  // Many chains: one line of counts, then the chains still running, at most kMaxLines in all.
  // A line per chain redrew 256 lines 4 times a second on a terminal (more than it shows: the
  // cursor cannot go back up past its top, so every redraw scrolled) and wrote them all every
  // 5 s to a log (1,024 chains for 10 hours: 800 MB of progress).
  const bool compact = chains_.size() > kMaxLines;
  size_t counts[4] = {0, 0, 0, 0};  // waiting, running, done, failed or stopped
  uint64_t divergent = 0;
  double eta_max = 0;
  size_t listed = 0, unlisted = 0;
  std::string lines;
  char line[256];
  for (size_t i = 0; i < chains_.size(); ++i) {
    const ChainProgress& c = *chains_[i];
    const unsigned it = c.iteration.load(std::memory_order_relaxed);
    const unsigned total = c.total.load(std::memory_order_relaxed);
    const bool started = c.started.load(std::memory_order_relaxed);
    const bool done = c.done.load();
    const double elapsed = started ? (now_ns - c.start_ns.load()) * 1e-9 : 0.0;
    const double eta = (it > 0 && total > it) ? elapsed / it * (total - it) : 0.0;
    const uint64_t grads = c.grad_evals.load(std::memory_order_relaxed);
    const uint64_t div = c.divergences.load(std::memory_order_relaxed);
    const char* phase = !started ? "waiting"
                        : done ? (c.failed.load() ? "failed" : c.stopped.load() ? "stopped" : "done")
                        : it < c.num_warmup.load() ? "warmup"
                                                   : "sampling";
    ++counts[!started ? 0 : !done ? 1 : (c.failed.load() || c.stopped.load()) ? 3 : 2];
    divergent += div;
    if (started && !done && eta > eta_max) eta_max = eta;
    if (compact && !(started && !done)) continue;
    if (compact && listed + 1 >= kMaxLines) {
      ++unlisted;
      continue;
    }
    ++listed;
    std::snprintf(line, sizeof line,
                  "chain %zu %-8s %5u/%-5u divergent %-4" PRIu64 " (warmup %-4" PRIu64
                  ") step %.3g grads/draw %.1f elapsed %s eta %s",
                  i + 1, phase, it, total, div, c.warmup_divergences.load(std::memory_order_relaxed),
                  c.step_size.load(std::memory_order_relaxed),
                  it ? double(grads) / it : 0.0, fmt_seconds(elapsed).c_str(),
                  fmt_seconds(eta).c_str());
    lines += line;
    lines += tty ? "\x1b[K\n" : "\n";
  }
  if (compact) {
    std::snprintf(line, sizeof line,
                  "%zu chains: %zu done, %zu running, %zu waiting%s; divergent %" PRIu64 "; elapsed %s, eta of the "
                  "running %s%s",
                  chains_.size(), counts[2], counts[1], counts[0],
                  counts[3] > 0 ? (", " + std::to_string(counts[3]) + " failed or stopped").c_str() : "", divergent,
                  fmt_seconds(std::chrono::duration<double>(now - t0_).count()).c_str(), fmt_seconds(eta_max).c_str(),
                  unlisted > 0 ? (" (" + std::to_string(unlisted) + " running not listed)").c_str() : "");
    out += line;
    out += tty ? "\x1b[K\n" : "\n";
  }
  return out + lines;
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
      // The compact view's line count changes: what the last drawing left below is cleared.
      if (tty_) s += "\x1b[J";
      std::fputs(s.c_str(), opts_.stream);
      std::fflush(opts_.stream);
      lines_drawn_ = size_t(std::count(s.begin(), s.end(), '\n'));
    }
    if (stopping) return;
  }
}

}  // namespace exmc::runtime
