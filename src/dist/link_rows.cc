#include "exmc/dist/link_rows.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

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
  for (size_t i = 0; i < n; ++i) e[i] = fast::exp_in_range16(double(x[i]));
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
// apart, as in the other builds (GCC's intrinsics are vector operators it would otherwise fuse).

// The rows under AVX-512F, written out: fast::exp_in_range16 and fast::log1p_unit's operations in
// their order (so the baseline's bits, tested), their 16-entry double tables held in registers
// (two each) and read by one permutation (vpermt2pd) per vector instead of the one scalar load
// per lane that the compiler makes of them (GCC emits no gathers for generic tuning).
struct Tab16 {
  __m512d exp2[2], hi[2], lo[2], inv[2];
};
[[gnu::target("avx512f"), gnu::always_inline]] inline Tab16 load_tab16() {
  const auto& t = fast::detail::kTables16;
  Tab16 r;
  for (int h = 0; h < 2; ++h) {
    r.exp2[h] = _mm512_loadu_pd(t.exp2 + 8 * h);
    r.hi[h] = _mm512_loadu_pd(t.log1p_hi + 8 * h);
    r.lo[h] = _mm512_loadu_pd(t.log1p_lo + 8 * h);
    r.inv[h] = _mm512_loadu_pd(t.inv + 8 * h);
  }
  return r;
}
// entry (j & 15) of a 16-entry table
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512d lut16(const __m512d* t, __m512i j) {
  return _mm512_permutex2var_pd(t[0], j, t[1]);
}

// c0 + r c1
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512d poly1(__m512d r, double c0, double c1) {
  return _mm512_add_pd(_mm512_set1_pd(c0), _mm512_mul_pd(r, _mm512_set1_pd(c1)));
}

// fast::exp_in_range16(a) for 8 doubles (|a| < 700).
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512d exp16_512(__m512d a, const Tab16& tab) {
  const __m512d shifter = _mm512_set1_pd(0x1.8p52);
  const __m512d t = _mm512_add_pd(_mm512_mul_pd(a, _mm512_set1_pd(0x1.71547652b82fep+4)), shifter);
  const __m512d kd = _mm512_sub_pd(t, shifter);
  const __m512i kbits = _mm512_castpd_si512(t);
  const __m512d r = _mm512_sub_pd(_mm512_sub_pd(a, _mm512_mul_pd(kd, _mm512_set1_pd(0x1.62e42fee00000p-5))),
                                  _mm512_mul_pd(kd, _mm512_set1_pd(0x1.a39ef35793c76p-37)));
  const __m512d r2 = _mm512_mul_pd(r, r);
  const __m512d q = _mm512_add_pd(
      poly1(r, 0x1.fffffffffffb9p-2, 0x1.555555548f896p-3),
      _mm512_mul_pd(r2, _mm512_add_pd(poly1(r, 0x1.55555558fbd6cp-5, 0x1.11123aae3fd32p-7),
                                      _mm512_mul_pd(r2, _mm512_set1_pd(0x1.6c14c77ff9075p-10)))));
  const __m512d em1 = _mm512_add_pd(r, _mm512_mul_pd(r2, q));
  // 2^(k >> 4), k the low 32 bits of t as a signed integer
  const __m512i k4 = _mm512_srai_epi64(_mm512_slli_epi64(kbits, 32), 36);
  const __m512d scale = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(k4, _mm512_set1_epi64(1023)), 52));
  const __m512d t16 = lut16(tab.exp2, kbits);
  return _mm512_mul_pd(_mm512_add_pd(t16, _mm512_mul_pd(t16, em1)), scale);
}

// fast::exp_nonpositive(-|e|) for 8 doubles: 0 below -700.
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512d exp_neg_abs512(__m512d e, const Tab16& tab) {
  const __m512d a =
      _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(e), _mm512_set1_epi64(int64_t(0x8000000000000000ull))));
  const __mmask8 low = _mm512_cmp_pd_mask(a, _mm512_set1_pd(-700.0), _CMP_LT_OQ);
  const __m512d ea = exp16_512(_mm512_mask_blend_pd(low, a, _mm512_set1_pd(-700.0)), tab);
  return _mm512_mul_pd(ea, _mm512_mask_blend_pd(low, _mm512_set1_pd(1.0), _mm512_setzero_pd()));
}

