// printf's %g without printf: the digits of a p-significant-digit rounding come from one
// multiplication by an exact power of ten and one rounding to an integer. That is exact unless the
// product lands so near a rounding tie that its own rounding error could move it across; those
// values, and magnitudes whose power of ten is not exact in a double, go to std::to_chars, which is
// exact always (and what printf would write) but ~3x slower.
#include "exmc/io/format_number.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace exmc::io {

namespace {

// 10^0 .. 10^22 are exact doubles.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr uint64_t kPow10Int[] = {1ull,           10ull,           100ull,           1000ull,
                                  10000ull,       100000ull,       1000000ull,       10000000ull,
                                  100000000ull,   1000000000ull,   10000000000ull,   100000000000ull,
                                  1000000000000ull, 10000000000000ull, 100000000000000ull,
                                  1000000000000000ull};
// The fast path's digits must fit the integer table and leave the product's rounding error
// (at most a half ulp of a value below 10^p) far below a half.
constexpr int kMaxFastPrecision = 15;

char* slow(char* out, double v, int precision) {
  return std::to_chars(out, out + kMaxFormattedChars, v, std::chars_format::general, precision).ptr;
}

// a * 10^k with one rounding, or false when 10^|k| is not exact.
bool scale(double a, int k, double& s) {
  if (k >= 0) {
    if (k > 22) return false;
    s = a * kPow10[k];
  } else {
    if (-k > 22) return false;
    s = a / kPow10[-k];
  }
  return true;
}

char* put_digits(char* out, const char* digits, int n) {
  std::memcpy(out, digits, size_t(n));
  return out + n;
}

}  // namespace

char* format_g(char* out, double v, int precision) {
  if (std::isnan(v)) {
    std::memcpy(out, "nan", 3);
    return out + 3;
  }
  if (std::isinf(v)) {
    if (v > 0) {
      std::memcpy(out, "inf", 3);
      return out + 3;
    }
    std::memcpy(out, "-inf", 4);
    return out + 4;
  }
  const int p = precision;
  if (p < 1 || p > kMaxFastPrecision) return slow(out, v, precision);
  if (v == 0) {
    if (std::signbit(v)) *out++ = '-';
    *out++ = '0';
    return out;
  }
  const double a = std::fabs(v);
  uint64_t bits;
  std::memcpy(&bits, &a, sizeof bits);
  const int biased = int(bits >> 52);
  if (biased == 0) return slow(out, v, precision);  // subnormal: no exact power of ten anyway
  // floor(log10 a) from the binary exponent (a in [2^e, 2^(e+1))): floor(e * log10 2) by a fixed-
  // point multiply, off by at most one; corrected below.
  const int e = biased - 1023;
  int x = (e * 78913) >> 18;
  uint64_t n = 0;
  for (int attempt = 0;; ++attempt) {
    if (attempt == 3) return slow(out, v, precision);
    double s;
    if (!scale(a, p - 1 - x, s)) return slow(out, v, precision);
    // s carries a relative error of at most 2^-53 (a and the power exact, one rounding); a
    // fraction within 2^-49 * s of a half could round either way: leave it to the exact path
    // (exact ties included: printf rounds those to even on the exact value).
    const double fl = double(uint64_t(s));  // floor: s is positive and below 2^63
    if (std::fabs(s - fl - 0.5) <= s * 0x1p-49) return slow(out, v, precision);
    const double r = s - fl > 0.5 ? fl + 1 : fl;
    if (r < double(kPow10Int[p - 1])) {  // x too large
      --x;
      continue;
    }
    n = uint64_t(r);  // below 10^(p + 1) < 2^53: x is off by at most one
    if (n > kPow10Int[p]) {  // x too small
      ++x;
      continue;
    }
    // Exactly 10^p: rounded up to the next power of ten, or x one too small with the value just
    // above it; both print 10^(p-1) one decade up.
    if (n == kPow10Int[p]) {
      n = kPow10Int[p - 1];
      ++x;
    }
    break;
  }
  // n has exactly p digits; drop its trailing zeros, as %g does.
  char digits[24];
  int nd = p;
  for (int i = p - 1; i >= 0; --i) {
    digits[i] = char('0' + n % 10);
    n /= 10;
  }
  while (nd > 1 && digits[nd - 1] == '0') --nd;

  if (v < 0) *out++ = '-';
  if (x < -4 || x >= p) {
    *out++ = digits[0];
    if (nd > 1) {
      *out++ = '.';
      out = put_digits(out, digits + 1, nd - 1);
    }
    *out++ = 'e';
    int ex = x;
    if (ex < 0) {
      *out++ = '-';
      ex = -ex;
    } else {
      *out++ = '+';
    }
    if (ex >= 100) {
      *out++ = char('0' + ex / 100);
      ex %= 100;
      *out++ = char('0' + ex / 10);
    } else {
      *out++ = char('0' + ex / 10);
    }
    *out++ = char('0' + ex % 10);
    return out;
  }
  if (x >= 0) {
    const int int_digits = x + 1;
    if (nd <= int_digits) {
      out = put_digits(out, digits, nd);
      for (int i = nd; i < int_digits; ++i) *out++ = '0';
      return out;
    }
    out = put_digits(out, digits, int_digits);
    *out++ = '.';
    return put_digits(out, digits + int_digits, nd - int_digits);
  }
  *out++ = '0';
  *out++ = '.';
  for (int i = 0; i < -x - 1; ++i) *out++ = '0';
  return put_digits(out, digits, nd);
}

}  // namespace exmc::io
