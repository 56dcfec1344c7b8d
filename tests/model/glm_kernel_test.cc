// The GLM products (src/model/glm.hpp: glm_eta, glm_back) and the bernoulli_logit_glm kernel built
// on them: every instruction-set build gives the bits of a scalar statement of the documented order
// of operations, for every block length 0..300 (vector bodies, tails, the 16/32 dot lanes and the
// kernel's 256-row blocks); the results are within rounding-error bounds of long double sums; the
// kernel's log density and gradient agree with a long double evaluation; non-finite coefficients
// give a non-finite density, never a crash; and repeated or concurrent calls give the same bits.
#include "../../src/model/glm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <vector>

// The scalar statements below are the kernels' order of operations; no multiply-add is fused.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma clang fp contract(off)
#endif

namespace exmc::model::detail {
namespace {

using dist::detail::RowsIsa;

std::vector<RowsIsa> isas() {
  std::vector<RowsIsa> v = {RowsIsa::kBaseline};
  if (dist::detail::cpu_has_avx2()) v.push_back(RowsIsa::kAvx2);
  if (dist::detail::cpu_has_avx512()) v.push_back(RowsIsa::kAvx512);
  return v;
}

// Columns of length ldx > nb, so that a kernel reading past its block or mixing up the stride
// picks up values that change the result.
template <class T> struct Data {
  size_t ldx, K;
  std::vector<T> X, v, out0;
  Data(size_t nb, size_t k, uint64_t seed) : ldx(nb + 3), K(k), X(ldx * k), v(std::max(nb, k)), out0(std::max(nb, k)) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> nd;
    for (auto& x : X) x = T(nd(rng));
    for (auto& x : v) x = T(nd(rng));
    for (auto& x : out0) x = T(nd(rng));
  }
};

// eta[i] = (((eta[i] + x_0 b_0) + x_1 b_1) + ...), the columns in order.
template <class T> void eta_reference(const Data<T>& d, size_t nb, T* eta) {
  for (size_t i = 0; i < nb; ++i)
    for (size_t j = 0; j < d.K; ++j) eta[i] = eta[i] + d.X[j * d.ldx + i] * d.v[j];
}

// grad[j] += tree(lanes), lane l summing the rows i = l (mod 128 / sizeof(T)) in order, the tree
// adding lane l + h into lane l for h = lanes / 2, ..., 1.
template <class T> void back_reference(const Data<T>& d, size_t nb, T* grad) {
  constexpr size_t L = 128 / sizeof(T);
  for (size_t j = 0; j < d.K; ++j) {
    T lanes[L] = {};
    for (size_t i = 0; i < nb; ++i) lanes[i % L] = lanes[i % L] + d.X[j * d.ldx + i] * d.v[i];
    for (size_t h = L / 2; h >= 1; h /= 2)
      for (size_t l = 0; l < h; ++l) lanes[l] = lanes[l] + lanes[l + h];
    grad[j] += lanes[0];
  }
}

template <class T> void expect_products_are_the_documented_sums() {
  for (size_t K : {0, 1, 2, 3, 4, 5, 7, 9})
    for (size_t nb = 0; nb <= 300; ++nb) {
      const Data<T> d(nb, K, 100 * K + nb);
      std::vector<T> want_eta(d.out0.begin(), d.out0.begin() + nb), want_grad(d.out0.begin(), d.out0.begin() + K);
      eta_reference(d, nb, want_eta.data());
      back_reference(d, nb, want_grad.data());
      for (RowsIsa isa : isas()) {
        std::vector<T> eta(d.out0.begin(), d.out0.begin() + nb), grad(d.out0.begin(), d.out0.begin() + K);
        glm_eta(d.X.data(), d.ldx, nb, d.v.data(), K, eta.data(), isa);
        glm_back(d.X.data(), d.ldx, nb, d.v.data(), K, grad.data(), isa);
        ASSERT_EQ(std::memcmp(eta.data(), want_eta.data(), nb * sizeof(T)), 0)
            << "eta, isa " << int(isa) << " nb " << nb << " K " << K;
        ASSERT_EQ(std::memcmp(grad.data(), want_grad.data(), K * sizeof(T)), 0)
            << "grad, isa " << int(isa) << " nb " << nb << " K " << K;
      }
    }
}
TEST(GlmProducts, EveryBuildGivesTheDocumentedSumsBitForBitInDouble) {
  expect_products_are_the_documented_sums<double>();
}
TEST(GlmProducts, EveryBuildGivesTheDocumentedSumsBitForBitInFloat) {
  expect_products_are_the_documented_sums<float>();
}

// gamma_n = n u / (1 - n u): the bound on the relative error of n rounded additions of terms
// whose magnitudes sum to S is gamma_n S (Higham, recursive and pairwise summation).
template <class T> long double gamma(size_t n) {
  const long double u = std::numeric_limits<T>::epsilon() / 2.0L;
  return n * u / (1 - n * u);
}

template <class T> void expect_products_within_rounding_bounds() {
  constexpr size_t L = 128 / sizeof(T);
  for (size_t K : {1, 4, 20, 100})
    for (size_t nb : {1, 17, 64, 255, 256, 300}) {
      const Data<T> d(nb, K, 7 + K + nb);
      std::vector<T> eta(d.out0.begin(), d.out0.begin() + nb), grad(d.out0.begin(), d.out0.begin() + K);
      glm_eta(d.X.data(), d.ldx, nb, d.v.data(), K, eta.data(), dist::detail::best_rows_isa());
      glm_back(d.X.data(), d.ldx, nb, d.v.data(), K, grad.data(), dist::detail::best_rows_isa());
      for (size_t i = 0; i < nb; ++i) {
        long double exact = d.out0[i], mag = std::fabs((long double)d.out0[i]);
        for (size_t j = 0; j < K; ++j) {
          exact += (long double)d.X[j * d.ldx + i] * d.v[j];
          mag += std::fabs((long double)d.X[j * d.ldx + i] * d.v[j]);
        }
        // K additions, each of a rounded product: gamma_{K+1}.
        EXPECT_LE(std::fabs(eta[i] - exact), gamma<T>(K + 1) * mag) << "row " << i << " nb " << nb << " K " << K;
      }
      // A lane adds ceil(nb / L) products, the tree log2(L) levels, then one addition into grad.
      const size_t depth = (nb + L - 1) / L + size_t(std::log2(double(L))) + 2;
      for (size_t j = 0; j < K; ++j) {
        long double exact = d.out0[j], mag = std::fabs((long double)d.out0[j]);
        for (size_t i = 0; i < nb; ++i) {
          exact += (long double)d.X[j * d.ldx + i] * d.v[i];
          mag += std::fabs((long double)d.X[j * d.ldx + i] * d.v[i]);
        }
        EXPECT_LE(std::fabs(grad[j] - exact), gamma<T>(depth) * mag) << "column " << j << " nb " << nb;
      }
    }
}
TEST(GlmProducts, WithinTheRoundingBoundOfLongDoubleSumsInDouble) { expect_products_within_rounding_bounds<double>(); }
TEST(GlmProducts, WithinTheRoundingBoundOfLongDoubleSumsInFloat) { expect_products_within_rounding_bounds<float>(); }

// bernoulli_logit_glm(y | X, alpha, beta) through its registry entry, scalar alpha.
template <class T> struct Glm {
  size_t N, K;
  std::vector<T> y, X, alpha, beta, ga, gb;
  Glm(size_t n, size_t k, uint64_t seed, double scale)
      : N(n), K(k), y(n), X(n * k), alpha(1), beta(k), ga(1), gb(k) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> nd;
    for (auto& v : X) v = T(nd(rng));
    for (auto& v : y) v = T(rng() & 1);
    alpha[0] = T(0.5 * nd(rng));
    for (auto& v : beta) v = T(scale * nd(rng) / std::sqrt(double(k)));
  }
  double lpdf() {
    std::fill(ga.begin(), ga.end(), T(0));
    std::fill(gb.begin(), gb.end(), T(0));
    dist::Arg<T> a[4];
    a[0] = {y.data(), N, N, 1, false, nullptr};
    a[1] = {X.data(), N * K, N, K, false, nullptr};
    a[2] = {alpha.data(), 1, 1, 1, true, ga.data()};
    a[3] = {beta.data(), K, K, 1, true, gb.data()};
    if constexpr (sizeof(T) == sizeof(double))
      return bernoulli_logit_glm().lpdf_f64(a, true);
    else
      return bernoulli_logit_glm().lpdf_f32(a, true);
  }
};

