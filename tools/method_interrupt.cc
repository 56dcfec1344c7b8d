#include "method_interrupt.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "exmc/io/temporaries.hpp"

namespace exmc::cli {

namespace {

sigset_t interrupt_signals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  return s;
}

void write_stderr(const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(2, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += size_t(n);
  }
}

}  // namespace

MethodInterruptGuard::MethodInterruptGuard(std::string command) : command_(std::move(command)) {
  const sigset_t s = interrupt_signals();
  pthread_sigmask(SIG_BLOCK, &s, &previous_mask_);
  watcher_ = std::thread([this] { watch(); });
}

MethodInterruptGuard::~MethodInterruptGuard() {
  stopping_.store(true);
  // The watcher waits in sigwait: a signal sent to that thread alone wakes it, and it sees
  // stopping_ (a real SIGTERM at this moment comes after the outputs are complete: ignoring it
  // loses nothing).
  pthread_kill(watcher_.native_handle(), SIGTERM);
  watcher_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void MethodInterruptGuard::expect(std::vector<std::string> outputs) {
  std::lock_guard<std::mutex> lock(completed_mutex_);
  expected_ = std::move(outputs);
}

void MethodInterruptGuard::completed(const std::string& path) {
  std::lock_guard<std::mutex> lock(completed_mutex_);
  completed_.push_back(path);
}

void MethodInterruptGuard::watch() {
  const sigset_t s = interrupt_signals();
  int sig = 0;
  while (sigwait(&s, &sig) != 0) {
  }
  if (stopping_.load()) return;
  // The registry stays locked from here, so no output is renamed into place after this.
  const auto removed = io::remove_tracked_temporaries_for_exit();
  std::string m = "exmc " + command_ + ": interrupted (" + (sig == SIGTERM ? "SIGTERM" : "Ctrl-C") + ")";
  {
    std::lock_guard<std::mutex> lock(completed_mutex_);
    std::string missing;
    for (const auto& p : expected_)
      if (std::find(completed_.begin(), completed_.end(), p) == completed_.end()) missing += " " + p;
    if (completed_.empty()) {
      m += " before its output was written; nothing written";
    } else {
      m += missing.empty() ? " after its output was complete:" : "; complete:";
      for (const auto& p : completed_) m += " " + p;
      if (!missing.empty()) m += "; not written:" + missing;
    }
  }
  if (!removed.empty()) {
    m += " (removed the unfinished";
    for (const auto& p : removed) m += " " + p;
    m += ")";
  }
  write_stderr(m + "\n");
  // The shell's convention, as exmc sample: 130 for Ctrl-C, 143 for SIGTERM. Nothing else is
  // flushed or destroyed: other threads are still running the method.
  ::_exit(128 + sig);
}

}  // namespace exmc::cli