// fast::log1p_unit(x) for 8 doubles in [0, 1].
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512d log1p16_512(__m512d x, const Tab16& tab) {
  const __m512d shifter = _mm512_set1_pd(0x1.8p52);
  const __m512d tj = _mm512_add_pd(_mm512_mul_pd(x, _mm512_set1_pd(15.484375)), shifter);
  const __m512d c = _mm512_mul_pd(_mm512_sub_pd(tj, shifter), _mm512_set1_pd(1.0 / 16));
  const __m512i j = _mm512_castpd_si512(tj);  // its low 4 bits: the permutations' index
  const __m512d rr = _mm512_mul_pd(_mm512_sub_pd(x, c), lut16(tab.inv, j));
  const __m512d r2 = _mm512_mul_pd(rr, rr), r4 = _mm512_mul_pd(r2, r2);
  const __m512d q4 = _mm512_add_pd(poly1(rr, -0x1.fffffffffffe0p-2, 0x1.55555555561a0p-2),
                                   _mm512_mul_pd(r2, poly1(rr, -0x1.0000000080c44p-2, 0x1.9999996bf8422p-3)));
  const __m512d q8 = _mm512_add_pd(poly1(rr, -0x1.555544cf03bd3p-3, 0x1.2493c24e62f6cp-3),
                                   _mm512_mul_pd(r2, poly1(rr, -0x1.00645e69f3fb9p-3, 0x1.c01c108b58d93p-4)));
  const __m512d q = _mm512_add_pd(rr, _mm512_mul_pd(r2, _mm512_add_pd(q4, _mm512_mul_pd(r4, q8))));
  return _mm512_add_pd(lut16(tab.hi, j), _mm512_add_pd(lut16(tab.lo, j), q));
}

[[gnu::target("avx512f"), gnu::always_inline]] inline __m512d load8(const double* x, __mmask8 live) {
  return _mm512_maskz_loadu_pd(live, x);
}
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512d load8(const float* x, __mmask8 live) {
  return _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_maskz_loadu_ps(__mmask16(live), x)));
}
[[gnu::target("avx512f"), gnu::always_inline]] inline __mmask8 live8(size_t left) {
  return left >= 8 ? __mmask8(0xff) : __mmask8((1u << left) - 1);
}

// logit_rows under AVX-512F (binomial_logit's pieces): in three passes over the block (the exps
// into p, their log1ps into l, then p), so that many exp -> log1p -> division chains are in flight.
template <class T> [[gnu::target("avx512f")]] void logit_avx512(const T* eta, double* l, double* p, size_t n) {
  const Tab16 tab = load_tab16();
  const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
  for (size_t i = 0; i < n; i += 8) {
    const __mmask8 live = live8(n - i);
    _mm512_mask_storeu_pd(p + i, live, exp_neg_abs512(load8(eta + i, live), tab));
  }
  for (size_t i = 0; i < n; i += 8) {
    const __mmask8 live = live8(n - i);
    _mm512_mask_storeu_pd(l + i, live, log1p16_512(_mm512_maskz_loadu_pd(live, p + i), tab));
  }
  for (size_t i = 0; i < n; i += 8) {
    // p = (e >= 0 ? 1 : ea) / (1 + ea)
    const __mmask8 live = live8(n - i);
    const __m512d e = load8(eta + i, live), ea = _mm512_maskz_loadu_pd(live, p + i);
    const __m512d num = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(e, zero, _CMP_GE_OQ), ea, one);
    _mm512_mask_storeu_pd(p + i, live, _mm512_div_pd(num, _mm512_add_pd(one, ea)));
  }
}

// exp_rows under AVX-512F (poisson_log's rates).
template <class T> [[gnu::target("avx512f")]] void exp_avx512(const T* x, double* e, size_t n) {
  const Tab16 tab = load_tab16();
  for (size_t i = 0; i < n; i += 8) {
    const __mmask8 live = live8(n - i);
    _mm512_mask_storeu_pd(e + i, live, exp16_512(load8(x + i, live), tab));
  }
}