// Log density and gradient against long double. Bounds: eta_i's error (gamma_{K+1} times the
// magnitudes of its terms, as above) moves term_i by |w_i| <= 1 times it and w_i by at most a
// quarter of it (|d w / d eta| = p (1 - p) <= 1/4); the link rows add rel |term| and rel (|w| + p)
// (link_rows_test's agreement with libm) and what exp's underflow loses; the sums add gamma_n of
// their magnitudes.
// Twice the first-order bound covers the second-order terms.
template <class T> void expect_glm_matches_long_double(double rel, double scale) {
  for (size_t N : {0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 300, 513})
    for (size_t K : {1, 3, 4, 20}) {
      Glm<T> g(N, K, 11 * N + K, scale);
      const double lp = g.lpdf();
      long double want = 0, lp_bound = 0, ga = 0, ga_bound = 0;
      std::vector<long double> gb(K, 0), gb_bound(K, 0), gb_mag(K, 0);
      long double ga_mag = 0;
      for (size_t i = 0; i < N; ++i) {
        long double eta = g.alpha[0], mag = std::fabs((long double)g.alpha[0]);
        for (size_t j = 0; j < K; ++j) {
          eta += (long double)g.X[j * N + i] * g.beta[j];
          mag += std::fabs((long double)g.X[j * N + i] * g.beta[j]);
        }
        const long double deta = gamma<T>(K + 1) * mag, y = g.y[i];
        // exp(-|eta|) is 0 below -700 (double) / -87 (float): what is lost per row.
        const long double lost = sizeof(T) == sizeof(double) ? 1e-304L : 2e-38L;
        const long double ea = std::exp(-std::fabs(eta)), p = eta >= 0 ? 1 / (1 + ea) : ea / (1 + ea);
        const long double term = (y * eta - (eta > 0 ? eta : 0)) - std::log1p(ea), w = y - p;
        want += term;
        lp_bound += std::fabs(w) * deta + rel * std::fabs(term) + gamma<T>(N + 1) * std::fabs(term) + lost;
        const long double dw = 0.25L * deta + rel * (std::fabs(w) + p) + lost;
        ga += w;
        ga_bound += dw;
        ga_mag += std::fabs(w);
        for (size_t j = 0; j < K; ++j) {
          const long double x = g.X[j * N + i];
          gb[j] += x * w;
          gb_bound[j] += std::fabs(x) * dw;
          gb_mag[j] += std::fabs(x * w);
        }
      }
      EXPECT_LE(std::fabs(lp - want), 2 * lp_bound + 1e-300) << "N " << N << " K " << K;
      if (sizeof(T) == sizeof(double) && N > 0) {
        EXPECT_LE(std::fabs(lp - want), 1e-14 * std::fabs(want)) << "N " << N << " K " << K;
      }
      EXPECT_LE(std::fabs(g.ga[0] - ga), 2 * (ga_bound + gamma<T>(N + 1) * ga_mag) + 1e-300) << "N " << N;
      for (size_t j = 0; j < K; ++j)
        EXPECT_LE(std::fabs(g.gb[j] - gb[j]), 2 * (gb_bound[j] + gamma<T>(N + 8) * gb_mag[j]) + 1e-300)
            << "N " << N << " K " << K << " j " << j;
    }
}
TEST(GlmKernel, BernoulliLogitGlmMatchesLongDoubleInDouble) {
  expect_glm_matches_long_double<double>(1e-15, 1.0);
  expect_glm_matches_long_double<double>(1e-15, 30.0);  // |eta| up to ~100: saturated links
}
TEST(GlmKernel, BernoulliLogitGlmMatchesLongDoubleInFloat) {
  expect_glm_matches_long_double<float>(1e-6, 1.0);
  expect_glm_matches_long_double<float>(1e-6, 30.0);
}

