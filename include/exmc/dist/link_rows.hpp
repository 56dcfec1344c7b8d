// Per-element work of the log- and logit-link likelihoods over a block, for the fused paths of
// poisson_log and bernoulli_logit and for the bernoulli_logit_glm kernel (src/model/glm.cc):
// no calls and no branches (core/fast_math.hpp's inline exp and log1p, within 2 ulp of libm), so
// the compiler vectorises them. Each is built from one source for x86-64's baseline (SSE2), for
// AVX2 without FMA and (the arithmetic ones) for AVX-512F with fp-contract off, exp_rows,
// bernoulli_logit_rows and logit_rows there written out with intrinsics whose table reads are
// register permutations: the same operations in the same order on wider vectors, so the same bits
// (tested); callers take the widest the CPU has. Sums over the results are the caller's,
// in a fixed order.
#pragma once

#include <cstddef>

namespace exmc::dist::detail {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define EXMC_ROWS_AVX2 1
#else
#define EXMC_ROWS_AVX2 0
#endif
// kAvx512: AVX-512F, its multiplies and adds kept apart (no FMA), so again the same bits.
enum class RowsIsa { kBaseline, kAvx2, kAvx512 };
bool cpu_has_avx2();
bool cpu_has_avx512();
inline RowsIsa best_rows_isa() {
  static const RowsIsa isa =
      cpu_has_avx512() ? RowsIsa::kAvx512 : cpu_has_avx2() ? RowsIsa::kAvx2 : RowsIsa::kBaseline;
  return isa;
}

// e[i] = exp(x[i]) in double, for |x[i]| < 700 (the caller checks the range).
template <class T> void exp_rows(const T* x, double* e, size_t n, RowsIsa isa = best_rows_isa());

// Bernoulli with logit eta: term[i] = y[i] eta[i] - log(1 + e^eta[i]) and w[i] = y[i] -
// inv_logit(eta[i]) (d term / d eta), for y in {0, 1}; any finite eta.
template <class T>
void bernoulli_logit_rows(const T* eta, const T* y, T* term, T* w, size_t n, RowsIsa isa = best_rows_isa());

// The logistic link's pieces for counts out of N: l[i] = log(1 + e^-|eta[i]|) (so that
// log(1 + e^eta) = max(eta, 0) + l and log(1 + e^-eta) = max(-eta, 0) + l, both exact to l's
// precision) and p[i] = inv_logit(eta[i]), in double; any finite eta.
template <class T> void logit_rows(const T* eta, double* l, double* p, size_t n, RowsIsa isa = best_rows_isa());

// True when every y[i] is a non-negative integer (finite; -0 counts as 0): the outcomes of a
// count family, checked on every gradient.
template <class T> bool all_counts(const T* y, size_t n, RowsIsa isa = best_rows_isa());

// True when every x[i] is in (-700, 700), where exp_rows may be used (NaN is not).
template <class T> bool all_in_exp_range(const T* x, size_t n, RowsIsa isa = best_rows_isa());

// True when every y[i] is 0 or 1 (Bernoulli outcomes).
template <class T> bool all_binary(const T* y, size_t n, RowsIsa isa = best_rows_isa());

// True when every x[i] is finite (neither infinite nor NaN).
template <class T> bool all_finite(const T* x, size_t n, RowsIsa isa = best_rows_isa());

}  // namespace exmc::dist::detail