// bernoulli_logit_rows under AVX-512F in double: 500 rows (exmc-glm-bench BM_Rows, CPU time, AMD
// EPYC Zen 5, loaded machine): the generic AVX2 build 1.6 us; 64-entry tables as four
// permutations and Horner's chains 0.99 us; 16-entry tables in registers and short chains 0.70 us;
// minimax polynomials of degree 6 and 9 (were Taylor to r^7 and r^11) 0.59-0.62 us.
[[gnu::target("avx512f")]] void bernoulli_avx512_f64(const double* eta, const double* y, double* term, double* w,
                                                    size_t n) {
  const Tab16 tab = load_tab16();
  const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
  // In stages of 8 vectors (exps, then log1ps, then the rest), so that many of the long
  // exp -> log1p -> division chains are in flight at once.
  alignas(64) double eas[kStage], ls[kStage];
  for (size_t i0 = 0; i0 < n; i0 += kStage) {
    const size_t m = n - i0 < kStage ? n - i0 : kStage;
    for (size_t i = 0; i < m; i += 8)
      _mm512_store_pd(eas + i, exp_neg_abs512(_mm512_maskz_loadu_pd(live8(m - i), eta + i0 + i), tab));
    for (size_t i = 0; i < m; i += 8) _mm512_store_pd(ls + i, log1p16_512(_mm512_load_pd(eas + i), tab));
    for (size_t i = 0; i < m; i += 8) {
      // term = (y e - max(e, 0)) - l; w = y - (e >= 0 ? 1 : ea) / (1 + ea)
      const __mmask8 live = live8(m - i);
      const __m512d e = _mm512_maskz_loadu_pd(live, eta + i0 + i), yi = _mm512_maskz_loadu_pd(live, y + i0 + i);
      const __m512d ea = _mm512_load_pd(eas + i);
      const __m512d pos = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(e, zero, _CMP_GT_OQ), zero, e);
      const __m512d tm = _mm512_sub_pd(_mm512_sub_pd(_mm512_mul_pd(yi, e), pos), _mm512_load_pd(ls + i));
      const __m512d iv = _mm512_div_pd(one, _mm512_add_pd(one, ea));
      const __m512d num = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(e, zero, _CMP_GE_OQ), ea, one);
      _mm512_mask_storeu_pd(term + i0 + i, live, tm);
      _mm512_mask_storeu_pd(w + i0 + i, live, _mm512_sub_pd(yi, _mm512_mul_pd(num, iv)));
    }
  }
}

// The float rows keep 64-entry tables (fast::exp_in_range and log1p_unit in float): 16 floats are
// one register, so a 64-entry table is two permutations and a blend.
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512 lut64(const float* t, __m512i j) {
  const __m512 a = _mm512_permutex2var_ps(_mm512_loadu_ps(t), j, _mm512_loadu_ps(t + 16));
  const __m512 b = _mm512_permutex2var_ps(_mm512_loadu_ps(t + 32), j, _mm512_loadu_ps(t + 48));
  return _mm512_mask_blend_ps(_mm512_test_epi32_mask(j, _mm512_set1_epi32(32)), a, b);
}

