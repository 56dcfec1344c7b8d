#include "exp_rows.hpp"

#include "exmc/core/fast_math.hpp"

namespace exmc::dist::detail {
namespace {

template <class T>
[[gnu::always_inline]] inline void body(const T* __restrict x, double* __restrict e, size_t n) {
  for (size_t i = 0; i < n; ++i) e[i] = fast::exp_in_range(double(x[i]));  // no calls, no branches
}
template <class T> void baseline(const T* x, double* e, size_t n) { body(x, e, n); }
#if EXMC_EXP_ROWS_AVX2
template <class T> [[gnu::target("avx2")]] void avx2(const T* x, double* e, size_t n) { body(x, e, n); }
#endif

}  // namespace

bool cpu_has_avx2() {
#if EXMC_EXP_ROWS_AVX2
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

template <class T> void exp_rows(const T* x, double* e, size_t n, RowsIsa isa) {
#if EXMC_EXP_ROWS_AVX2
  if (isa == RowsIsa::kAvx2) return avx2(x, e, n);
#endif
  (void)isa;
  baseline(x, e, n);
}
template void exp_rows(const double*, double*, size_t, RowsIsa);
template void exp_rows(const float*, double*, size_t, RowsIsa);

}  // namespace exmc::dist::detail
