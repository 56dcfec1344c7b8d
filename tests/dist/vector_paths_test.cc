// The fused vector paths of single families (poisson_log's, bernoulli_logit's, binomial_logit's) against the generic element loop
// they replace: the same value and partials element by element, the same refusals, and the
// generic path where the fused one's inline exp stops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "exmc/core/rng.hpp"
#include "exmc/dist/kernel.hpp"

namespace exmc::dist {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log p of outcomes y given a vector of link values alpha (one value: broadcast), alpha's
// partials into *g, for a two-argument family (y, alpha).
double two_args(const char* family, const std::vector<double>& y, const std::vector<double>& alpha, bool propto,
                std::vector<double>* g = nullptr, bool alpha_param = true) {
  const DistInfo& d = *find_dist(family);
  Arg<double> a[2];
  a[0].val = y.data();
  a[0].size = a[0].rows = y.size();
  a[0].cols = 1;
  a[1].val = alpha.data();
  a[1].size = a[1].rows = alpha.size();
  a[1].cols = 1;
  a[1].is_param = alpha_param;
  if (g) {
    g->assign(alpha.size(), 0.0);
    a[1].grad = g->data();
  }
  return d.lpdf_f64(a, propto);
}

double poisson_log(const std::vector<double>& y, const std::vector<double>& alpha, bool propto,
                   std::vector<double>* g = nullptr, bool alpha_param = true) {
  return two_args("poisson_log", y, alpha, propto, g, alpha_param);
}

// Each element on its own (one element never takes the vector path).
double elementwise(const char* family, const std::vector<double>& y, const std::vector<double>& alpha, bool propto,
                   std::vector<double>* g) {
  double lp = 0;
  g->assign(alpha.size(), 0.0);
  for (size_t i = 0; i < y.size(); ++i) {
    std::vector<double> gi;
    lp += two_args(family, {y[i]}, {alpha.size() == 1 ? alpha[0] : alpha[i]}, propto, &gi);
    (*g)[alpha.size() == 1 ? 0 : i] += gi[0];
  }
  return lp;
}

// The fused path of a (y, alpha) family against its element loop, with alpha a vector and one
// value, in both propto modes: the same value and partials to 1e-13.
void expect_agrees_with_element_loop(const char* family, const std::vector<double>& y,
                                     const std::vector<double>& alpha, double one_alpha) {
  for (bool propto : {false, true})
    for (const auto& al : {alpha, std::vector<double>{one_alpha}}) {
      SCOPED_TRACE(::testing::Message() << family << " n " << y.size() << " propto " << propto << " alpha size "
                                        << al.size());
      std::vector<double> g, ge;
      const double lp = two_args(family, y, al, propto, &g), le = elementwise(family, y, al, propto, &ge);
      EXPECT_NEAR(lp, le, 1e-13 * std::fabs(le));
      for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], ge[i], 1e-13 * std::max(1.0, std::fabs(ge[i])));
    }
}

TEST(PoissonLogVectorPath, AgreesWithTheElementLoopOnEveryShape) {
  Rng rng(11, 0);
  for (size_t n : {2u, 3u, 5u, 1000u}) {
    std::vector<double> y(n), alpha(n);
    for (size_t i = 0; i < n; ++i) {
      alpha[i] = rng.uniform(-8, 8);
      y[i] = std::floor(rng.uniform(0, 40));
    }
    expect_agrees_with_element_loop("poisson_log", y, alpha, alpha[0]);
  }
}

TEST(PoissonLogVectorPath, RefusesWhatTheElementLoopRefuses) {
  const double nan = std::nan("");
  for (bool propto : {false, true})
    for (bool param : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "propto " << propto << " param " << param);
      for (double bad_alpha : {nan, kInf, -kInf}) {
        EXPECT_EQ(poisson_log({1, 2, 3}, {0.1, bad_alpha, 0.3}, propto, nullptr, param), -kInf);
        EXPECT_EQ(poisson_log({1, 2, 3}, {bad_alpha}, propto, nullptr, param), -kInf);
      }
      // Fractions near 2^52, where the check's (v + 2^52) - 2^52 rounding does the work.
      for (double bad_y : {-1.0, 1.5, nan, kInf, 0x1p51 + 0.5, 0x1p52 - 0.5, 0.5, -0x1p60}) {
        EXPECT_EQ(poisson_log({1, bad_y, 3}, {0.1, 0.2, 0.3}, propto, nullptr, param), -kInf);
        EXPECT_EQ(poisson_log({1, bad_y, 3}, {0.1}, propto, nullptr, param), -kInf);
      }
    }
}

