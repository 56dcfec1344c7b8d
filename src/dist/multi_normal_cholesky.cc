// multi_normal_cholesky(y | mu, L): multivariate normal with covariance L L^T.
#include "mvn.hpp"

namespace exmc::dist::detail {
namespace {
struct MultiNormalCholesky {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "L"};
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t k = a[2].rows;
    if (a[2].cols != k || a[2].size != k * k || !mvn_shapes_ok(a, k)) return -kInf;
    const size_t n = a[0].size / k;
    double* L = mvn_scratch(k * k + 2 * k);
    double *z = L + k * k, *w = z + k;
    for (size_t i = 0; i < k * k; ++i) {
      L[i] = double(a[2].val[i]);
      if (!std::isfinite(L[i])) return -kInf;
    }
    for (size_t i = 0; i < k; ++i)
      if (!(L[i * k + i] > 0)) return -kInf;
    for (size_t i = 0; i < a[0].size; ++i)
      if (!std::isfinite(double(a[0].val[i]))) return -kInf;
    for (size_t i = 0; i < a[1].size; ++i)
      if (!std::isfinite(double(a[1].val[i]))) return -kInf;
    if (propto && !a[0].is_param && !a[1].is_param && !a[2].is_param) return 0.0;
    const bool want = a[0].grad || a[1].grad || a[2].grad;
    double lp = mvn_quad(a[0], a[1], L, k, z, w, want, [&](size_t j, const double* wj, const double* zj) {
      if (a[0].grad)
        for (size_t i = 0; i < k; ++i) a[0].grad[j * k + i] -= T(wj[i]);
      if (a[1].grad) {
        const size_t mo = a[1].size == k ? 0 : j * k;
        for (size_t i = 0; i < k; ++i) a[1].grad[mo + i] += T(wj[i]);
      }
      if (a[2].grad)
        for (size_t c = 0; c < k; ++c)
          for (size_t r = c; r < k; ++r) a[2].grad[c * k + r] += T(wj[r] * zj[c]);
    });
    if (!propto || a[2].is_param) {
      double ld = 0;
      for (size_t i = 0; i < k; ++i) ld += std::log(L[i * k + i]);
      lp -= double(n) * ld;
    }
    if (a[2].grad)
      for (size_t i = 0; i < k; ++i) a[2].grad[i * k + i] -= T(double(n) / L[i * k + i]);
    if (!propto) lp -= double(n * k) * kHalfLog2Pi;
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[2].rows, n = a[0].size / k;
    for (size_t j = 0; j < n; ++j) {
      const size_t mo = a[1].size == k ? 0 : j * k;
      double* o = out + j * k;
      double* z = mvn_scratch(k);
      for (size_t i = 0; i < k; ++i) z[i] = r.normal();
      for (size_t i = 0; i < k; ++i) {
        double s = a[1].val[mo + i];
        for (size_t c = 0; c <= i; ++c) s += a[2].val[c * k + i] * z[c];
        o[i] = s;
      }
    }
  }
  static std::string validate(const Arg<double>* a) {
    const size_t k = a[2].rows;
    if (a[2].cols != k || a[2].size != k * k)
      return "L must be square, found " + std::to_string(a[2].rows) + " x " + std::to_string(a[2].cols);
    if (!mvn_shapes_ok(a, k))
      return "y and mu must have " + std::to_string(k) + " rows (L's size), found lengths " + std::to_string(a[0].size) +
             " and " + std::to_string(a[1].size);
    for (int m = 0; m < 2; ++m)
      if (std::string e = mvn_layout_error(a[m], k, names[m]); !e.empty()) return e;
    if (!a[2].is_param)
      for (size_t i = 0; i < k; ++i)
        if (!check(Check::kPositive, a[2].val[i * k + i]))
          return bad_value("L", "a Cholesky factor with a positive diagonal", a[2].val[i * k + i], i * k + i);
    for (int m = 0; m < 2; ++m)
      if (!a[m].is_param)
        for (size_t i = 0; i < a[m].size; ++i)
          if (!std::isfinite(a[m].val[i])) return bad_value(names[m], "finite", a[m].val[i], i);
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(multi_normal_cholesky, MultiNormalCholesky, Support::kRealVector, false, true)
}  // namespace exmc::dist::detail
