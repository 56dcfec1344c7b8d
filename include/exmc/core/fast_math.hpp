// exp and log1p inline, without branches or calls, within 2 ulp of the C library's on the ranges
// they state, in double and in float. For loops that evaluate them per element and per leaf: a
// libm call is a ~10-20 ns latency chain that no loop vectorises around (logistic regression's
// gradient spent about half its time in libm's log1p and exp), while these are straight-line
// arithmetic and table reads that the compiler can interleave and vectorise.
//
// exp(a) = 2^(k/T) exp(r), k = round(T a / ln 2), |r| <= ln 2 / 2T: 2^(k / T) from the exponent
// field and a table of T entries, exp(r) by a polynomial whose error is below half an ulp.
// exp_in_range has T = 64 (Taylor to r^5 in double, r^3 in float): the NUTS tree's leaf weights,
// whose bits every draw depends on. exp_in_range16 (double) has T = 16 and the minimax
// polynomial of degree 6: the link rows' (link_rows.hpp), where a 16-entry table is two vector
// registers and one permutation under AVX-512, a 64-entry one four permutations and eight loads.
// log1p(x) for x in [0, 1]: x = c + d with c = j / 16, j = round(15.484375 x) in 0..15 (the
// factor keeps j below 16: 16 table entries), d exact (c = 0 or x / 2 <= c <= 2 x), so log1p(x) =
// log1p(c) + log1p(d / (1 + c)), -0.0285 < d / (1 + c) < 0.0328, the first from a table (as a
// sum of two numbers) and the second by the minimax polynomial of degree 9. In float: c = j / 64
// (Taylor to r^4). The two minimax polynomials (bench/fit_link_rows_poly.py: relative error
// 1.2e-17 and 1.1e-17) are the Taylor series' accuracy at fewer terms (they replaced r^7 and
// r^11): the AVX2 and SSE2 builds, which read the tables one lane at a time, are bound by the
// series' length. They are summed in short chains (Estrin's scheme, the largest terms added last)
// instead of Horner's one long chain: the AVX-512 rows are bound by these chains' latency.
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
  // exp(r) - 1 = r + r^2 q(r), q of degree 4: the minimax polynomial on |r| <= ln 2 / 32 (relative
  // error 1.2e-17, a tenth of half an ulp; bench/fit_link_rows_poly.py fits it), one degree below
  // the Taylor series to r^7 that it replaced. Short chains (7 deep; Horner's would be 10), and
  // 2^(j/16) exp(r) = t + t (exp(r) - 1): one rounding at the result's scale (t (1 + ...) had
  // two, 1 + ... and the product), which leaves room for the shorter polynomial's error.
  const double r2 = r * r;
  const double q = (0x1.fffffffffffb9p-2 + r * 0x1.555555548f896p-3) +
                   r2 * ((0x1.55555558fbd6cp-5 + r * 0x1.11123aae3fd32p-7) + r2 * 0x1.6c14c77ff9075p-10);
  const double em1 = r + r2 * q;
  const uint64_t scale_bits = uint64_t(int64_t(1023) + (k >> 4)) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  const double t = detail::kTables16.exp2[k & 15];
  return (t + t * em1) * scale;
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
  // r + r^2 q(r), q of degree 7: the minimax polynomial for log1p on r in [-0.0285, 0.0329]
  // (relative error 1.1e-17; bench/fit_link_rows_poly.py), two degrees below the Taylor series to
  // r^11 that it replaced. Short chains (Estrin's scheme: pairs, then pairs of pairs; 8 deep,
  // Horner's would be 16), r added last.
  const double r2 = r * r, r4 = r2 * r2;
  const double q4 = (-0x1.fffffffffffe0p-2 + r * 0x1.55555555561a0p-2) +
                    r2 * (-0x1.0000000080c44p-2 + r * 0x1.9999996bf8422p-3);
  const double q8 = (-0x1.555544cf03bd3p-3 + r * 0x1.2493c24e62f6cp-3) +
                    r2 * (-0x1.00645e69f3fb9p-3 + r * 0x1.c01c108b58d93p-4);
  const double p = r + r2 * (q4 + r4 * q8);
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