// Counts at the edges of the integer check: zero of either sign, the last values below 2^52,
// and integers past it (every double there is one) take the vector path like any others.
TEST(PoissonLogVectorPath, CountsAtTheEdgesOfTheIntegerCheckAgreeWithTheElementLoop) {
  const std::vector<double> y = {0.0, -0.0, 0x1p52 - 1, 0x1p52, 0x1p53 + 2, 3};
  expect_agrees_with_element_loop("poisson_log", y, {-40, -38, -36, -37, -39, 1.2}, -40);
}

// Beyond the inline exp's range the generic path answers: a huge log rate gives a finite
// density (y * alpha - exp(alpha), -inf only when exp overflows), exactly as each element would.
TEST(PoissonLogVectorPath, LogRatesBeyondTheInlineRangeTakeTheGenericPath) {
  for (double big : {-750.0, 705.0, 720.0}) {
    SCOPED_TRACE(big);
    const std::vector<double> y = {0, 3, 1}, alpha = {0.5, big, -0.5};
    std::vector<double> g, ge;
    const double lp = poisson_log(y, alpha, false, &g), le = elementwise("poisson_log", y, alpha, false, &ge);
    if (std::isinf(le)) {
      EXPECT_EQ(lp, le);
    } else {
      EXPECT_NEAR(lp, le, 1e-13 * std::fabs(le));
      for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], ge[i], 1e-13 * std::max(1.0, std::fabs(ge[i])));
    }
  }
}

TEST(BernoulliLogitVectorPath, AgreesWithTheElementLoopOnEveryShape) {
  Rng rng(12, 0);
  for (size_t n : {2u, 3u, 5u, 1000u}) {
    std::vector<double> y(n), alpha(n);
    for (size_t i = 0; i < n; ++i) {
      // Typical logits, and some far out where log(1 + e^x) and the partials saturate.
      alpha[i] = i % 10 == 0 ? rng.uniform(-800, 800) : rng.uniform(-6, 6);
      y[i] = rng.uniform(0, 1) < 0.4 ? 1 : 0;
    }
    expect_agrees_with_element_loop("bernoulli_logit", y, alpha, alpha[1]);
  }
}

TEST(BernoulliLogitVectorPath, RefusesWhatTheElementLoopRefuses) {
  const double nan = std::nan("");
  for (bool propto : {false, true})
    for (bool param : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "propto " << propto << " param " << param);
      for (double bad_alpha : {nan, kInf, -kInf}) {
        EXPECT_EQ(two_args("bernoulli_logit", {1, 0, 1}, {0.1, bad_alpha, 0.3}, propto, nullptr, param), -kInf);
        EXPECT_EQ(two_args("bernoulli_logit", {1, 0, 1}, {bad_alpha}, propto, nullptr, param), -kInf);
      }
      for (double bad_y : {-1.0, 0.5, 2.0, nan}) {
        EXPECT_EQ(two_args("bernoulli_logit", {1, bad_y, 0}, {0.1, 0.2, 0.3}, propto, nullptr, param), -kInf);
        EXPECT_EQ(two_args("bernoulli_logit", {1, bad_y, 0}, {0.1}, propto, nullptr, param), -kInf);
      }
    }
}

