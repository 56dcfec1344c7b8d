// exp and log1p inline, without branches or calls, within 2 ulp of the C library's on the ranges
// they state, in double and in float. For loops that evaluate them per element and per leaf: a
// libm call is a ~10-20 ns latency chain that no loop vectorises around (logistic regression's
// gradient spent about half its time in libm's log1p and exp), while these are straight-line
// arithmetic and table reads that the compiler can interleave and vectorise.
//
// exp(a) = 2^(k/T) exp(r), k = round(T a / ln 2), |r| <= ln 2 / 2T: 2^(k / T) from the exponent
// field and a table of T entries, exp(r) by its Taylor series to the term below half an ulp.
// exp_in_range has T = 64 (to r^5 in double, r^3 in float): the NUTS tree's leaf weights, whose
// bits every draw depends on. exp_in_range16 (double) has T = 16 and goes to r^7: the link rows'
// (link_rows.hpp), where a 16-entry table is two vector registers and one permutation under
// AVX-512, a 64-entry one four permutations and eight loads.
// log1p(x) for x in [0, 1]: x = c + d with c = j / 16, j = round(15.484375 x) in 0..15 (the
// factor keeps j below 16: 16 table entries), d exact (c = 0 or x / 2 <= c <= 2 x), so log1p(x) =
// log1p(c) + log1p(d / (1 + c)), |d / (1 + c)| <= 0.0328, the first from a table (as a sum of two
// numbers) and the second by its Taylor series (to r^11). In float: c = j / 64 (to r^4).
// exp_in_range16's and the double log1p's series are summed in short chains (Estrin's scheme,
// the largest terms added last) instead of Horner's one long chain: the link rows are bound by
// these chains' latency more than by their operation count.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace exmc::fast {

namespace detail {

// Tables in T, filled once from libm (in long double for the log1p table, which is kept as a
// sum of two T). 128 log entries so that any index masked to 7 bits is in range (a NaN's
// payload decides the index; the result is NaN either way).
template <class T> struct Tables {
  T exp2[64];
  T log1p_hi[128], log1p_lo[128];  // log1p(j / 64) = hi + lo to twice T's precision
  T inv[128];
  Tables() {
    for (int j = 0; j < 64; ++j) exp2[j] = T(std::exp2(double(j) / 64.0));
    for (int j = 0; j < 128; ++j) {
      const long double v = std::log1p((long double)j / 64);
      log1p_hi[j] = T(v);
      log1p_lo[j] = T(v - (long double)log1p_hi[j]);
      inv[j] = T(1.0 / (1.0 + double(j) / 64.0));
    }
  }
};
template <class T> inline const Tables<T> kTables;

// The double tables of exp_in_range16 and log1p_unit: 16 entries each (c = j / 16).
struct Tables16 {
  double exp2[16];
  double log1p_hi[16], log1p_lo[16];  // log1p(j / 16) = hi + lo to twice double's precision
  double inv[16];
  Tables16() {
    for (int j = 0; j < 16; ++j) {
      exp2[j] = std::exp2(double(j) / 16.0);
      const long double v = std::log1p((long double)j / 16);
      log1p_hi[j] = double(v);
      log1p_lo[j] = double(v - (long double)log1p_hi[j]);
      inv[j] = 1.0 / (1.0 + double(j) / 16.0);
    }
  }
};
inline const Tables16 kTables16;

// round(v) for |v| < 2^22 (float) / 2^51 (double), as the integer and as T: adding 1.5 * 2^p
// rounds to nearest and leaves the integer in the low bits of the sum.
inline double round_shift(double v, int64_t& k) {
  constexpr double kShifter = 0x1.8p52;
  const double t = v + kShifter;
  int64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  k = int32_t(uint32_t(bits));
  return t - kShifter;
}
inline float round_shift(float v, int32_t& k) {
  constexpr float kShifter = 0x1.8p23f;
  const float t = v + kShifter;
  int32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  k = bits - 0x4B400000;  // the bits of kShifter
  return t - kShifter;
}

}  // namespace detail

// exp(a) for |a| < 700.
[[gnu::always_inline]] inline double exp_in_range(double a) {
  constexpr double kScale = 0x1.71547652b82fep+6;  // 64 / ln 2
  // ln 2 / 64 split in two, hi with 31 significant bits so that k * hi is exact for |k| < 2^21.
  constexpr double kLn2By64Hi = 0x1.62e42fee00000p-7, kLn2By64Lo = 0x1.a39ef35793c76p-39;
  int64_t k;
  const double kd = detail::round_shift(a * kScale, k);
  const double r = (a - kd * kLn2By64Hi) - kd * kLn2By64Lo;
  const double p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120)))));
  // 2^(k >> 6): the exponent field of a normal double (k >> 6 is within +-1011 here).
  const uint64_t scale_bits = uint64_t(int64_t(1023) + (k >> 6)) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return detail::kTables<double>.exp2[k & 63] * p * scale;
}

