// The LKJ normalising constant shared by lkj_corr_cholesky and lkj_corr (Lewandowski,
// Kurowicka and Joe 2009, eq. 16) and its derivative in eta.
#pragma once

#include "univariate.hpp"

namespace exmc::dist::detail {

// log c_K(eta) = sum_{k=1}^{K-1} [(2 eta - 2 + K - k)(K - k) log 2 + (K - k) lbeta(b_k, b_k)],
// b_k = eta + (K - k - 1) / 2; the density of a correlation matrix is det(Omega)^(eta-1) / c.
inline double lkj_log_c(double eta, size_t K) {
  double s = 0;
  for (size_t k = 1; k < K; ++k) {
    const double m = double(K - k), b = eta + 0.5 * (m - 1);
    s += (2 * eta - 2 + m) * m * kLog2 + m * (2 * lgam(b) - lgam(2 * b));
  }
  return s;
}
inline double lkj_dlog_c(double eta, size_t K) {
  double s = 0;
  for (size_t k = 1; k < K; ++k) {
    const double m = double(K - k), b = eta + 0.5 * (m - 1);
    s += 2 * m * kLog2 + 2 * m * (digam(b) - digam(2 * b));
  }
  return s;
}

// A draw of the Cholesky factor (column-major K x K) from canonical partial correlations:
// column i's are 2 Beta(a_i, a_i) - 1 with a_i = eta + (K - 2 - i) / 2.
void lkj_cholesky_draw(double eta, size_t K, Rng& r, double* L);

}  // namespace exmc::dist::detail
