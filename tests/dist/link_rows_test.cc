// The link rows (exmc/dist/link_rows.hpp): the AVX2 and AVX-512 builds give the baseline build's
// bits, and all agree with the formula evaluated with libm.
#include "exmc/dist/link_rows.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "exmc/core/rng.hpp"

namespace exmc::dist::detail {
namespace {

template <class T> struct Rows {
  std::vector<T> eta, y, term, w;
  explicit Rows(size_t n) : eta(n), y(n), term(n), w(n) {}
};

// Linear predictors over the whole range the kernel meets: typical, large (exp underflows below
// -700 / -87), tiny, exact zeros and both signs; every block length 1..n (vector tails).
template <class T> Rows<T> inputs(size_t n, uint64_t seed) {
  Rows<T> r(n);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> typical(0.0, 3.0);
  std::uniform_real_distribution<double> wide(-900.0, 900.0);
  for (size_t i = 0; i < n; ++i) {
    const int kind = int(i % 5);
    double e = kind == 0 ? wide(rng) : kind == 1 ? typical(rng) * 1e-9 : kind == 2 ? 0.0 : typical(rng);
    r.eta[i] = T(i % 7 == 3 ? -e : e);
    r.y[i] = T(rng() & 1);
  }
  return r;
}

template <class T> void expect_same_bits_across_builds() {
  if (!cpu_has_avx2()) GTEST_SKIP() << "this CPU has no AVX2: there is one build to run";
  auto a = inputs<T>(1000, 3), b = a;
  for (size_t n : {size_t(1), size_t(3), size_t(7), size_t(17), size_t(256), size_t(1000)}) {
    bernoulli_logit_rows(a.eta.data(), a.y.data(), a.term.data(), a.w.data(), n, RowsIsa::kBaseline);
    bernoulli_logit_rows(b.eta.data(), b.y.data(), b.term.data(), b.w.data(), n, RowsIsa::kAvx2);
    EXPECT_EQ(std::memcmp(a.term.data(), b.term.data(), n * sizeof(T)), 0) << n;
    EXPECT_EQ(std::memcmp(a.w.data(), b.w.data(), n * sizeof(T)), 0) << n;
    if (!cpu_has_avx512()) continue;
    bernoulli_logit_rows(b.eta.data(), b.y.data(), b.term.data(), b.w.data(), n, RowsIsa::kAvx512);
    EXPECT_EQ(std::memcmp(a.term.data(), b.term.data(), n * sizeof(T)), 0) << "avx512 " << n;
    EXPECT_EQ(std::memcmp(a.w.data(), b.w.data(), n * sizeof(T)), 0) << "avx512 " << n;
  }
}
TEST(BernoulliLogitRows, Avx2AndAvx512GiveTheBaselineBitsInDouble) { expect_same_bits_across_builds<double>(); }
TEST(BernoulliLogitRows, Avx2AndAvx512GiveTheBaselineBitsInFloat) { expect_same_bits_across_builds<float>(); }

// term = y eta - log1p(exp(eta)) and w = y - inv_logit(eta), from libm in long double (the term as
// (y eta - max(eta, 0)) - log1p(exp(-|eta|)), exact where y eta and the softplus cancel).
template <class T> void expect_close_to_libm(RowsIsa isa, double rel) {
  auto r = inputs<T>(5000, 4);
  bernoulli_logit_rows(r.eta.data(), r.y.data(), r.term.data(), r.w.data(), r.eta.size(), isa);
  for (size_t i = 0; i < r.eta.size(); ++i) {
    const long double e = r.eta[i], y = r.y[i];
    const long double ea = std::exp(-std::fabs(e));
    const long double p = e > 0 ? 1 / (1 + ea) : ea / (1 + ea);
    const double term = double((y * e - (e > 0 ? e : 0)) - std::log1p(ea)), w = double(y - p);
    // exp(-|eta|) is 0 below -700 (double) / -87 (float): terms under e^-700 / e^-87 are lost.
    const double lost = sizeof(T) == sizeof(double) ? 1e-304 : 2e-38;
    EXPECT_NEAR(r.term[i], term, rel * std::fabs(term) + lost) << i << " eta " << r.eta[i];
    // w = y - p loses p's relative precision where p ~ y; compare on the scale of p's terms.
    EXPECT_NEAR(r.w[i], w, rel * (std::fabs(w) + double(p)) + lost) << i << " eta " << r.eta[i];
  }
}
TEST(BernoulliLogitRows, MatchesLibmInDouble) {
  expect_close_to_libm<double>(RowsIsa::kBaseline, 1e-15);
  if (cpu_has_avx2()) expect_close_to_libm<double>(RowsIsa::kAvx2, 1e-15);
  if (cpu_has_avx512()) expect_close_to_libm<double>(RowsIsa::kAvx512, 1e-15);
}
TEST(BernoulliLogitRows, MatchesLibmInFloat) {
  expect_close_to_libm<float>(RowsIsa::kBaseline, 1e-6);
  if (cpu_has_avx2()) expect_close_to_libm<float>(RowsIsa::kAvx2, 1e-6);
  if (cpu_has_avx512()) expect_close_to_libm<float>(RowsIsa::kAvx512, 1e-6);
}

// The AVX2 build of the block exp gives the baseline build's bits (a draw may not depend on the
// CPU), and both are within 2 ulp of libm's exp.
template <class T> void expect_exp_rows_agree() {
  Rng rng(5, 0);
  std::vector<T> x(1000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = T(i % 3 == 0 ? rng.uniform(-699, 699) : i % 3 == 1 ? rng.uniform(-5, 5) : rng.uniform(-1e-8, 1e-8));
  std::vector<double> a(x.size()), b(x.size());
  for (size_t n : {size_t(1), size_t(3), size_t(7), size_t(17), size_t(256), size_t(1000)}) {
    exp_rows(x.data(), a.data(), n, RowsIsa::kBaseline);
    for (size_t i = 0; i < n; ++i) {
      const double want = std::exp(double(x[i]));
      EXPECT_LE(std::fabs(a[i] - want), 2 * std::ldexp(1.0, std::ilogb(want) - 52)) << x[i];
    }
    if (!cpu_has_avx2()) continue;
    exp_rows(x.data(), b.data(), n, RowsIsa::kAvx2);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), n * sizeof(double)), 0) << n;
    if (!cpu_has_avx512()) continue;
    exp_rows(x.data(), b.data(), n, RowsIsa::kAvx512);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), n * sizeof(double)), 0) << "avx512 " << n;
  }
  if (!cpu_has_avx2()) GTEST_SKIP() << "this CPU has no AVX2: one build to run (libm agreement checked)";
}
TEST(ExpRows, Avx2AndAvx512GiveTheBaselineBitsWithin2UlpOfLibmFromDouble) { expect_exp_rows_agree<double>(); }
TEST(ExpRows, Avx2AndAvx512GiveTheBaselineBitsWithin2UlpOfLibmFromFloat) { expect_exp_rows_agree<float>(); }


