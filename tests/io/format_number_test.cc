// format_g against the C library's own %.*g, over values that reach every branch: each decade
// from 1e-320 to 1e308, both notations and the switch between them, carries to the next power of
// ten, exact ties (printf rounds those to even), subnormals, signed zeros, integers.
#include "exmc/io/format_number.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace exmc::io {
namespace {

std::string printf_g(double v, int p) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*g", p, v);
  return b;
}

std::string ours(double v, int p) {
  char b[kMaxFormattedChars + 8];
  std::memset(b, 'X', sizeof b);
  char* e = format_g(b, v, p);
  EXPECT_LE(e - b, kMaxFormattedChars);
  return std::string(b, e);
}

// printf's spellings of nan and inf are "nan", "inf", "-inf" as well, but nan's sign varies.
void expect_same(double v, int p, int* mismatches) {
  const std::string want = std::isnan(v) ? "nan" : printf_g(v, p), got = ours(v, p);
  if (want != got && ++*mismatches <= 20)
    ADD_FAILURE() << "%." << p << "g of " << printf_g(v, 17) << ": printf " << want << ", format_g "
                  << got;
}

TEST(FormatG, EqualsPrintfOnRandomValuesAtEveryPrecision) {
  std::mt19937_64 rng(20261204);
  std::uniform_real_distribution<double> mantissa(1.0, 10.0);
  std::uniform_int_distribution<int> decade(-12, 12);
  std::normal_distribution<double> normal;
  int bad = 0;
  for (int p = 1; p <= 18; ++p) {
    for (int i = 0; i < 60000; ++i) {
      const double m = mantissa(rng) * std::pow(10.0, decade(rng));
      expect_same(i % 2 ? m : -m, p, &bad);
      expect_same(normal(rng) * 3.0, p, &bad);
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST(FormatG, EqualsPrintfOnEveryBitPatternClass) {
  // Random bit patterns: every exponent, subnormals, and the paths whose power of ten is not
  // exact in a double (left to std::to_chars).
  std::mt19937_64 rng(7);
  int bad = 0;
  for (int i = 0; i < 400000; ++i) {
    const uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    expect_same(v, 1 + i % 18, &bad);
  }
  EXPECT_EQ(bad, 0);
}

TEST(FormatG, EqualsPrintfAtDecadesCarriesAndTies) {
  int bad = 0;
  std::vector<double> values = {0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, 3.5, 0.125, 0.375, 1e-5,
                                1e-4, 9.5, 99.5, 999.5, 0.0001, 0.00001, 123456.0, 1234567.0,
                                std::numeric_limits<double>::min(), std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::denorm_min(), 4.9406564584124654e-324,
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::quiet_NaN()};
  for (int k = -320; k <= 308; ++k) {
    const double t = std::pow(10.0, k);
    for (double f : {1.0, 9.9999995, 9.99999949, 9.9999999999, 5.0, 2.5, 1.05, 1.005, 9.95, 9.995})
      values.push_back(f * t);
  }
  for (int k = 0; k < 60; ++k) values.push_back(std::ldexp(1.0, k) + 0.5);  // exact ties at p digits
  for (int n = 0; n < 5000; ++n) values.push_back(double(n) * 0.5);
  for (double v : std::vector<double>(values)) {
    values.push_back(std::nextafter(v, 0.0));
    values.push_back(std::nextafter(v, std::numeric_limits<double>::infinity()));
    values.push_back(-v);
  }
  for (int p = 1; p <= 18; ++p)
    for (double v : values) expect_same(v, p, &bad);
  EXPECT_EQ(bad, 0);
}

}  // namespace
}  // namespace exmc::io