// exp(a) for |a| < 700, with T = 16 (above): not the bits of exp_in_range.
[[gnu::always_inline]] inline double exp_in_range16(double a) {
  constexpr double kScale = 0x1.71547652b82fep+4;  // 16 / ln 2
  // ln 2 / 16 split in two, hi with 32 significant bits so that k * hi is exact for |k| < 2^21.
  constexpr double kLn2By16Hi = 0x1.62e42fee00000p-5, kLn2By16Lo = 0x1.a39ef35793c76p-37;
  int64_t k;
  const double kd = detail::round_shift(a * kScale, k);
  const double r = (a - kd * kLn2By16Hi) - kd * kLn2By16Lo;
  // 1 + r + r^2/2 + ... + r^7/5040 as short chains (the terms after r in two halves, each a
  // pair of pairs) rather than one Horner chain of 14 dependent operations: 9 deep. The small
  // part is summed first and added to 1 last, so the one rounding at 1's scale is the last.
  const double r2 = r * r;
  const double hi4 = (1.0 / 24 + r * (1.0 / 120)) + r2 * (1.0 / 720 + r * (1.0 / 5040));
  const double p = 1.0 + (r + r2 * ((0.5 + r * (1.0 / 6)) + r2 * hi4));
  const uint64_t scale_bits = uint64_t(int64_t(1023) + (k >> 4)) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return detail::kTables16.exp2[k & 15] * p * scale;
}

// exp(a) for |a| < 87 (the float result stays normal).
[[gnu::always_inline]] inline float exp_in_range(float a) {
  constexpr float kScale = 0x1.715476p+6f;
  // ln 2 / 64 split in two, hi with 9 significant bits so that k * hi is exact for |k| < 2^15.
  constexpr float kLn2By64Hi = 0x1.63p-7f, kLn2By64Lo = -0x1.bd0106p-19f;
  int32_t k;
  const float kd = detail::round_shift(a * kScale, k);
  const float r = (a - kd * kLn2By64Hi) - kd * kLn2By64Lo;
  const float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6)));
  const uint32_t scale_bits = uint32_t(127 + (k >> 6)) << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return detail::kTables<float>.exp2[k & 63] * p * scale;
}

// exp(a) for a <= 0: exactly 0 below -700 (double) / -87 (float), where the true value is under
// 1e-304 / 2e-38; NaN stays NaN. (A multiply by the range test, not a choice between two results:
// the compiler would move the exp into one branch of the choice and then not vectorise it.)
// The double one is exp_in_range16's, the float one exp_in_range's.
template <class T> [[gnu::always_inline]] inline T exp_nonpositive(T a) {
  constexpr T kLow = sizeof(T) == sizeof(double) ? T(-700) : T(-87);
  const T b = a < kLow ? kLow : a;
  if constexpr (sizeof(T) == sizeof(double)) return exp_in_range16(b) * T(!(a < kLow));
  else return exp_in_range(b) * T(!(a < kLow));
}

// log1p(x) for x in [0, 1].
[[gnu::always_inline]] inline double log1p_unit(double x) {
  int64_t j;
  const double c = detail::round_shift(x * 15.484375, j) * (1.0 / 16);
  j &= 15;
  const double r = (x - c) * detail::kTables16.inv[j];
  // r - r^2/2 + ... + r^11/11 as short chains (Estrin's scheme: pairs, then pairs of pairs)
  // rather than one Horner chain of 21 dependent operations: 10 deep, r added last.
  const double r2 = r * r, r4 = r2 * r2;
  const double t4 = (-0.25 + r * 0.2) + r2 * (-1.0 / 6 + r * (1.0 / 7));
  const double t8 = (-0.125 + r * (1.0 / 9)) + r2 * (-0.1 + r * (1.0 / 11));
  const double p = r + r2 * ((-0.5 + r * (1.0 / 3)) + r2 * (t4 + r4 * t8));
  return detail::kTables16.log1p_hi[j] + (detail::kTables16.log1p_lo[j] + p);
}

[[gnu::always_inline]] inline float log1p_unit(float x) {
  int32_t j;
  const float c = detail::round_shift(x * 64.0f, j) * (1.0f / 64);
  j &= 127;
  const float r = (x - c) * detail::kTables<float>.inv[j];
  const float p = r * (1.0f + r * (-0.5f + r * (1.0f / 3 + r * -0.25f)));
  return detail::kTables<float>.log1p_hi[j] + (detail::kTables<float>.log1p_lo[j] + p);
}

}  // namespace exmc::fast
