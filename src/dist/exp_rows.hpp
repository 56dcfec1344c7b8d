// exp of a block of values for the log-link families' fused paths (poisson_log's): the inline
// exp of core/fast_math.hpp (within 2 ulp of libm) over a block, built twice from one source,
// for x86-64's baseline (SSE2) and for AVX2 without FMA: the same operations on wider vectors,
// so the same bits (tested); exp_rows takes AVX2's where the CPU has it.
#pragma once

#include <cstddef>

namespace exmc::dist::detail {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define EXMC_EXP_ROWS_AVX2 1
#else
#define EXMC_EXP_ROWS_AVX2 0
#endif
enum class RowsIsa { kBaseline, kAvx2 };
bool cpu_has_avx2();
inline RowsIsa best_rows_isa() {
  static const RowsIsa isa = cpu_has_avx2() ? RowsIsa::kAvx2 : RowsIsa::kBaseline;
  return isa;
}

// e[i] = exp(x[i]) in double for |x[i]| < 700 (the caller checks the range).
template <class T> void exp_rows(const T* x, double* e, size_t n, RowsIsa isa = best_rows_isa());

}  // namespace exmc::dist::detail
