// A flag another thread sets to stop running chains early (they return what they have).
#pragma once

#include <atomic>

namespace exmc::runtime {

class CancelToken {
 public:
  void cancel() { flag_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return flag_.load(std::memory_order_relaxed); }
  void reset() { flag_.store(false, std::memory_order_relaxed); }
  // For a loop that polls it (the NUTS tree, between subtrees).
  const std::atomic<bool>& flag() const { return flag_; }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace exmc::runtime
