// Ctrl-C and SIGTERM for the commands whose work has no partial result to keep (optimize,
// laplace, pathfinder, variational, smc, generate_quantities, log_prob): the process ends at
// once with 130 or 143, saying so, and the unfinished temporaries of its outputs are removed.
// Without it the signal's default action ended the process silently and, during the writing,
// left out.csv.<hex>.tmp behind.
#pragma once

#include <signal.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace exmc::cli {

class MethodInterruptGuard {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread, so construct it before the command starts
  // any thread: they inherit the mask, and the signals then reach only this guard's watcher.
  explicit MethodInterruptGuard(std::string command);
  ~MethodInterruptGuard();
  MethodInterruptGuard(const MethodInterruptGuard&) = delete;
  MethodInterruptGuard& operator=(const MethodInterruptGuard&) = delete;

  // The outputs the command writes, once known, and each one once complete under its final name:
  // the message of a later interruption says which exist.
  void expect(std::vector<std::string> outputs);
  void completed(const std::string& path);

 private:
  void watch();
  std::string command_;
  sigset_t previous_mask_{};
  std::atomic<bool> stopping_{false};
  std::mutex completed_mutex_;
  std::vector<std::string> expected_, completed_;
  std::thread watcher_;
};

}  // namespace exmc::cli
