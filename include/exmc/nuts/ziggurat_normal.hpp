// Fast standard normal draws (256-layer ziggurat) for momentum resampling.
#pragma once

#include <cmath>
#include <cstdint>

#include "exmc/core/rng.hpp"

namespace exmc::nuts {

namespace detail {
struct ZigguratTables {
  double x[257];      // layer edges, x[1] = R
  double ratio[256];  // x[i+1] / x[i]: the part of layer i inside the curve for sure
  ZigguratTables();
};
const ZigguratTables& ziggurat_tables();
double ziggurat_slow(Rng& rng, int layer, double u);
}  // namespace detail

// One u64 per draw ~99% of the time; the rest falls to the exact edge/tail test, so the
// distribution is exactly normal up to the 53-bit uniform.
inline double ziggurat_normal(Rng& rng) {
  const detail::ZigguratTables& t = detail::ziggurat_tables();
  const uint64_t r = rng.next_u64();
  const int layer = static_cast<int>(r & 0xff);
  // Top 53 bits -> u in (-1, 1), disjoint from the layer bits.
  const double u = ((static_cast<double>(r >> 11) + 0.5) * 0x1.0p-53) * 2.0 - 1.0;
  if (std::fabs(u) < t.ratio[layer]) return u * t.x[layer];
  return detail::ziggurat_slow(rng, layer, u);
}

}  // namespace exmc::nuts