// A NaN or infinite coefficient (a leapfrog step gone wrong) gives a non-finite density, which the
// sampler takes as a divergence; the kernel does not crash or read out of bounds.
TEST(GlmKernel, NonFiniteCoefficientsGiveANonFiniteDensity) {
  for (double bad : {std::nan(""), double(INFINITY), -double(INFINITY)}) {
    Glm<double> g(300, 5, 3, 1.0);
    g.beta[2] = bad;
    EXPECT_FALSE(std::isfinite(g.lpdf())) << bad;
    Glm<float> f(300, 5, 3, 1.0);
    f.beta[2] = float(bad);
    EXPECT_FALSE(std::isfinite(f.lpdf())) << bad;
  }
}

// The same inputs give the same bits on every call and from concurrent threads.
TEST(GlmKernel, RepeatedAndConcurrentCallsGiveTheSameBits) {
  Glm<double> g(1000, 20, 9, 1.0);
  const double lp = g.lpdf();
  const std::vector<double> gb = g.gb;
  std::vector<double> lps(4);
  std::vector<std::vector<double>> gbs(4);
  std::vector<std::thread> ts;
  for (size_t t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      Glm<double> mine = g;
      lps[t] = mine.lpdf();
      gbs[t] = mine.gb;
    });
  for (auto& t : ts) t.join();
  for (size_t t = 0; t < 4; ++t) {
    EXPECT_EQ(std::memcmp(&lps[t], &lp, sizeof lp), 0);
    EXPECT_EQ(std::memcmp(gbs[t].data(), gb.data(), gb.size() * sizeof(double)), 0);
  }
  EXPECT_EQ(g.lpdf(), lp);
}

}  // namespace
}  // namespace exmc::model::detail
