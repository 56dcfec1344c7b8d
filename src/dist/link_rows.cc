#include "exmc/dist/link_rows.hpp"

#include <cmath>
#include <limits>

#include "exmc/core/fast_math.hpp"

// No multiply-add is fused into an FMA (GCC's default for C++ fuses them where the target has
// FMA, as AVX-512F does): every build gives the same bits.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma clang fp contract(off)
#endif

namespace exmc::dist::detail {
namespace {

template <class T>
[[gnu::always_inline]] inline void exp_body(const T* __restrict x, double* __restrict e, size_t n) {
  for (size_t i = 0; i < n; ++i) e[i] = fast::exp_in_range(double(x[i]));
}

// Elements per stage of the staged bodies below: a stage's buffers stay in L1.
constexpr size_t kStage = 64;

// Each element is one long dependency chain (exp, then log1p of its result, then a division),
// and one loop's iterations are long enough that few chains overlap. As stages over a few dozen
// elements (the exps of all, then their log1ps, then the rest) many short chains are in flight:
// 1,000 elements 4.8 -> 3.8 us (exmc-dist-bench). Each element's operations and their order are
// unchanged, so are its bits.
template <class T>
[[gnu::always_inline]] inline void bernoulli_body(const T* __restrict eta, const T* __restrict y, T* __restrict term,
                                                  T* __restrict w, size_t n) {
  T ea[kStage], l[kStage];
  for (size_t i0 = 0; i0 < n; i0 += kStage) {
    const size_t m = n - i0 < kStage ? n - i0 : kStage;
    const T* __restrict e = eta + i0;
    // One exp serves both log(1 + e^eta) and inv_logit(eta).
    for (size_t i = 0; i < m; ++i) ea[i] = fast::exp_nonpositive(-std::fabs(e[i]));
    for (size_t i = 0; i < m; ++i) l[i] = fast::log1p_unit(ea[i]);
    for (size_t i = 0; i < m; ++i) {
      const T ei = e[i], yi = y[i0 + i];
      // (y e - max(e, 0)) is exact (0 or +-e) where the two cancel, so the term keeps log1p's
      // relative precision.
      term[i0 + i] = (yi * ei - (ei > T(0) ? ei : T(0))) - l[i];
      const T inv = T(1) / (T(1) + ea[i]);
      w[i0 + i] = yi - (ei >= T(0) ? T(1) : ea[i]) * inv;
    }
  }
}

template <class T>
[[gnu::always_inline]] inline void logit_body(const T* __restrict eta, double* __restrict l, double* __restrict p,
                                              size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double e = double(eta[i]), ea = fast::exp_nonpositive(-std::fabs(e));
    l[i] = fast::log1p_unit(ea);
    p[i] = (e >= 0 ? 1.0 : ea) / (1.0 + ea);
  }
}

template <class T> void logit_baseline(const T* eta, double* l, double* p, size_t n) { logit_body(eta, l, p, n); }
template <class T> void exp_baseline(const T* x, double* e, size_t n) { exp_body(x, e, n); }
template <class T> void bernoulli_baseline(const T* eta, const T* y, T* term, T* w, size_t n) {
  bernoulli_body(eta, y, term, w, n);
}
#if EXMC_ROWS_AVX2
// AVX-512F has FMA instructions: the file's fp-contract=off (above) keeps every multiply and add
// apart, as in the other builds.
template <class T> [[gnu::target("avx512f")]] void logit_avx512(const T* eta, double* l, double* p, size_t n) {
  logit_body(eta, l, p, n);
}
template <class T> [[gnu::target("avx512f")]] void exp_avx512(const T* x, double* e, size_t n) { exp_body(x, e, n); }
template <class T>
[[gnu::target("avx512f")]] void bernoulli_avx512(const T* eta, const T* y, T* term, T* w, size_t n) {
  bernoulli_body(eta, y, term, w, n);
}
template <class T> [[gnu::target("avx2")]] void logit_avx2(const T* eta, double* l, double* p, size_t n) {
  logit_body(eta, l, p, n);
}
template <class T> [[gnu::target("avx2")]] void exp_avx2(const T* x, double* e, size_t n) { exp_body(x, e, n); }
template <class T>
[[gnu::target("avx2")]] void bernoulli_avx2(const T* eta, const T* y, T* term, T* w, size_t n) {
  bernoulli_body(eta, y, term, w, n);
}
#endif

// Validity checks run on every gradient: counts of failures (sums vectorise where && chains
// would not), every comparison a floating-point one (64-bit integer compares have no SSE2
// vector form). For 0 <= v < 2^52, (v + 2^52) - 2^52 rounds v to an integer, so it equals v
// exactly when v is one; every double from 2^52 up is an integer.
template <class T> [[gnu::always_inline]] inline size_t non_counts_body(const T* __restrict y, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const double v = double(y[i]);
    const bool ok = (v >= 0) & (v <= 0x1.fffffffffffffp1023) & ((v >= 0x1p52) | ((v + 0x1p52) - 0x1p52 == v));
    bad += !ok;
  }
  return bad;
}

