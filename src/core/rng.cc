#include "exmc/core/rng.hpp"

#include <Random123/philox.h>

#include <cmath>
#include <stdexcept>

#include "exmc/core/state_io.hpp"

namespace exmc {

Rng::Rng(uint64_t seed, uint64_t stream) : key_{seed, stream} {}

void Rng::refill() {
  r123::Philox4x64 gen;
  r123::Philox4x64::ctr_type c = {{ctr_[0], ctr_[1], ctr_[2], ctr_[3]}};
  r123::Philox4x64::key_type k = {{key_[0], key_[1]}};
  r123::Philox4x64::ctr_type r = gen(c, k);
  for (int i = 0; i < 4; ++i) buf_[i] = r.v[i];
  if (++ctr_[0] == 0) ++ctr_[1];
  next_ = 0;
}

uint64_t Rng::next_u64() {
  if (next_ == 4) refill();
  return buf_[next_++];
}

double Rng::uniform() {
  // 53 random bits, shifted by half an ulp so 0 is never returned.
  return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53;
}

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  const double u1 = uniform(), u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double t = 6.283185307179586476925286766559 * u2;
  spare_normal_ = r * std::sin(t);
  has_spare_ = true;
  return r * std::cos(t);
}

void Rng::save_state(StateWriter& w) const {
  w.tag("RNG ");
  w.u64(key_[0]);
  w.u64(key_[1]);
  for (uint64_t c : ctr_) w.u64(c);
  for (uint64_t b : buf_) w.u64(b);
  w.i64(next_);
  w.f64(spare_normal_);
  w.boolean(has_spare_);
}

void Rng::load_state(StateReader& r) {
  r.tag("RNG ");
  const uint64_t seed = r.u64(), stream = r.u64();
  if (seed != key_[0] || stream != key_[1])
    throw std::runtime_error("sampler state: random stream (seed " + std::to_string(seed) + ", stream " +
                             std::to_string(stream) + ") is not this one's (seed " +
                             std::to_string(key_[0]) + ", stream " + std::to_string(key_[1]) + ")");
  for (uint64_t& c : ctr_) c = r.u64();
  for (uint64_t& b : buf_) b = r.u64();
  const int64_t next = r.i64();
  if (next < 0 || next > 4) throw std::runtime_error("sampler state: corrupt random stream position");
  next_ = static_cast<int>(next);
  spare_normal_ = r.f64();
  has_spare_ = r.boolean();
}

double Rng::exponential() { return -std::log(uniform()); }

}  // namespace exmc
