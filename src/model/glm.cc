// Fused GLM likelihood kernels (see glm.hpp).
#include "glm.hpp"

#include "exmc/dist/link_rows.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

// No multiply-add is fused into an FMA (GCC fuses them in C++ where the target has FMA, as
// AVX-512F does): each build of the products gives the same bits (glm.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma clang fp contract(off)
#endif

namespace exmc::model::detail {

namespace {

constexpr size_t kBlock = 256;
constexpr double kHalfLog2Pi = 0.91893853320467274178;

template <class T> T at(const dist::Arg<T>& a, size_t i) { return a.val[a.size == 1 ? 0 : i]; }

using dist::detail::RowsIsa;

// Native vectors of S bytes (GCC/Clang vector extensions): S = 16 (the SSE2 baseline), 32 (AVX2)
// or 64 (AVX-512), aligned to the element only and allowed to alias it, so vec(p) reads or
// writes the S bytes at any element. (A 64-byte type in the narrower builds is lowered through
// memory; hence one type per width.)
template <class T, size_t S> struct Nat {
  typedef T V __attribute__((vector_size(S), aligned(alignof(T)), may_alias));
  static constexpr size_t W = S / sizeof(T);
};
template <size_t S, class T> [[gnu::always_inline]] inline const typename Nat<T, S>::V& vec(const T* p) {
  return *reinterpret_cast<const typename Nat<T, S>::V*>(p);
}
template <size_t S, class T> [[gnu::always_inline]] inline typename Nat<T, S>::V& vec(T* p) {
  return *reinterpret_cast<typename Nat<T, S>::V*>(p);
}

// eta[i] += X[i, j] beta[j] for j = 0..K-1 in order; four columns per pass over eta.
template <class T, size_t S>
[[gnu::always_inline]] inline void eta_body(const T* __restrict X, size_t ldx, size_t nb, const T* __restrict beta,
                                            size_t K, T* __restrict eta) {
  using V = typename Nat<T, S>::V;
  constexpr size_t W = Nat<T, S>::W;
  size_t j = 0;
  for (; j + 4 <= K; j += 4) {
    const T *x0 = X + j * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx;
    const T b0 = beta[j], b1 = beta[j + 1], b2 = beta[j + 2], b3 = beta[j + 3];
    size_t i = 0;
    for (; i + W <= nb; i += W) {
      V e = vec<S>(eta + i);
      e = e + vec<S>(x0 + i) * b0;
      e = e + vec<S>(x1 + i) * b1;
      e = e + vec<S>(x2 + i) * b2;
      e = e + vec<S>(x3 + i) * b3;
      vec<S>(eta + i) = e;
    }
    for (; i < nb; ++i) eta[i] = (((eta[i] + x0[i] * b0) + x1[i] * b1) + x2[i] * b2) + x3[i] * b3;
  }
  for (; j < K; ++j) {
    const T* x0 = X + j * ldx;
    const T b0 = beta[j];
    size_t i = 0;
    for (; i + W <= nb; i += W) vec<S>(eta + i) = vec<S>(eta + i) + vec<S>(x0 + i) * b0;
    for (; i < nb; ++i) eta[i] = eta[i] + x0[i] * b0;
  }
}

// Lanes of a column's dot product: 16 (double) or 32 (float) in every build, 128 bytes.
template <class T> constexpr size_t kDotLanes = 128 / sizeof(T);

// grad[j] += sum_i X[i, j] w[i] for C columns: lane l of a column takes the rows i = l (mod
// kDotLanes) in order (the rows past the last whole set as one more set, zero-padded), in 128 / S
// native vectors; then the lanes by halves, lane l + h into lane l for h = kDotLanes / 2, ..., 1
// (across the native vectors first, then within the last): the same sums in every build.
template <class T, size_t S, size_t C>
[[gnu::always_inline]] inline void back_columns(const T* __restrict X, size_t ldx, size_t nb, const T* __restrict w,
                                                T* __restrict grad) {
  using V = typename Nat<T, S>::V;
  constexpr size_t W = Nat<T, S>::W, L = kDotLanes<T>, A = L / W;
  V acc[C][A];
  for (size_t c = 0; c < C; ++c)
    for (size_t a = 0; a < A; ++a) acc[c][a] = V{};
  size_t i = 0;
  for (; i + L <= nb; i += L)
    for (size_t a = 0; a < A; ++a) {
      const V wa = vec<S>(w + i + a * W);
      for (size_t c = 0; c < C; ++c) acc[c][a] = acc[c][a] + vec<S>(X + c * ldx + i + a * W) * wa;
    }
  if (i < nb) {
    T wt[L] = {}, xt[L];
    for (size_t k = i; k < nb; ++k) wt[k - i] = w[k];
    for (size_t c = 0; c < C; ++c) {
      for (size_t k = 0; k < L; ++k) xt[k] = i + k < nb ? X[c * ldx + i + k] : T(0);
      for (size_t a = 0; a < A; ++a) acc[c][a] = acc[c][a] + vec<S>(xt + a * W) * vec<S>(wt + a * W);
    }
  }
  for (size_t c = 0; c < C; ++c) {
    for (size_t n = A; n > 1; n /= 2)
      for (size_t a = 0; a < n / 2; ++a) acc[c][a] = acc[c][a] + acc[c][a + n / 2];
    T t[W];
    vec<S>(t) = acc[c][0];
    for (size_t h = W / 2; h >= 1; h /= 2)
      for (size_t l = 0; l < h; ++l) t[l] = t[l] + t[l + h];
    grad[c] += t[0];
  }
}

// C columns at a time, as many as the build's registers hold (C changes no column's bits).
template <class T, size_t S, size_t C>
[[gnu::always_inline]] inline void back_body(const T* X, size_t ldx, size_t nb, const T* w, size_t K, T* grad) {
  size_t j = 0;
  for (; j + C <= K; j += C) back_columns<T, S, C>(X + j * ldx, ldx, nb, w, grad + j);
  for (; j < K; ++j) back_columns<T, S, 1>(X + j * ldx, ldx, nb, w, grad + j);
}

template <class T> void eta_baseline(const T* X, size_t ldx, size_t nb, const T* beta, size_t K, T* eta) {
  eta_body<T, 16>(X, ldx, nb, beta, K, eta);
}
template <class T> void back_baseline(const T* X, size_t ldx, size_t nb, const T* w, size_t K, T* grad) {
  back_body<T, 16, 1>(X, ldx, nb, w, K, grad);
}
#if EXMC_ROWS_AVX2
template <class T>
[[gnu::target("avx2")]] void eta_avx2(const T* X, size_t ldx, size_t nb, const T* beta, size_t K, T* eta) {
  eta_body<T, 32>(X, ldx, nb, beta, K, eta);
}
template <class T>
[[gnu::target("avx2")]] void back_avx2(const T* X, size_t ldx, size_t nb, const T* w, size_t K, T* grad) {
  back_body<T, 32, 2>(X, ldx, nb, w, K, grad);
}
template <class T>
[[gnu::target("avx512f")]] void eta_avx512(const T* X, size_t ldx, size_t nb, const T* beta, size_t K, T* eta) {
  eta_body<T, 64>(X, ldx, nb, beta, K, eta);
}
template <class T>
[[gnu::target("avx512f")]] void back_avx512(const T* X, size_t ldx, size_t nb, const T* w, size_t K, T* grad) {
  back_body<T, 64, 4>(X, ldx, nb, w, K, grad);
}
#endif

// eta[0..nb) = alpha + X[i0.., :] beta for one block of rows (X column-major, N rows).
template <class T>
void block_eta(const dist::Arg<T>& X, const dist::Arg<T>& alpha, const dist::Arg<T>& beta, size_t N, size_t i0,
               size_t nb, T* eta) {
  for (size_t i = 0; i < nb; ++i) eta[i] = at(alpha, i0 + i);
  glm_eta(X.val + i0, N, nb, beta.val, beta.size, eta, dist::detail::best_rows_isa());
}

// Given w = d lp / d eta for a block, adds X^T w to beta's gradient. (X and y are data: the
// lift_glm pass only fuses observations whose matrix is data.)
template <class T>
void block_back(const dist::Arg<T>& X, const dist::Arg<T>& beta, size_t N, size_t i0, size_t nb, const T* w) {
  if (!beta.grad) return;
  glm_back(X.val + i0, N, nb, w, beta.size, beta.grad, dist::detail::best_rows_isa());
}

// Sum of v[0..n) in double, four running sums in a fixed order (vectorisable, and the same
// bits however the compiler vectorises it).
template <class T> double block_sum(const T* v, size_t n) {
  double acc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (size_t k = 0; k < 4; ++k) acc[k] += double(v[i + k]);
  for (; i < n; ++i) acc[i & 3] += double(v[i]);
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// d lp / d eta of a block into alpha's gradient: one sum for a scalar alpha, per row otherwise.
template <class T> void alpha_back(const dist::Arg<T>& alpha, size_t i0, size_t nb, const T* w) {
  if (!alpha.grad) return;
  if (alpha.size == 1) {
    alpha.grad[0] += T(block_sum(w, nb));
    return;
  }
  for (size_t i = 0; i < nb; ++i) alpha.grad[i0 + i] += w[i];
}

// args: y, X, alpha, beta, sigma
template <class T> double normal_id_glm_lpdf(const dist::Arg<T>* a, bool propto) {
  const auto &y = a[0], &X = a[1], &alpha = a[2], &beta = a[3], &sigma = a[4];
  const size_t N = y.size;
  for (size_t i = 0; i < sigma.size; ++i)
    if (!(sigma.val[i] > T(0))) return -std::numeric_limits<double>::infinity();
  const bool log_sigma = !propto || sigma.is_param;
  double lp = 0;
  if (!propto) lp -= double(N) * kHalfLog2Pi;
  if (log_sigma && sigma.size == 1) lp -= double(N) * std::log(double(sigma.val[0]));
  T eta[kBlock], sq[kBlock], dsigma[kBlock];
  for (size_t i0 = 0; i0 < N; i0 += kBlock) {
    const size_t nb = std::min(kBlock, N - i0);
    block_eta(X, alpha, beta, N, i0, nb, eta);
    for (size_t i = 0; i < nb; ++i) {  // no calls: vectorises
      const T s = at(sigma, i0 + i), inv = T(1) / s;
      const T r = (y.val[i0 + i] - eta[i]) * inv;
      sq[i] = r * r;
      dsigma[i] = (r * r - T(1)) * inv;
      eta[i] = r * inv;  // d lp / d eta
    }
    lp -= 0.5 * block_sum(sq, nb);
    if (log_sigma && sigma.size != 1)
      for (size_t i = 0; i < nb; ++i) lp -= std::log(double(sigma.val[i0 + i]));
    if (sigma.grad) {
      if (sigma.size == 1)
        sigma.grad[0] += T(block_sum(dsigma, nb));
      else
        for (size_t i = 0; i < nb; ++i) sigma.grad[i0 + i] += dsigma[i];
    }
    alpha_back(alpha, i0, nb, eta);
    block_back(X, beta, N, i0, nb, eta);
  }
  return lp;
}

// Shapes as Stan's _glm densities demand them: x has a row per element of y and a column per
// element of beta; alpha (and normal_id_glm's sigma) is one value or one per row. The kernels
// trust them (a beta longer than x's columns read past x), and lift_glm only builds conforming
// ones; a program that names the density itself is checked here, when the model is built.
std::string count(size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

std::string glm_shapes(const dist::Arg<double>* a, bool with_sigma) {
  const size_t n = a[0].size;
  if (a[1].rows != n) return "x has " + count(a[1].rows, "row") + " but y has " + count(n, "element");
  if (a[3].size != a[1].cols) return "beta has " + count(a[3].size, "element") + " but x has " + count(a[1].cols, "column");
  if (a[2].size != 1 && a[2].size != n)
    return "alpha has " + std::to_string(a[2].size) + " elements: expected 1 or one per element of y (" +
           std::to_string(n) + ")";
  if (with_sigma && a[4].size != 1 && a[4].size != n)
    return "sigma has " + std::to_string(a[4].size) + " elements: expected 1 or one per element of y (" +
           std::to_string(n) + ")";
  return "";
}

std::string normal_id_glm_validate(const dist::Arg<double>* a) {
  if (std::string bad = glm_shapes(a, true); !bad.empty()) return bad;
  if (a[4].is_param) return "";
  for (size_t i = 0; i < a[4].size; ++i)
    if (!(a[4].val[i] > 0) || !std::isfinite(a[4].val[i]))
      return "sigma must be positive and finite, found " + std::to_string(a[4].val[i]) + " at index " +
             std::to_string(i + 1);
  return "";
}

// args: y, X, alpha, beta
template <class T> double bernoulli_logit_glm_lpdf(const dist::Arg<T>* a, bool) {
  const auto &y = a[0], &X = a[1], &alpha = a[2], &beta = a[3];
  const size_t N = y.size;
  double lp = 0;
  T eta[kBlock], term[kBlock], w[kBlock];
  for (size_t i0 = 0; i0 < N; i0 += kBlock) {
    const size_t nb = std::min(kBlock, N - i0);
    block_eta(X, alpha, beta, N, i0, nb, eta);
    dist::detail::bernoulli_logit_rows(eta, y.val + i0, term, w, nb);
    lp += block_sum(term, nb);
    alpha_back(alpha, i0, nb, w);
    block_back(X, beta, N, i0, nb, w);
  }
  return lp;
}

std::string bernoulli_logit_glm_validate(const dist::Arg<double>* a) {
  if (std::string bad = glm_shapes(a, false); !bad.empty()) return bad;
  if (a[0].is_param) return "";
  for (size_t i = 0; i < a[0].size; ++i)
    if (a[0].val[i] != 0 && a[0].val[i] != 1)
      return "y must be 0 or 1, found " + std::to_string(a[0].val[i]) + " at index " + std::to_string(i + 1);
  return "";
}

}  // namespace

template <class T>
void glm_eta(const T* X, size_t ldx, size_t nb, const T* beta, size_t K, T* eta, dist::detail::RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa == RowsIsa::kAvx512) return eta_avx512(X, ldx, nb, beta, K, eta);
  if (isa == RowsIsa::kAvx2) return eta_avx2(X, ldx, nb, beta, K, eta);
#endif
  (void)isa;
  eta_baseline(X, ldx, nb, beta, K, eta);
}
template void glm_eta(const double*, size_t, size_t, const double*, size_t, double*, RowsIsa);
template void glm_eta(const float*, size_t, size_t, const float*, size_t, float*, RowsIsa);

template <class T>
void glm_back(const T* X, size_t ldx, size_t nb, const T* w, size_t K, T* grad, dist::detail::RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa == RowsIsa::kAvx512) return back_avx512(X, ldx, nb, w, K, grad);
  if (isa == RowsIsa::kAvx2) return back_avx2(X, ldx, nb, w, K, grad);
#endif
  (void)isa;
  back_baseline(X, ldx, nb, w, K, grad);
}
template void glm_back(const double*, size_t, size_t, const double*, size_t, double*, RowsIsa);
template void glm_back(const float*, size_t, size_t, const float*, size_t, float*, RowsIsa);

const dist::DistInfo& normal_id_glm() {
  static const dist::DistInfo d{"normal_id_glm", {"y", "x", "alpha", "beta", "sigma"}, dist::Support::kReal,
                                false, true, normal_id_glm_lpdf<double>, normal_id_glm_lpdf<float>, nullptr,
                                normal_id_glm_validate};
  return d;
}

const dist::DistInfo& bernoulli_logit_glm() {
  static const dist::DistInfo d{"bernoulli_logit_glm", {"y", "x", "alpha", "beta"}, dist::Support::kBinary, true,
                                true, bernoulli_logit_glm_lpdf<double>, bernoulli_logit_glm_lpdf<float>, nullptr,
                                bernoulli_logit_glm_validate};
  return d;
}

}  // namespace exmc::model::detail