// binomial_logit(k | N, alpha): each argument a vector or one value; alpha's partials into *g.
double binomial_logit(const std::vector<double>& k, const std::vector<double>& N, const std::vector<double>& alpha,
                      bool propto, std::vector<double>* g = nullptr, bool alpha_param = true) {
  const DistInfo& d = *find_dist("binomial_logit");
  const std::vector<double>* v[3] = {&k, &N, &alpha};
  Arg<double> a[3];
  for (int j = 0; j < 3; ++j) {
    a[j].val = v[j]->data();
    a[j].size = a[j].rows = v[j]->size();
    a[j].cols = 1;
  }
  a[2].is_param = alpha_param;
  if (g) {
    g->assign(alpha.size(), 0.0);
    a[2].grad = g->data();
  }
  return d.lpdf_f64(a, propto);
}

TEST(BinomialLogitVectorPath, AgreesWithTheElementLoopOnEveryShape) {
  Rng rng(13, 0);
  for (size_t n : {2u, 3u, 5u, 1000u}) {
    std::vector<double> k(n), N(n), alpha(n);
    for (size_t i = 0; i < n; ++i) {
      alpha[i] = i % 10 == 0 ? rng.uniform(-800, 800) : rng.uniform(-6, 6);
      N[i] = std::floor(rng.uniform(1, 60));
      k[i] = std::floor(rng.uniform(0, N[i] + 1));
    }
    const std::vector<double> N1 = {*std::max_element(N.begin(), N.end())}, a1 = {alpha[1]};
    for (bool propto : {false, true})
      for (const auto* NN : std::vector<const std::vector<double>*>{&N, &N1})
        for (const auto* al : std::vector<const std::vector<double>*>{&alpha, &a1}) {
          SCOPED_TRACE(::testing::Message() << "n " << n << " propto " << propto << " N size " << NN->size()
                                            << " alpha size " << al->size());
          std::vector<double> g, ge(al->size(), 0.0);
          const double lp = binomial_logit(k, *NN, *al, propto, &g);
          double le = 0;
          for (size_t i = 0; i < n; ++i) {
            std::vector<double> gi;
            const std::vector<double> ki = {k[i]}, Ni = {(*NN)[NN->size() == 1 ? 0 : i]},
                                      ai = {(*al)[al->size() == 1 ? 0 : i]};
            le += binomial_logit(ki, Ni, ai, propto, &gi);
            ge[al->size() == 1 ? 0 : i] += gi[0];
          }
          EXPECT_NEAR(lp, le, 1e-13 * std::fabs(le));
          for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], ge[i], 1e-13 * std::max(1.0, std::fabs(ge[i])));
        }
  }
}

TEST(BinomialLogitVectorPath, RefusesWhatTheElementLoopRefuses) {
  const double nan = std::nan("");
  for (bool propto : {false, true})
    for (bool param : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "propto " << propto << " param " << param);
      for (double bad_alpha : {nan, kInf, -kInf}) {
        EXPECT_EQ(binomial_logit({1, 2, 3}, {5}, {0.1, bad_alpha, 0.3}, propto, nullptr, param), -kInf);
        EXPECT_EQ(binomial_logit({1, 2, 3}, {5, 5, 5}, {bad_alpha}, propto, nullptr, param), -kInf);
      }
      // k above N, negative or fractional; N fractional or infinite.
      EXPECT_EQ(binomial_logit({1, 6, 3}, {5}, {0.1, 0.2, 0.3}, propto, nullptr, param), -kInf);
      EXPECT_EQ(binomial_logit({1, -1, 3}, {5, 5, 5}, {0.1}, propto, nullptr, param), -kInf);
      EXPECT_EQ(binomial_logit({1, 1.5, 3}, {5}, {0.1}, propto, nullptr, param), -kInf);
      EXPECT_EQ(binomial_logit({1, 1, 3}, {5, 4.5, 5}, {0.1}, propto, nullptr, param), -kInf);
      EXPECT_EQ(binomial_logit({1, 1, 3}, {kInf}, {0.1, 0.2, 0.3}, propto, nullptr, param), -kInf);
      EXPECT_EQ(binomial_logit({1, nan, 3}, {5}, {0.1, 0.2, 0.3}, propto, nullptr, param), -kInf);
      EXPECT_EQ(binomial_logit({1, 1, 3}, {5, nan, 5}, {0.1}, propto, nullptr, param), -kInf);
    }
}

}  // namespace
}  // namespace exmc::dist
