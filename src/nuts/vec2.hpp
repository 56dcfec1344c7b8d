// Two doubles in one SSE2 register (a GCC/Clang vector extension), for the sampler's dot
// products: a scalar running sum is a chain of dependent adds (4 cycles an element), and GCC
// neither vectorises an FP reduction without -ffast-math nor keeps many scalar partial sums in
// registers.
#pragma once

#include <cstddef>
#include <cstring>

namespace exmc::nuts::detail {

typedef double Vec2 __attribute__((vector_size(16)));

inline Vec2 load2(const double* p) {
  Vec2 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store2(double* p, Vec2 v) { std::memcpy(p, &v, sizeof v); }
inline double hsum(Vec2 v) { return v[0] + v[1]; }

}  // namespace exmc::nuts::detail
