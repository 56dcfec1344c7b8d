// multi_normal(y | mu, Sigma): multivariate normal; Sigma is read as (Sigma + Sigma^T) / 2 so
// every entry's partial is that of the symmetric matrix function.
#include "mvn.hpp"

namespace exmc::dist::detail {
namespace {
struct MultiNormal {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "Sigma"};

  // In-place lower Cholesky factor of the symmetrised S (k x k); false unless positive definite.
  static bool cholesky(double* L, size_t k) {
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

  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t k = a[2].rows;
    if (a[2].cols != k || a[2].size != k * k || !mvn_shapes_ok(a, k)) return -kInf;
    const size_t n = a[0].size / k;
    double* L = mvn_scratch(2 * k * k + 3 * k);
    double *Si = L + k * k, *z = Si + k * k, *w = z + k, *e = w + k;
    for (size_t c = 0; c < k; ++c)
      for (size_t r = 0; r < k; ++r) {
        L[c * k + r] = 0.5 * (double(a[2].val[c * k + r]) + double(a[2].val[r * k + c]));
        if (!std::isfinite(L[c * k + r])) return -kInf;
      }
    if (!cholesky(L, k)) return -kInf;
    for (size_t i = 0; i < a[0].size; ++i)
      if (!std::isfinite(double(a[0].val[i]))) return -kInf;
    for (size_t i = 0; i < a[1].size; ++i)
      if (!std::isfinite(double(a[1].val[i]))) return -kInf;
    if (propto && !a[0].is_param && !a[1].is_param && !a[2].is_param) return 0.0;
    const bool want = a[0].grad || a[1].grad || a[2].grad;
    // d/dSigma = 0.5 (sum_j w_j w_j^T - N Sigma^-1), accumulated in Si.
    if (a[2].grad) std::fill(Si, Si + k * k, 0.0);
    double lp = mvn_quad(a[0], a[1], L, k, z, w, want, [&](size_t j, const double* wj, const double*) {
      if (a[0].grad)
        for (size_t i = 0; i < k; ++i) a[0].grad[j * k + i] -= T(wj[i]);
      if (a[1].grad) {
        const size_t mo = a[1].size == k ? 0 : j * k;
        for (size_t i = 0; i < k; ++i) a[1].grad[mo + i] += T(wj[i]);
      }
      if (a[2].grad)
        for (size_t c = 0; c < k; ++c)
          for (size_t r = 0; r < k; ++r) Si[c * k + r] += 0.5 * wj[r] * wj[c];
    });
    if (!propto || a[2].is_param) {
      double ld = 0;
      for (size_t i = 0; i < k; ++i) ld += std::log(L[i * k + i]);
      lp -= double(n) * ld;
    }
    if (a[2].grad) {
      // Columns of Sigma^-1 by two triangular solves of unit vectors.
      for (size_t c = 0; c < k; ++c) {
        for (size_t i = 0; i < k; ++i) {
          double s = i == c ? 1.0 : 0.0;
          for (size_t p = 0; p < i; ++p) s -= L[p * k + i] * e[p];
          e[i] = s / L[i * k + i];
        }
        for (size_t i = k; i-- > 0;) {
          double s = e[i];
          for (size_t p = i + 1; p < k; ++p) s -= L[i * k + p] * w[p];
          w[i] = s / L[i * k + i];
        }
        for (size_t r = 0; r < k; ++r) a[2].grad[c * k + r] += T(Si[c * k + r] - 0.5 * double(n) * w[r]);
      }
    }
    if (!propto) lp -= double(n * k) * kHalfLog2Pi;
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[2].rows, n = a[0].size / k;
    double* L = mvn_scratch(k * k + k);
    double* z = L + k * k;
    for (size_t c = 0; c < k; ++c)
      for (size_t rr = 0; rr < k; ++rr) L[c * k + rr] = 0.5 * (a[2].val[c * k + rr] + a[2].val[rr * k + c]);
    cholesky(L, k);
    for (size_t j = 0; j < n; ++j) {
      const size_t mo = a[1].size == k ? 0 : j * k;
      for (size_t i = 0; i < k; ++i) z[i] = r.normal();
      for (size_t i = 0; i < k; ++i) {
        double s = a[1].val[mo + i];
        for (size_t c = 0; c <= i; ++c) s += L[c * k + i] * z[c];
        out[j * k + i] = s;
      }
    }
  }
  static std::string validate(const Arg<double>* a) {
    const size_t k = a[2].rows;
    if (a[2].cols != k || a[2].size != k * k)
      return "Sigma must be square, found " + std::to_string(a[2].rows) + " x " + std::to_string(a[2].cols);
    if (!mvn_shapes_ok(a, k))
      return "y and mu must have " + std::to_string(k) + " rows (Sigma's size), found lengths " +
             std::to_string(a[0].size) + " and " + std::to_string(a[1].size);
    for (int m = 0; m < 2; ++m)
      if (std::string e = mvn_layout_error(a[m], k, names[m]); !e.empty()) return e;
    if (!a[2].is_param) {
      for (size_t c = 0; c < k; ++c)
        for (size_t r = 0; r < c; ++r)
          if (std::fabs(a[2].val[c * k + r] - a[2].val[r * k + c]) > 1e-8 * (1 + std::fabs(a[2].val[c * k + r])))
            return bad_value("Sigma", "symmetric", a[2].val[c * k + r], c * k + r);
      std::vector<double> L(a[2].val, a[2].val + k * k);
      if (!cholesky(L.data(), k)) return "Sigma must be positive definite, found a non-positive pivot at index 1";
    }
    for (int m = 0; m < 2; ++m)
      if (!a[m].is_param)
        for (size_t i = 0; i < a[m].size; ++i)
          if (!std::isfinite(a[m].val[i])) return bad_value(names[m], "finite", a[m].val[i], i);
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(multi_normal, MultiNormal, Support::kRealVector, false, true)
}  // namespace exmc::dist::detail
