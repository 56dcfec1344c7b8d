// The Cholesky-factor core shared by multi_normal_cholesky and multi_normal: y is K x N
// (column-major, one observation per column), mu has K entries (shared by every column) or
// K x N, the factor L is K x K lower triangular.
#pragma once

#include <vector>

#include "univariate.hpp"

namespace exmc::dist::detail {

// Per-thread scratch that grows once and is then reused: the hot path allocates nothing.
inline double* mvn_scratch(size_t n) {
  thread_local std::vector<double> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Sum over columns of -0.5 |L^-1 (y_j - mu_j)|^2. When wanted, w_j = L^-T L^-1 r_j is
// passed to on_w(j, w, z) so callers form their own partials.
template <class T, class F>
double mvn_quad(const Arg<T>& y, const Arg<T>& mu, const double* L, size_t K, double* z, double* w, bool want_w,
                F&& on_w) {
  const size_t N = y.size / K;
  double q = 0;
  for (size_t j = 0; j < N; ++j) {
    const size_t mo = mu.size == K ? 0 : j * K;
    for (size_t i = 0; i < K; ++i) {
      double s = double(y.val[j * K + i]) - double(mu.val[mo + i]);
      for (size_t k = 0; k < i; ++k) s -= L[k * K + i] * z[k];
      z[i] = s / L[i * K + i];
      q += z[i] * z[i];
    }
    if (want_w) {
      for (size_t i = K; i-- > 0;) {
        double s = z[i];
        for (size_t k = i + 1; k < K; ++k) s -= L[i * K + k] * w[k];
        w[i] = s / L[i * K + i];
      }
      on_w(j, w, z);
    }
  }
  return -0.5 * q;
}

template <class T>
bool mvn_shapes_ok(const Arg<T>* a, size_t K) {
  return K > 0 && a[0].size % K == 0 && (a[1].size == K || a[1].size == a[0].size);
}

}  // namespace exmc::dist::detail
