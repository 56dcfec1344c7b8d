// The count families' normalising terms from the log-factorial table (univariate.hpp), binomial's
// memoised logs of theta, and bernoulli_logit's staged rows (link_rows.cc): each against a scalar
// statement of the same density (lgamma from Boost, as before the table), at every position of
// blocks of 1..13 elements, with edge counts; invalid inputs still give -inf; the staged rows give
// the same bits whatever the block length, position or build.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../../src/dist/univariate.hpp"
#include "exmc/core/math.hpp"
#include "exmc/dist/kernel.hpp"
#include "exmc/dist/link_rows.hpp"

namespace exmc::dist {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
double lg(double x) { return exmc::math::lgamma(x); }

TEST(LogFactorial, TableEntriesHaveLgammasBitsAndOtherValuesGoToLgamma) {
  for (size_t k = 0; k < detail::kLogFactorialSize; ++k) {
    const double a = detail::log_factorial(double(k)), b = lg(double(k) + 1);
    ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << k;
  }
  for (double k : {4096.0, 4097.0, 1e6, 0x1p52, 0x1p60, 2.5, 0.5, 4095.5, -0.5})
    EXPECT_EQ(detail::log_factorial(k), lg(k + 1)) << k;
  EXPECT_EQ(detail::log_factorial(-0.0), 0.0);
  EXPECT_TRUE(std::isnan(detail::log_factorial(std::nan(""))));
}

// One family's arguments for a block of n elements: the count at `at` is `edge`, the others
// typical; parameters (as in a model) get partials.
struct Family {
  const char* name;
  // Element i's argument values (variate first) given its count.
  std::function<std::vector<double>(double count, size_t i)> args;
  std::vector<bool> param;
  // log p of one element, closed form with Boost's lgamma, not propto.
  std::function<double(const std::vector<double>&)> ref;
};

std::vector<Family> families() {
  auto eta = [](size_t i) { return -1.0 + 0.37 * double(i % 7); };
  return {
      {"poisson", [=](double c, size_t i) { return std::vector<double>{c, std::exp(eta(i)) * 3}; }, {false, true},
       [](const std::vector<double>& x) { return x[0] * std::log(x[1]) - x[1] - lg(x[0] + 1); }},
      {"poisson_log", [=](double c, size_t i) { return std::vector<double>{c, eta(i) + 1}; }, {false, true},
       [](const std::vector<double>& x) { return x[0] * x[1] - std::exp(x[1]) - lg(x[0] + 1); }},
      {"binomial", [=](double c, size_t) { return std::vector<double>{c, c + 7, 0.3}; }, {false, false, true},
       [](const std::vector<double>& x) {
         const double k = x[0], N = x[1], th = x[2];
         return lg(N + 1) - lg(k + 1) - lg(N - k + 1) + k * std::log(th) + (N - k) * std::log1p(-th);
       }},
      {"binomial_logit", [=](double c, size_t i) { return std::vector<double>{c, c + 3 * double(i % 2), eta(i)}; },
       {false, false, true},
       [](const std::vector<double>& x) {
         const double k = x[0], N = x[1], a = x[2], th = 1 / (1 + std::exp(-a));
         return lg(N + 1) - lg(k + 1) - lg(N - k + 1) + k * std::log(th) + (N - k) * std::log1p(-th);
       }},
      {"neg_binomial_2", [=](double c, size_t i) { return std::vector<double>{c, std::exp(eta(i)) * 5, 2.5}; },
       {false, true, true},
       [](const std::vector<double>& x) {
         const double k = x[0], mu = x[1], phi = x[2];
         return lg(k + phi) - lg(k + 1) - lg(phi) + k * std::log(mu / (mu + phi)) + phi * std::log(phi / (mu + phi));
       }},
      {"neg_binomial_2_log", [=](double c, size_t i) { return std::vector<double>{c, eta(i) + 1, 2.5}; },
       {false, true, true},
       [](const std::vector<double>& x) {
         const double k = x[0], mu = std::exp(x[1]), phi = x[2];
         return lg(k + phi) - lg(k + 1) - lg(phi) + k * std::log(mu / (mu + phi)) + phi * std::log(phi / (mu + phi));
       }},
      {"neg_binomial", [=](double c, size_t) { return std::vector<double>{c, 2.5, 0.4}; }, {false, true, true},
       [](const std::vector<double>& x) {
         const double k = x[0], a = x[1], b = x[2];
         return lg(k + a) - lg(k + 1) - lg(a) + a * std::log(b / (1 + b)) - k * std::log1p(b);
       }},
      {"beta_binomial", [=](double c, size_t) { return std::vector<double>{c, c + 5, 2.0, 3.0}; },
       {false, false, true, true},
       [](const std::vector<double>& x) {
         const double k = x[0], N = x[1], a = x[2], b = x[3];
         return lg(N + 1) - lg(k + 1) - lg(N - k + 1) + lg(k + a) + lg(N - k + b) - lg(N + a + b) -
                (lg(a) + lg(b) - lg(a + b));
       }},
  };
}

// The kernel over a block: value (not propto) and the partials of its parameter arguments.
double block_lpdf(const Family& f, const std::vector<std::vector<double>>& cols, std::vector<std::vector<double>>& g) {
  const DistInfo& d = *find_dist(f.name);
  std::vector<Arg<double>> a(cols.size());
  g.assign(cols.size(), {});
  for (size_t k = 0; k < cols.size(); ++k) {
    a[k].val = cols[k].data();
    a[k].size = a[k].rows = cols[k].size();
    a[k].is_param = f.param[k];
    if (f.param[k]) {
      g[k].assign(cols[k].size(), 0.0);
      a[k].grad = g[k].data();
    }
  }
  return d.lpdf_f64(a.data(), false);
}

// Each element alone (one element takes the generic element loop).
double one_by_one(const Family& f, const std::vector<std::vector<double>>& cols, std::vector<std::vector<double>>& g) {
  double lp = 0;
  g.assign(cols.size(), {});
  for (size_t k = 0; k < cols.size(); ++k) g[k].assign(cols[k].size(), 0.0);
  for (size_t i = 0; i < cols[0].size(); ++i) {
    std::vector<std::vector<double>> one(cols.size()), gi;
    for (size_t k = 0; k < cols.size(); ++k) one[k] = {cols[k][i]};
    lp += block_lpdf(f, one, gi);
    for (size_t k = 0; k < cols.size(); ++k)
      if (f.param[k]) g[k][i] += gi[k][0];
  }
  return lp;
}

std::vector<std::vector<double>> columns(const Family& f, size_t n, size_t at, double edge) {
  std::vector<std::vector<double>> cols(f.param.size(), std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    const auto x = f.args(i == at ? edge : double(i % 4), i);
    for (size_t k = 0; k < x.size(); ++k) cols[k][i] = x[k];
  }
  return cols;
}

TEST(CountTerms, BlocksAgreeWithTheScalarReferenceAtEveryPosition) {
  // 0, small, the table's last entries and the first past it, and counts far beyond.
  for (const Family& f : families())
    for (double edge : {0.0, 1.0, 4094.0, 4095.0, 4096.0, 1e6})
      for (size_t n = 1; n <= 13; ++n)
        for (size_t at = 0; at < n; ++at) {
          SCOPED_TRACE(::testing::Message() << f.name << " count " << edge << " at " << at << " of " << n);
          const auto cols = columns(f, n, at, edge);
          std::vector<std::vector<double>> g, ge;
          const double lp = block_lpdf(f, cols, g), le = one_by_one(f, cols, ge);
          double want = 0;
          for (size_t i = 0; i < n; ++i) {
            std::vector<double> x;
            for (const auto& c : cols) x.push_back(c[i]);
            want += f.ref(x);
          }
          EXPECT_NEAR(lp, want, 1e-11 * std::max(1.0, std::fabs(want)));
          EXPECT_NEAR(le, want, 1e-11 * std::max(1.0, std::fabs(want)));
          for (size_t k = 0; k < cols.size(); ++k)
            for (size_t i = 0; i < g[k].size(); ++i)
              EXPECT_NEAR(g[k][i], ge[k][i], 1e-12 * std::max(1.0, std::fabs(ge[k][i]))) << "arg " << k << " " << i;
        }
}

TEST(CountTerms, InvalidCountsAnywhereInABlockGiveMinusInfinityAndNoPartials) {
  const double nan = std::nan("");
  for (const Family& f : families())
    for (double bad : {nan, kInf, -kInf, -1.0, 1.5, 0x1p51 + 0.5})
      for (size_t n = 1; n <= 13; ++n)
        for (size_t at = 0; at < n; ++at) {
          SCOPED_TRACE(::testing::Message() << f.name << " count " << bad << " at " << at << " of " << n);
          auto cols = columns(f, n, at, 2.0);
          cols[0][at] = bad;
          std::vector<std::vector<double>> g;
          EXPECT_EQ(block_lpdf(f, cols, g), -kInf);
          for (const auto& gk : g)
            for (double v : gk) EXPECT_EQ(v, 0.0);
        }
}

// binomial's theta logs are remembered between elements: a theta that changes along the block
// (a vector theta) must not reuse the previous element's.
TEST(CountTerms, BinomialWithAVectorThetaUsesEachElementsTheta) {
  const std::vector<double> k = {3, 0, 5, 2, 2}, N = {5, 4, 5, 9, 2}, th = {0.2, 0.2, 0.7, 0.7, 0.4};
  const Family f = families()[2];
  std::vector<std::vector<double>> g;
  const double lp = block_lpdf(f, {k, N, th}, g);
  double want = 0;
  for (size_t i = 0; i < k.size(); ++i) want += f.ref({k[i], N[i], th[i]});
  EXPECT_NEAR(lp, want, 1e-12 * std::fabs(want));
}

// bernoulli_logit's rows are computed in stages of 64; an element's bits may not depend on the
// block's length, its position in it, or the build.
template <class T> void expect_staged_rows_are_elementwise() {
  const std::vector<double> edges = {0.0, -0.0, 1e-9, -1e-9, 30, -30, 699, -699, 701, -701, 1e300, -1e300};
  std::vector<detail::RowsIsa> isas = {detail::RowsIsa::kBaseline};
  if (detail::cpu_has_avx2()) isas.push_back(detail::RowsIsa::kAvx2);
  if (detail::cpu_has_avx512()) isas.push_back(detail::RowsIsa::kAvx512);
  std::vector<size_t> lengths;
  for (size_t n = 1; n <= 13; ++n) lengths.push_back(n);
  for (size_t n : {63, 64, 65, 127, 128, 129, 256}) lengths.push_back(n);
  for (double edge : edges)
    for (size_t n : lengths)
      for (size_t at = 0; at < n; at += (n > 13 ? 7 : 1)) {
        std::vector<T> eta(n), y(n);
        for (size_t i = 0; i < n; ++i) {
          eta[i] = T(-3.0 + 0.41 * double(i % 17));
          y[i] = T(i % 3 == 0);
        }
        if (!std::isfinite(T(edge))) continue;  // the rows take finite logits
        eta[at] = T(edge);
        for (detail::RowsIsa isa : isas) {
          std::vector<T> term(n), w(n);
          detail::bernoulli_logit_rows(eta.data(), y.data(), term.data(), w.data(), n, isa);
          for (size_t i = 0; i < n; ++i) {
            T t1, w1;
            detail::bernoulli_logit_rows(&eta[i], &y[i], &t1, &w1, 1, detail::RowsIsa::kBaseline);
            ASSERT_EQ(std::memcmp(&t1, &term[i], sizeof(T)), 0) << edge << " n " << n << " i " << i;
            ASSERT_EQ(std::memcmp(&w1, &w[i], sizeof(T)), 0) << edge << " n " << n << " i " << i;
          }
        }
      }
}
TEST(BernoulliLogitRows, StagedRowsGiveEachElementsBitsWhateverTheBlockAndBuildInDouble) {
  expect_staged_rows_are_elementwise<double>();
}
TEST(BernoulliLogitRows, StagedRowsGiveEachElementsBitsWhateverTheBlockAndBuildInFloat) {
  expect_staged_rows_are_elementwise<float>();
}

}  // namespace
}  // namespace exmc::dist
