// Optional instrumentation hooks the NUTS tree calls (tests use it to audit merges).
#pragma once

#include <cstddef>

namespace exmc::nuts {

class TreeObserver {
 public:
  virtual ~TreeObserver() = default;
  // A new leaf at position q; divergent when its energy error exceeded the limit.
  virtual void on_leaf(const double* q, size_t d, bool divergent) {}
  // An inner subtree of 2^depth leaves finished; valid = no divergence and no U-turn inside.
  virtual void on_subtree(int depth, bool valid) {}
  // Two sibling subtrees of the given depth were merged (their proposal sampled).
  virtual void on_merge(int depth) {}
  // The trajectory was extended by a subtree of 2^depth leaves; only a valid one is merged.
  virtual void on_extension(int depth, bool valid) {}
};

}  // namespace exmc::nuts
