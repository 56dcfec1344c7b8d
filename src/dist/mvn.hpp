// The Cholesky-factor core shared by multi_normal_cholesky and multi_normal: y is K x N
// (column-major, one observation per column), mu has K entries (shared by every column) or
// K x N, the factor L is K x K lower triangular.
#pragma once

#include <string>
#include <string_view>
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

// Lower Cholesky factor of the symmetrised (S + S^T) / 2 into L (k x k, column-major);
// false unless positive definite and finite.
template <class T>
bool cholesky_sym(const T* S, double* L, size_t k) {
  for (size_t c = 0; c < k; ++c)
    for (size_t r = 0; r < k; ++r) {
      L[c * k + r] = 0.5 * (double(S[c * k + r]) + double(S[r * k + c]));
      if (!std::isfinite(L[c * k + r])) return false;
    }
  for (size_t c = 0; c < k; ++c) {
    for (size_t r = c; r < k; ++r) {
      double s = L[c * k + r];
      for (size_t p = 0; p < c; ++p) s -= L[p * k + r] * L[p * k + c];
      if (r == c) {
        if (!(s > 0)) return false;
        L[c * k + c] = std::sqrt(s);
      } else {
        L[c * k + r] = s / L[c * k + c];
      }
    }
  }
  return true;
}

// z = L^-1 r (forward) and, if w, w = L^-T z (backward).
inline void chol_solve(const double* L, size_t k, const double* r, double* z, double* w) {
  for (size_t i = 0; i < k; ++i) {
    double s = r[i];
    for (size_t p = 0; p < i; ++p) s -= L[p * k + i] * z[p];
    z[i] = s / L[i * k + i];
  }
  if (!w) return;
  for (size_t i = k; i-- > 0;) {
    double s = z[i];
    for (size_t p = i + 1; p < k; ++p) s -= L[i * k + p] * w[p];
    w[i] = s / L[i * k + i];
  }
}

template <class T>
bool mvn_shapes_ok(const Arg<T>* a, size_t K) {
  return K > 0 && a[0].size % K == 0 && (a[1].size == K || a[1].size == a[0].size);
}

// The kernels read vectors as consecutive blocks of K values: the columns of a K x N matrix. An
// N x K matrix (one vector per row, as a data frame is laid out) has as many values and would be
// read as other vectors without a word, so a matrix argument must have K rows.
inline std::string mvn_layout_error(const Arg<double>& a, size_t K, std::string_view name) {
  if (a.cols <= 1 || a.rows == K) return "";
  return std::string(name) + " is a " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
         " matrix, but its vectors (of length " + std::to_string(K) +
         ") are read from its columns: give it as a K x N matrix, one vector per column";
}

}  // namespace exmc::dist::detail

namespace exmc::dist::detail {

// log det of L L^T.
inline double chol_logdet(const double* L, size_t k) {
  double s = 0;
  for (size_t i = 0; i < k; ++i) s += std::log(L[i * k + i]);
  return 2 * s;
}

// (L L^T)^-1 into out (k x k); z, w are k-length scratch.
inline void chol_inverse(const double* L, size_t k, double* out, double* z, double* w) {
  for (size_t c = 0; c < k; ++c) {
    for (size_t i = 0; i < k; ++i) w[i] = i == c ? 1.0 : 0.0;
    chol_solve(L, k, w, z, out + c * k);
  }
}

// log of the multivariate gamma function Gamma_k(x).
inline double lmgamma(size_t k, double x) {
  double s = 0.25 * double(k) * double(k - 1) * kLogPi;
  for (size_t j = 1; j <= k; ++j) s += lgam(x + 0.5 * (1.0 - double(j)));
  return s;
}
inline double dlmgamma(size_t k, double x) {
  double s = 0;
  for (size_t j = 1; j <= k; ++j) s += digam(x + 0.5 * (1.0 - double(j)));
  return s;
}

// Symmetry of a data matrix within 1e-8 (relative), for validate().
inline std::string check_symmetric(std::string_view name, const double* S, size_t k) {
  for (size_t c = 0; c < k; ++c)
    for (size_t r = 0; r < c; ++r)
      if (std::fabs(S[c * k + r] - S[r * k + c]) > 1e-8 * (1 + std::fabs(S[c * k + r])))
        return bad_value(name, "symmetric", S[c * k + r], c * k + r);
  std::vector<double> L(k * k);
  if (!cholesky_sym(S, L.data(), k))
    return std::string(name) + " must be positive definite, found a non-positive pivot at index 1";
  return "";
}

}  // namespace exmc::dist::detail
