// The inline exp and log1p against the C library's, over the ranges they are used on, in double
// and float (float against libm's double result rounded to float).
#include "exmc/core/fast_math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <random>

namespace exmc::fast {
namespace {

template <class T> double ulps(T got, T want) {
  if (got == want) return 0;
  return std::fabs(double(got) - double(want)) /
         (double(std::nextafter(want, std::numeric_limits<T>::infinity())) - double(want));
}
float want_f(double v) { return float(v); }

// Over (-limit, limit), half the points uniform and half within +-5, plus the named ones; the
// reference is libm's double exp rounded to T.
template <class T, class Exp>
void expect_exp_within_two_ulp(T limit, std::initializer_list<T> named, uint64_t seed, Exp exp_fn) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<T> wide(-limit, limit), near(T(-5), T(5));
  double worst = 0;
  auto check = [&](T a) { worst = std::max(worst, ulps(exp_fn(a), T(std::exp(double(a))))); };
  for (int i = 0; i < 2000000; ++i) check(i % 2 ? wide(rng) : near(rng));
  for (T a : named) check(a);
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(exp_fn(T(0)), T(1));
}
template <class T> void expect_exp_within_two_ulp(T limit, std::initializer_list<T> named, uint64_t seed) {
  expect_exp_within_two_ulp(limit, named, seed, [](T a) { return exp_in_range(a); });
}

// Against the long double result: ulps of the double nearest to it.
double ulps_true(double got, long double want) {
  const double w = double(want);
  if (got == w) return 0;
  const double u = std::nextafter(std::fabs(w), std::numeric_limits<double>::infinity()) - std::fabs(w);
  return double(std::fabs((long double)got - want) / u);
}

TEST(FastExp, WithinTwoUlpOfLibmOverTheRangeInDouble) {
  expect_exp_within_two_ulp<double>(700.0, {0.0, -0.0, 1e-300, -1e-300, 699.999, -699.999, 1.0, -1.0, 0.5 * std::log(2.0)},
                                    11);
}

// exp_in_range16 (16-entry table, minimax polynomial of degree 6; the link rows' exp) over the
// same range and points, every table node's neighbourhood (a = k ln 2 / 16 and half-way between
// nodes, where |r| is largest), and against long double (measured worst 1.12 ulp; the Taylor
// series to r^7 with t * (1 + ...) 1.94-1.96, the 64-entry exp_in_range 2.13).
TEST(FastExp, SixteenEntryTableWithinTwoUlpOfLibmAndOfTheTrueValue) {
  expect_exp_within_two_ulp<double>(700.0, {0.0, -0.0, 1e-300, -1e-300, 699.999, -699.999, 1.0, -1.0, 0.5 * std::log(2.0)},
                                    11, [](double a) { return exp_in_range16(a); });
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> wide(-700.0, 700.0);
  double worst = 0;
  for (int i = 0; i < 1000000; ++i) {
    const double a = wide(rng);
    worst = std::max(worst, ulps_true(exp_in_range16(a), std::exp((long double)a)));
  }
  for (int k = -16 * 1000; k <= 16 * 1000; k += 7)
    for (double h : {0.0, 0.5, -0.5}) {
      const double a = (k + h) * (std::log(2.0) / 16);
      if (std::fabs(a) >= 700) continue;
      worst = std::max(worst, ulps_true(exp_in_range16(a), std::exp((long double)a)));
    }
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(exp_nonpositive(-700.5), 0.0);
  EXPECT_EQ(exp_nonpositive(-3.0), exp_in_range16(-3.0));  // the double one is exp_in_range16's
}

// exp_in_range16 = (t + t (exp(r) - 1)) 2^m: t = 2^(j/16) rounded (under half an ulp of t, so
// at most half an ulp of the result, which is in t's binade or the next), the last addition
// (half an ulp), and the rest (t (exp(r) - 1)'s rounding, the polynomial's 1.2e-17 relative
// error, r's) under a tenth: within 1.25 ulp of the true value (measured 1.12). The Taylor
// series with t * (1 + ...), two roundings at the result's scale, reached 1.93 here.
TEST(FastExp, SixteenEntryTableWithinOneAndAQuarterUlpOfTheTrueValue) {
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> wide(-700.0, 700.0), near(-1.0, 1.0);
  double worst = 0;
  auto check = [&](double a) { worst = std::max(worst, ulps_true(exp_in_range16(a), std::exp((long double)a))); };
  for (int i = 0; i < 2000000; ++i) check(i % 2 ? wide(rng) : near(rng));
  for (int k = -16 * 1000; k <= 16 * 1000; ++k)
    for (double h : {0.0, 0.25, -0.25, 0.5, -0.5}) {
      const double a = (k + h) * (std::log(2.0) / 16);
      if (std::fabs(a) < 700) check(a);
    }
  EXPECT_LE(worst, 1.25);
}

TEST(FastExp, WithinTwoUlpOfLibmOverTheRangeInFloat) {
  expect_exp_within_two_ulp<float>(86.9f, {0.0f, -0.0f, 1e-30f, -1e-30f, 86.99f, -86.99f, 1.0f, -1.0f}, 12);
}

TEST(FastExp, NonpositiveIsZeroBelowItsRangeAndKeepsNaN) {
  EXPECT_EQ(exp_nonpositive(-700.5), 0.0);
  EXPECT_EQ(exp_nonpositive(-std::numeric_limits<double>::infinity()), 0.0);
  EXPECT_EQ(exp_nonpositive(-87.5f), 0.0f);
  EXPECT_LE(ulps(exp_nonpositive(-699.5), std::exp(-699.5)), 2.0);
  EXPECT_LE(ulps(exp_nonpositive(-86.5f), want_f(std::exp(-86.5))), 2.0);
  EXPECT_TRUE(std::isnan(exp_nonpositive(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_TRUE(std::isnan(exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}

TEST(FastLog1p, WithinTwoUlpOfLibmOnTheUnitInterval) {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> unit(0.0, 1.0), tiny_exponent(-300.0, 0.0);
  double worst = 0, worst_f = 0;
  for (int i = 0; i < 2000000; ++i) {
    // Half uniform, half spread over magnitudes down to 1e-300 (where log1p(x) ~ x).
    const double x = i % 2 ? unit(rng) : std::pow(10.0, tiny_exponent(rng));
    worst = std::max(worst, ulps(log1p_unit(x), std::log1p(x)));
    const float xf = float(x);
    worst_f = std::max(worst_f, ulps(log1p_unit(xf), want_f(std::log1p(double(xf)))));
  }
  // Every table node (j / 16 in double, j / 64 in float), a hair either side of it, the points
  // where j = round(15.484375 x) steps (the ends of each node's interval, |r| largest), and the
  // ends.
  for (int j = 0; j <= 16; ++j)
    for (double h : {j / 16.0, (j - 0.5) / 15.484375, (j + 0.5) / 15.484375})
      for (double x : {h, std::nextafter(h, 0.0), std::nextafter(h, 2.0)}) {
        if (x < 0 || x > 1) continue;
        worst = std::max(worst, ulps(log1p_unit(x), std::log1p(x)));
      }
  for (int j = 0; j <= 64; ++j) {
    const double c = j / 64.0;
    for (double x : {c, std::nextafter(c, 0.0), std::nextafter(c, 2.0), c + 1.0 / 128, c - 1.0 / 128}) {
      if (x < 0 || x > 1) continue;
      worst = std::max(worst, ulps(log1p_unit(x), std::log1p(x)));
      worst_f = std::max(worst_f, ulps(log1p_unit(float(x)), want_f(std::log1p(double(float(x))))));
    }
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_LE(worst_f, 2.0);
  EXPECT_EQ(log1p_unit(0.0), 0.0);
  EXPECT_EQ(log1p_unit(1.0), std::log1p(1.0));
  EXPECT_EQ(log1p_unit(0.0f), 0.0f);
  EXPECT_EQ(log1p_unit(5e-324), 5e-324);  // subnormal: log1p(x) = x
  EXPECT_TRUE(std::isnan(log1p_unit(std::numeric_limits<double>::quiet_NaN())));
}

// Against long double over [0, 1] and at the interval ends: the double log1p (16-entry table,
// minimax polynomial of degree 9) is within 1.5 ulp of the true value (measured worst 1.21; the
// Taylor series to r^11 1.18, the 64-entry one before it 1.71).
TEST(FastLog1p, DoubleWithinOneAndAHalfUlpOfTheTrueValue) {
  std::mt19937_64 rng(19);
  std::uniform_real_distribution<double> unit(0.0, 1.0), tiny_exponent(-300.0, 0.0);
  double worst = 0;
  auto check = [&](double x) { worst = std::max(worst, ulps_true(log1p_unit(x), std::log1p((long double)x))); };
  for (int i = 0; i < 2000000; ++i) check(i % 2 ? unit(rng) : std::pow(10.0, tiny_exponent(rng)));
  for (int j = 0; j <= 16; ++j)
    for (double h : {j / 16.0, (j - 0.5) / 15.484375, (j + 0.5) / 15.484375})
      for (double x : {h, std::nextafter(h, 0.0), std::nextafter(h, 2.0)})
        if (x >= 0 && x <= 1) check(x);
  EXPECT_LE(worst, 1.5);
}

}  // namespace
}  // namespace exmc::fast