[[gnu::target("avx512f")]] void bernoulli_avx512_f32(const float* eta, const float* y, float* term, float* w,
                                                    size_t n) {
  const auto& tab = fast::detail::kTables<float>;
  const __m512 shifter = _mm512_set1_ps(0x1.8p23f), one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  const __m512i sign = _mm512_set1_epi32(int32_t(0x80000000u));
  constexpr size_t kStageF = 128;  // 8 vectors, as in double
  alignas(64) float eas[kStageF], ls[kStageF];
  for (size_t i0 = 0; i0 < n; i0 += kStageF) {
    const size_t m = n - i0 < kStageF ? n - i0 : kStageF;
    for (size_t i = 0; i < m; i += 16) {
      const __mmask16 live = m - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (m - i)) - 1);
      const __m512 e = _mm512_maskz_loadu_ps(live, eta + i0 + i);
      const __m512 a = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(e), sign));
      const __mmask16 low = _mm512_cmp_ps_mask(a, _mm512_set1_ps(-87.0f), _CMP_LT_OQ);
      const __m512 am = _mm512_mask_blend_ps(low, a, _mm512_set1_ps(-87.0f));
      const __m512 t = _mm512_add_ps(_mm512_mul_ps(am, _mm512_set1_ps(0x1.715476p+6f)), shifter);
      const __m512 kd = _mm512_sub_ps(t, shifter);
      const __m512i k = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000));
      const __m512 r = _mm512_sub_ps(_mm512_sub_ps(am, _mm512_mul_ps(kd, _mm512_set1_ps(0x1.63p-7f))),
                                     _mm512_mul_ps(kd, _mm512_set1_ps(-0x1.bd0106p-19f)));
      __m512 p = _mm512_add_ps(_mm512_set1_ps(0.5f), _mm512_mul_ps(r, _mm512_set1_ps(1.0f / 6)));
      p = _mm512_add_ps(one, _mm512_mul_ps(r, p));
      p = _mm512_add_ps(one, _mm512_mul_ps(r, p));
      const __m512 scale = _mm512_castsi512_ps(
          _mm512_slli_epi32(_mm512_add_epi32(_mm512_srai_epi32(k, 6), _mm512_set1_epi32(127)), 23));
      const __m512i k63 = _mm512_and_si512(k, _mm512_set1_epi32(63));
      const __m512 ea = _mm512_mul_ps(_mm512_mul_ps(lut64(tab.exp2, k63), p), scale);
      _mm512_store_ps(eas + i, _mm512_mul_ps(ea, _mm512_mask_blend_ps(low, one, zero)));
    }
    for (size_t i = 0; i < m; i += 16) {
      const __m512 ea = _mm512_load_ps(eas + i);
      const __m512 tj = _mm512_add_ps(_mm512_mul_ps(ea, _mm512_set1_ps(64.0f)), shifter);
      const __m512 c = _mm512_mul_ps(_mm512_sub_ps(tj, shifter), _mm512_set1_ps(1.0f / 64));
      const __m512i j = _mm512_and_si512(_mm512_sub_epi32(_mm512_castps_si512(tj), _mm512_set1_epi32(0x4B400000)),
                                         _mm512_set1_epi32(127));
      const __mmask16 j64 = _mm512_cmp_epi32_mask(j, _mm512_set1_epi32(64), _MM_CMPINT_NLT);
      const __m512 inv = _mm512_mask_blend_ps(j64, lut64(tab.inv, j), _mm512_set1_ps(tab.inv[64]));
      const __m512 hi = _mm512_mask_blend_ps(j64, lut64(tab.log1p_hi, j), _mm512_set1_ps(tab.log1p_hi[64]));
      const __m512 lo = _mm512_mask_blend_ps(j64, lut64(tab.log1p_lo, j), _mm512_set1_ps(tab.log1p_lo[64]));
      const __m512 rr = _mm512_mul_ps(_mm512_sub_ps(ea, c), inv);
      __m512 q = _mm512_add_ps(_mm512_set1_ps(1.0f / 3), _mm512_mul_ps(rr, _mm512_set1_ps(-0.25f)));
      q = _mm512_add_ps(_mm512_set1_ps(-0.5f), _mm512_mul_ps(rr, q));
      q = _mm512_add_ps(one, _mm512_mul_ps(rr, q));
      q = _mm512_mul_ps(rr, q);
      _mm512_store_ps(ls + i, _mm512_add_ps(hi, _mm512_add_ps(lo, q)));
    }
    for (size_t i = 0; i < m; i += 16) {
      const __mmask16 live = m - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (m - i)) - 1);
      const __m512 e = _mm512_maskz_loadu_ps(live, eta + i0 + i), yi = _mm512_maskz_loadu_ps(live, y + i0 + i);
      const __m512 ea = _mm512_load_ps(eas + i);
      const __m512 pos = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(e, zero, _CMP_GT_OQ), zero, e);
      const __m512 tm = _mm512_sub_ps(_mm512_sub_ps(_mm512_mul_ps(yi, e), pos), _mm512_load_ps(ls + i));
      const __m512 iv = _mm512_div_ps(one, _mm512_add_ps(one, ea));
      const __m512 num = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(e, zero, _CMP_GE_OQ), ea, one);
      _mm512_mask_storeu_ps(term + i0 + i, live, tm);
      _mm512_mask_storeu_ps(w + i0 + i, live, _mm512_sub_ps(yi, _mm512_mul_ps(num, iv)));
    }
  }
}
void bernoulli_avx512(const double* eta, const double* y, double* term, double* w, size_t n) {
  bernoulli_avx512_f64(eta, y, term, w, n);
}
void bernoulli_avx512(const float* eta, const float* y, float* term, float* w, size_t n) {
  bernoulli_avx512_f32(eta, y, term, w, n);
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
