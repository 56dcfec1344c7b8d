// exp(a) for the tree's leaf weights, |a| < 700, within 2 ulp, inline: glibc's exp is a call and
// a ~10 ns latency chain per leapfrog on models whose gradient costs 10-40 ns.
// exp(a) = 2^(k/64) * exp(r), k = round(64 a / ln 2), |r| <= ln 2 / 128; 2^(k/64) = 2^(k >> 6) times
// a table entry 2^(j/64); exp(r) by its Taylor series to r^5 (the next term is below 4e-17).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace exmc::nuts::detail {

struct Exp2Table {
  double v[64];
  Exp2Table() {
    for (int j = 0; j < 64; ++j) v[j] = std::exp2(double(j) / 64.0);
  }
};
inline const Exp2Table kExp2Table;

inline double exp_in_range(double a) {
  constexpr double kScale = 0x1.71547652b82fep+6;  // 64 / ln 2
  // ln 2 / 64 split in two, hi with 31 significant bits so that k * hi is exact for |k| < 2^21.
  constexpr double kLn2By64Hi = 0x1.62e42fee00000p-7, kLn2By64Lo = 0x1.a39ef35793c76p-39;
  constexpr double kShifter = 0x1.8p52;  // adding it rounds to an integer (round to nearest)
  const double t = a * kScale + kShifter;
  const double kd = t - kShifter;
  int64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  const int64_t k = int32_t(uint32_t(bits));  // the integer, from the low mantissa bits
  const double r = (a - kd * kLn2By64Hi) - kd * kLn2By64Lo;
  const double p =
      1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120)))));
  // 2^(k >> 6): the exponent field of a normal double (k >> 6 is within +-1011 here).
  const uint64_t scale_bits = uint64_t(int64_t(1023) + (k >> 6)) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return kExp2Table.v[k & 63] * p * scale;
}

// exp(a) for any a: the inline one inside its range, libm's outside. What a leaf's acceptance
// probability min(1, exp(H0 - H)) is computed with, so that a reference tree can sum the same bits.
inline double leaf_exp(double a) { return std::fabs(a) < 700.0 ? exp_in_range(a) : std::exp(a); }

}  // namespace exmc::nuts::detail
