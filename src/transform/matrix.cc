// Matrix transforms: cholesky_factor_corr, cholesky_factor_cov, corr_matrix, cov_matrix.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "exmc/transform/guards.hpp"
#include "exmc/transform/kernels.hpp"
#include "util.hpp"

namespace exmc::transform {

using detail::num;

namespace {

constexpr double kLog2 = 0.693147180559945309417232121458176568;

// 1-based, as Stan (and exmc's data messages) name elements.
std::string at(size_t i, size_t j) { return "[" + std::to_string(i + 1) + "," + std::to_string(j + 1) + "]"; }

// Cholesky factor of a correlation matrix. Row i (i >= 1) has coordinates x_{i,0..i-1} at
// offset i(i-1)/2; with z = tanh(x), c = log(1 - z^2) and lw_j = sum_{m<j} c_m (the log of the
// squared length left in the row):  L_ij = z_j exp(lw_j / 2),  L_ii = exp(lw_i / 2),
//   log|J| = sum_j (c_j + lw_j / 2)   [+ (K-1-i) lw_i / 2 for the map on to L L^T].
template <class T> double chol_corr_forward(const T* x, size_t K, T* y, bool to_corr) {
  for (size_t i = 0; i < K * K; ++i) y[i] = 0;
  if (K == 0) return 0;
  y[0] = 1;
  double lj = 0;
  size_t k = 0;
  for (size_t i = 1; i < K; ++i) {
    T lw = 0;
    for (size_t j = 0; j < i; ++j, ++k) {
      const T c = log1m_tanh_sq(x[k]);
      y[i + K * j] = std::tanh(x[k]) * std::exp(T(0.5) * lw);
      lj += double(c) + 0.5 * lw;
      lw += c;
    }
    y[i + K * i] = std::exp(T(0.5) * lw);
    if (to_corr) lj += 0.5 * double(K - 1 - i) * lw;
  }
  return lj;
}

template <class T> void chol_corr_backward(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx,
                                           bool to_corr) {
  for (size_t i = 1; i < K; ++i) {
    const size_t base = i * (i - 1) / 2;
    T lw = 0;
    for (size_t j = 0; j < i; ++j) lw += log1m_tanh_sq(x[base + j]);
    // glw: gradient with respect to lw_{j+1} while visiting element j.
    T glw = T(0.5) * gy[i + K * i] * y[i + K * i] + (to_corr ? T(0.5 * glj * double(K - 1 - i)) : T(0));
    for (size_t j = i; j-- > 0;) {
      const T xv = x[base + j];
      const T c = log1m_tanh_sq(xv);
      lw -= c;
      const T gc = glw + T(glj);
      const T gz = gy[i + K * j] * std::exp(T(0.5) * lw);
      glw += T(0.5) * gy[i + K * j] * y[i + K * j] + T(0.5 * glj);
      gx[base + j] += gz * std::exp(c) - T(2) * std::tanh(xv) * gc;
    }
  }
}

template <class T> std::string check_lower_triangular(const T* y, size_t M, size_t N) {
  for (size_t j = 0; j < N; ++j)
    for (size_t i = 0; i < j && i < M; ++i)
      if (y[i + M * j] != T(0))
        return "not lower triangular: element " + at(i, j) + " is " + num(y[i + M * j]);
  return "";
}

// Plain Cholesky in double (validation only; not on a hot path).
bool cholesky(const std::vector<double>& A, size_t K, std::vector<double>* L) {
  L->assign(K * K, 0.0);
  for (size_t j = 0; j < K; ++j) {
    double d = A[j + K * j];
    for (size_t m = 0; m < j; ++m) d -= (*L)[j + K * m] * (*L)[j + K * m];
    if (!(d > 0)) return false;
    const double ljj = std::sqrt(d);
    (*L)[j + K * j] = ljj;
    for (size_t i = j + 1; i < K; ++i) {
      double s = A[i + K * j];
      for (size_t m = 0; m < j; ++m) s -= (*L)[i + K * m] * (*L)[j + K * m];
      (*L)[i + K * j] = s / ljj;
    }
  }
  return true;
}

template <class T> std::string check_symmetric(const T* y, size_t K) {
  for (size_t j = 0; j < K; ++j) {
    for (size_t i = 0; i < K; ++i) {
      if (!std::isfinite(y[i + K * j])) return "element " + at(i, j) + " is " + num(y[i + K * j]);
      const double a = y[i + K * j], b = y[j + K * i];
      if (std::fabs(a - b) > detail::constraint_tol<T>() * std::max(1.0, std::fabs(a)))
        return "not symmetric: element " + at(i, j) + " is " + num(a) + " but " + at(j, i) + " is " + num(b);
    }
  }
  return "";
}

// y = L L^T for a K x K lower-triangular L (column-major).
template <class T> void lower_outer(const T* L, size_t K, T* y) {
  for (size_t j = 0; j < K; ++j)
    for (size_t i = j; i < K; ++i) {
      T s = 0;
      for (size_t m = 0; m <= j; ++m) s += L[i + K * m] * L[j + K * m];
      y[i + K * j] = s;
      y[j + K * i] = s;
    }
}

// Gradient of <G, L L^T> with respect to the lower triangle of L: (G + G^T) L.
template <class T> void lower_outer_vjp(const T* L, const T* G, size_t K, T* gL) {
  for (size_t j = 0; j < K; ++j)
    for (size_t i = 0; i < K; ++i) {
      T s = 0;
      if (i >= j)
        for (size_t m = j; m < K; ++m) s += (G[i + K * m] + G[m + K * i]) * L[m + K * j];
      gL[i + K * j] = s;
    }
}

}  // namespace

template <class T> double cholesky_corr_constrain(const T* x, size_t K, T* y) {
  return chol_corr_forward(x, K, y, false);
}
template <class T> void cholesky_corr_vjp(const T* x, const T* y, const T* gy, double glj, size_t K, T* gx) {
  chol_corr_backward(x, y, gy, glj, K, gx, false);
}
template <class T> std::string cholesky_corr_unconstrain(const T* y, size_t K, T* x) {
  std::string e = check_lower_triangular(y, K, K);
  if (!e.empty()) return e;
  for (size_t i = 0; i < K; ++i) {
    // A zero diagonal is the closure: exp(lw/2) underflows once the row's earlier tanh are +-1.
    if (!(y[i + K * i] >= T(0))) return "diagonal element " + at(i, i) + " is " + num(y[i + K * i]) + ", negative";
    double ss = 0;
    for (size_t j = 0; j <= i; ++j) ss += double(y[i + K * j]) * y[i + K * j];
    if (!(std::fabs(ss - 1.0) <= detail::constraint_tol<T>()))
      return "row " + std::to_string(i + 1) + " has Euclidean norm " + num(std::sqrt(ss)) + ", not 1" +
             detail::tol_str(detail::constraint_tol<T>());
  }
  size_t k = 0;
  for (size_t i = 1; i < K; ++i) {
    for (size_t j = 0; j < i; ++j, ++k) {
      // tanh(x) = a / sqrt(a^2 + r^2) with r the length of the row after column j, so
      // sinh(x) = a / r and x = asinh(a / r): exact where tanh(x) rounds to +-1 (|x| > ~19),
      // where atanh(a / sqrt(a^2 + r^2)) is infinite. r is summed scaled: no underflow.
      double scale = 0, r2 = 0;
      for (size_t m = j + 1; m <= i; ++m) scale = std::max(scale, std::fabs(double(y[i + K * m])));
      if (scale > 0)
        for (size_t m = j + 1; m <= i; ++m) r2 += std::pow(double(y[i + K * m]) / scale, 2);
      const double a = y[i + K * j], r = scale * std::sqrt(r2);
      x[k] = a == 0 ? T(0) : detail::finite_edge(T(std::asinh(a / r)));
    }
  }
  return "";
}

// Cholesky factor of a covariance: rows i < N hold x_{i,0..i-1} then log L_ii (clamped) at offset
// i(i+1)/2; rows i >= N hold N free values.
template <class T> double cholesky_cov_constrain(const T* x, size_t M, size_t N, T* y) {
  for (size_t i = 0; i < M * N; ++i) y[i] = 0;
  double lj = 0;
  size_t k = 0;
  for (size_t i = 0; i < M; ++i) {
    const size_t ncol = i < N ? i : N;
    for (size_t j = 0; j < ncol; ++j) y[i + M * j] = x[k++];
    if (i < N) {
      y[i + M * i] = std::exp(clamp_log(x[k]));
      lj += clamp_log_jacobian(x[k++]);
    }
  }
  return lj;
}
template <class T> void cholesky_cov_vjp(const T* x, const T*, const T* gy, double glj, size_t M, size_t N, T* gx) {
  size_t k = 0;
  for (size_t i = 0; i < M; ++i) {
    const size_t ncol = i < N ? i : N;
    for (size_t j = 0; j < ncol; ++j) gx[k++] += gy[i + M * j];
    if (i < N) {
      gx[k] += clamp_log_deriv(x[k]) * gy[i + M * i] * std::exp(clamp_log(x[k])) +
               clamp_log_jacobian_deriv(x[k]) * T(glj);
      ++k;
    }
  }
}
template <class T> std::string cholesky_cov_unconstrain(const T* y, size_t M, size_t N, T* x) {
  std::string e = check_lower_triangular(y, M, N);
  if (!e.empty()) return e;
  size_t k = 0;
  for (size_t i = 0; i < M; ++i) {
    const size_t ncol = i < N ? i : N;
    for (size_t j = 0; j < ncol; ++j) {
      if (!std::isfinite(y[i + M * j])) return "element " + at(i, j) + " is " + num(y[i + M * j]);
      x[k++] = y[i + M * j];
    }
    if (i < N) {
      const T d = y[i + M * i];
      if (!(d > T(0)) || !std::isfinite(d)) return "diagonal element " + at(i, i) + " is " + num(d) + ", not positive";
      x[k++] = detail::log_to_edge(d);  // the forward map's clamp: no start beyond it
    }
  }
  return "";
}

// Correlation matrix L L^T; log|J| adds sum_i (K-1-i) log L_ii for the map L -> L L^T.
template <class T> double corr_matrix_constrain(const T* x, size_t K, T* y, T* work) {
  const double lj = chol_corr_forward(x, K, work, true);
  lower_outer(work, K, y);
  return lj;
}
template <class T> void corr_matrix_vjp(const T* x, const T*, const T* gy, double glj, size_t K, T* gx, T* work) {
  T* L = work;
  T* gL = work + K * K;
  chol_corr_forward(x, K, L, true);
  lower_outer_vjp(L, gy, K, gL);
  chol_corr_backward(x, L, gL, glj, K, gx, true);
}
template <class T> std::string corr_matrix_unconstrain(const T* y, size_t K, T* x) {
  std::string e = check_symmetric(y, K);
  if (!e.empty()) return e;
  for (size_t i = 0; i < K; ++i)
    if (!(std::fabs(double(y[i + K * i]) - 1.0) <= detail::constraint_tol<T>()))
      return "diagonal element " + at(i, i) + " is " + num(y[i + K * i]) + ", not 1" +
             detail::tol_str(detail::constraint_tol<T>());
  std::vector<double> A(y, y + K * K), L;
  if (!cholesky(A, K, &L)) return "not positive definite";
  // Renormalise rows so rounding in the factorisation cannot fail the unit-row check.
  std::vector<T> Lt(K * K);
  for (size_t i = 0; i < K; ++i) {
    double ss = 0;
    for (size_t j = 0; j <= i; ++j) ss += L[i + K * j] * L[i + K * j];
    for (size_t j = 0; j < K; ++j) Lt[i + K * j] = T(L[i + K * j] / std::sqrt(ss));
  }
  return cholesky_corr_unconstrain(Lt.data(), K, x);
}

// Covariance matrix L L^T with L's diagonal through exp; log|J| = K log 2 + sum_i (K-i+1) log L_ii.
template <class T> double cov_matrix_constrain(const T* x, size_t K, T* y, T* work) {
  double lj = cholesky_cov_constrain(x, K, K, work);
  lower_outer(work, K, y);
  lj += K * kLog2;
  for (size_t i = 0; i < K; ++i) lj += double(K - i) * clamp_log_jacobian(x[i * (i + 1) / 2 + i]);
  return lj;
}
template <class T> void cov_matrix_vjp(const T* x, const T*, const T* gy, double glj, size_t K, T* gx, T* work) {
  T* L = work;
  T* gL = work + K * K;
  cholesky_cov_constrain(x, K, K, L);
  lower_outer_vjp(L, gy, K, gL);
  cholesky_cov_vjp(x, L, gL, glj, K, K, gx);
  for (size_t i = 0; i < K; ++i) {
    const size_t d = i * (i + 1) / 2 + i;
    gx[d] += T(glj * double(K - i)) * clamp_log_jacobian_deriv(x[d]);
  }
}
template <class T> std::string cov_matrix_unconstrain(const T* y, size_t K, T* x) {
  std::string e = check_symmetric(y, K);
  if (!e.empty()) return e;
  std::vector<double> A(y, y + K * K), L;
  if (!cholesky(A, K, &L)) return "not positive definite";
  std::vector<T> Lt(L.begin(), L.end());
  return cholesky_cov_unconstrain(Lt.data(), K, K, x);
}

#define EXMC_INSTANTIATE(T)                                                                        \
  template double cholesky_corr_constrain<T>(const T*, size_t, T*);                              \
  template void cholesky_corr_vjp<T>(const T*, const T*, const T*, double, size_t, T*);          \
  template std::string cholesky_corr_unconstrain<T>(const T*, size_t, T*);                       \
  template double cholesky_cov_constrain<T>(const T*, size_t, size_t, T*);                       \
  template void cholesky_cov_vjp<T>(const T*, const T*, const T*, double, size_t, size_t, T*);   \
  template std::string cholesky_cov_unconstrain<T>(const T*, size_t, size_t, T*);                \
  template double corr_matrix_constrain<T>(const T*, size_t, T*, T*);                            \
  template void corr_matrix_vjp<T>(const T*, const T*, const T*, double, size_t, T*, T*);        \
  template std::string corr_matrix_unconstrain<T>(const T*, size_t, T*);                         \
  template double cov_matrix_constrain<T>(const T*, size_t, T*, T*);                             \
  template void cov_matrix_vjp<T>(const T*, const T*, const T*, double, size_t, T*, T*);         \
  template std::string cov_matrix_unconstrain<T>(const T*, size_t, T*);
EXMC_INSTANTIATE(float)
EXMC_INSTANTIATE(double)
#undef EXMC_INSTANTIATE

}  // namespace exmc::transform