template <class T> [[gnu::always_inline]] inline size_t outside_exp_body(const T* __restrict x, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const double v = double(x[i]);
    bad += !((v > -700) & (v < 700));
  }
  return bad;
}

template <class T> [[gnu::always_inline]] inline size_t non_binary_body(const T* __restrict y, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) bad += !((y[i] == T(0)) | (y[i] == T(1)));
  return bad;
}

template <class T> [[gnu::always_inline]] inline size_t non_finite_body(const T* __restrict x, size_t n) {
  constexpr T kMax = std::numeric_limits<T>::max();
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) bad += !((x[i] >= -kMax) & (x[i] <= kMax));
  return bad;
}

template <class T> size_t non_counts_baseline(const T* y, size_t n) { return non_counts_body(y, n); }
template <class T> size_t outside_exp_baseline(const T* x, size_t n) { return outside_exp_body(x, n); }
template <class T> size_t non_binary_baseline(const T* y, size_t n) { return non_binary_body(y, n); }
template <class T> size_t non_finite_baseline(const T* x, size_t n) { return non_finite_body(x, n); }
#if EXMC_ROWS_AVX2
template <class T> [[gnu::target("avx2")]] size_t non_binary_avx2(const T* y, size_t n) {
  return non_binary_body(y, n);
}
template <class T> [[gnu::target("avx2")]] size_t non_finite_avx2(const T* x, size_t n) {
  return non_finite_body(x, n);
}
template <class T> [[gnu::target("avx2")]] size_t non_counts_avx2(const T* y, size_t n) {
  return non_counts_body(y, n);
}
template <class T> [[gnu::target("avx2")]] size_t outside_exp_avx2(const T* x, size_t n) {
  return outside_exp_body(x, n);
}
#endif

}  // namespace

bool cpu_has_avx2() {
#if EXMC_ROWS_AVX2
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if EXMC_ROWS_AVX2
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

template <class T> void exp_rows(const T* x, double* e, size_t n, RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa == RowsIsa::kAvx512) return exp_avx512(x, e, n);
  if (isa == RowsIsa::kAvx2) return exp_avx2(x, e, n);
#endif
  (void)isa;
  exp_baseline(x, e, n);
}
template void exp_rows(const double*, double*, size_t, RowsIsa);
template void exp_rows(const float*, double*, size_t, RowsIsa);

template <class T> void bernoulli_logit_rows(const T* eta, const T* y, T* term, T* w, size_t n, RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa == RowsIsa::kAvx512) return bernoulli_avx512(eta, y, term, w, n);
  if (isa == RowsIsa::kAvx2) return bernoulli_avx2(eta, y, term, w, n);
#endif
  (void)isa;
  bernoulli_baseline(eta, y, term, w, n);
}
template void bernoulli_logit_rows(const double*, const double*, double*, double*, size_t, RowsIsa);
template void bernoulli_logit_rows(const float*, const float*, float*, float*, size_t, RowsIsa);

template <class T> void logit_rows(const T* eta, double* l, double* p, size_t n, RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa == RowsIsa::kAvx512) return logit_avx512(eta, l, p, n);
  if (isa == RowsIsa::kAvx2) return logit_avx2(eta, l, p, n);
#endif
  (void)isa;
  logit_baseline(eta, l, p, n);
}
template void logit_rows(const double*, double*, double*, size_t, RowsIsa);
template void logit_rows(const float*, double*, double*, size_t, RowsIsa);

template <class T> bool all_counts(const T* y, size_t n, RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa != RowsIsa::kBaseline) return non_counts_avx2(y, n) == 0;
#endif
  (void)isa;
  return non_counts_baseline(y, n) == 0;
}
template bool all_counts(const double*, size_t, RowsIsa);
template bool all_counts(const float*, size_t, RowsIsa);

template <class T> bool all_in_exp_range(const T* x, size_t n, RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa != RowsIsa::kBaseline) return outside_exp_avx2(x, n) == 0;
#endif
  (void)isa;
  return outside_exp_baseline(x, n) == 0;
}
template bool all_in_exp_range(const double*, size_t, RowsIsa);
template bool all_in_exp_range(const float*, size_t, RowsIsa);

template <class T> bool all_binary(const T* y, size_t n, RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa != RowsIsa::kBaseline) return non_binary_avx2(y, n) == 0;
#endif
  (void)isa;
  return non_binary_baseline(y, n) == 0;
}
template bool all_binary(const double*, size_t, RowsIsa);
template bool all_binary(const float*, size_t, RowsIsa);

template <class T> bool all_finite(const T* x, size_t n, RowsIsa isa) {
#if EXMC_ROWS_AVX2
  if (isa != RowsIsa::kBaseline) return non_finite_avx2(x, n) == 0;
#endif
  (void)isa;
  return non_finite_baseline(x, n) == 0;
}
template bool all_finite(const double*, size_t, RowsIsa);
template bool all_finite(const float*, size_t, RowsIsa);

}  // namespace exmc::dist::detail