// logit_rows: the AVX2 build's bits are the baseline's; l = log1p(e^-|eta|) and p = inv_logit(eta)
// agree with libm in long double.
template <class T> void expect_logit_rows_agree() {
  auto r = inputs<T>(1000, 6);
  std::vector<double> l(1000), p(1000), l2(1000), p2(1000);
  logit_rows(r.eta.data(), l.data(), p.data(), 1000, RowsIsa::kBaseline);
  for (size_t i = 0; i < 1000; ++i) {
    const long double e = r.eta[i], ea = std::exp(-std::fabs(e));
    EXPECT_NEAR(l[i], double(std::log1p(ea)), 4e-16 * double(std::log1p(ea)) + 1e-304) << r.eta[i];
    const long double want = e >= 0 ? 1 / (1 + ea) : ea / (1 + ea);
    EXPECT_NEAR(p[i], double(want), 4e-16 * double(want) + 1e-304) << r.eta[i];
  }
  if (!cpu_has_avx2()) GTEST_SKIP() << "this CPU has no AVX2: one build to run (libm agreement checked)";
  logit_rows(r.eta.data(), l2.data(), p2.data(), 1000, RowsIsa::kAvx2);
  EXPECT_EQ(std::memcmp(l.data(), l2.data(), 1000 * sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(p.data(), p2.data(), 1000 * sizeof(double)), 0);
  if (!cpu_has_avx512()) return;
  logit_rows(r.eta.data(), l2.data(), p2.data(), 1000, RowsIsa::kAvx512);
  EXPECT_EQ(std::memcmp(l.data(), l2.data(), 1000 * sizeof(double)), 0) << "avx512";
  EXPECT_EQ(std::memcmp(p.data(), p2.data(), 1000 * sizeof(double)), 0) << "avx512";
}
TEST(LogitRows, Avx2AndAvx512GiveTheBaselineBitsAndAgreesWithLibmFromDouble) { expect_logit_rows_agree<double>(); }
TEST(LogitRows, Avx2AndAvx512GiveTheBaselineBitsAndAgreesWithLibmFromFloat) { expect_logit_rows_agree<float>(); }

// The validity checks against a scalar statement of the rule, on both builds, for each position
// of the one bad value in a block (vector bodies and tails) and for edge values.
std::vector<RowsIsa> isas() {
  std::vector<RowsIsa> v = {RowsIsa::kBaseline};
  if (cpu_has_avx2()) v.push_back(RowsIsa::kAvx2);
  if (cpu_has_avx512()) v.push_back(RowsIsa::kAvx512);
  return v;
}

bool is_count(double v) { return v >= 0 && std::isfinite(v) && v == std::trunc(v); }

TEST(AllCounts, AgreesWithTruncOnEdgeValuesAtEveryPosition) {
  const double nan = std::nan(""), inf = INFINITY;
  const std::vector<double> values = {0.0, -0.0, 1, 7, 0x1p52 - 1, 0x1p52, 0x1p53 + 2, 1e300, 0x1.fffffffffffffp1023,
                                      -1, 0.5, 1.5, 0x1p51 + 0.5, 0x1p52 - 0.5, -0x1p60, nan, -nan, inf, -inf,
                                      4.9e-324, 2.5e-310};
  for (RowsIsa isa : isas())
    for (double v : values)
      for (size_t n : {1u, 2u, 5u, 8u, 13u})
        for (size_t at = 0; at < n; ++at) {
          std::vector<double> y(n, 3.0);
          y[at] = v;
          std::vector<float> yf(y.begin(), y.end());
          EXPECT_EQ(all_counts(y.data(), n, isa), is_count(v)) << v << " at " << at << " of " << n;
          EXPECT_EQ(all_counts(yf.data(), n, isa), is_count(double(yf[at]))) << v << " (float) at " << at;
        }
}

TEST(AllInExpRange, IsTheOpenInterval700AtEveryPosition) {
  const double nan = std::nan("");
  for (RowsIsa isa : isas())
    for (double v : {0.0, -699.999, 699.999, 700.0, -700.0, 701.0, nan, double(INFINITY), -1e308})
      for (size_t n : {1u, 3u, 8u, 11u})
        for (size_t at = 0; at < n; ++at) {
          std::vector<double> x(n, 1.0);
          x[at] = v;
          EXPECT_EQ(all_in_exp_range(x.data(), n, isa), v > -700 && v < 700) << v << " at " << at << " of " << n;
        }
  EXPECT_TRUE(all_in_exp_range(static_cast<const double*>(nullptr), 0));
  EXPECT_TRUE(all_counts(static_cast<const double*>(nullptr), 0));
}

TEST(AllBinaryAndAllFinite, AgreeWithTheirScalarRulesAtEveryPosition) {
  const double nan = std::nan(""), inf = INFINITY;
  for (RowsIsa isa : isas())
    for (double v : {0.0, -0.0, 1.0, 2.0, -1.0, 0.5, 1e-300, 1.0 + 1e-16, 1e308, -1e308, 0x1.fffffffffffffp1023, nan,
                     inf, -inf})
      for (size_t n : {1u, 3u, 8u, 11u})
        for (size_t at = 0; at < n; ++at) {
          std::vector<double> x(n, 1.0);
          x[at] = v;
          std::vector<float> xf(x.begin(), x.end());
          EXPECT_EQ(all_binary(x.data(), n, isa), v == 0 || v == 1) << v << " at " << at << " of " << n;
          EXPECT_EQ(all_finite(x.data(), n, isa), std::isfinite(v)) << v << " at " << at << " of " << n;
          EXPECT_EQ(all_finite(xf.data(), n, isa), std::isfinite(xf[at])) << v << " (float) at " << at;
          EXPECT_EQ(all_binary(xf.data(), n, isa), xf[at] == 0 || xf[at] == 1) << v << " (float) at " << at;
        }
}

}  // namespace
}  // namespace exmc::dist::detail
