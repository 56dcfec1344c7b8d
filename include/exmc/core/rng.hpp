// Counter-based random streams: Philox4x64-10 keyed by (seed, stream), so a chain's draws
// depend only on its seed and chain id, never on threads or on how chains are scheduled.
#pragma once

#include <cstdint>
#include <limits>

namespace exmc {

class StateWriter;
class StateReader;

class Rng {
 public:
  using result_type = uint64_t;

  // `stream` separates independent sequences under one seed: the chain id, or a
  // (chain, purpose) pair packed by the caller.
  Rng(uint64_t seed, uint64_t stream);

  uint64_t next_u64();
  result_type operator()() { return next_u64(); }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<uint64_t>::max(); }

  double uniform();              // in the open interval (0, 1)
  double uniform(double lo, double hi);
  double normal();               // standard normal
  double exponential();          // rate 1

  uint64_t seed() const { return key_[0]; }
  uint64_t stream() const { return key_[1]; }

  // The position in the stream (for checkpoints); load_state refuses another (seed, stream).
  void save_state(StateWriter& w) const;
  void load_state(StateReader& r);

 private:
  void refill();
  uint64_t key_[2];
  uint64_t ctr_[4] = {0, 0, 0, 0};
  uint64_t buf_[4] = {0, 0, 0, 0};
  int next_ = 4;
  double spare_normal_ = 0;
  bool has_spare_ = false;
};

}  // namespace exmc
