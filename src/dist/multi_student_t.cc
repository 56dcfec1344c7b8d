// multi_student_t(y | nu, mu, Sigma): multivariate Student t with scale matrix Sigma (read
// as (Sigma + Sigma^T) / 2); y is K x N, one observation per column.
#include "mvn.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct MultiStudentT {
  static constexpr int K = 4;
  static constexpr std::string_view names[K] = {"y", "nu", "mu", "Sigma"};
  template <class T>
  static bool shapes_ok(const Arg<T>* a, size_t k) {
    return k > 0 && a[3].cols == k && a[3].size == k * k && a[0].size % k == 0 && a[1].size == 1 &&
           (a[2].size == k || a[2].size == a[0].size);
  }
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t k = a[3].rows;
    if (!shapes_ok(a, k)) return -kInf;
    const size_t n = a[0].size / k;
    const double nu = double(a[1].val[0]);
    if (!check(Check::kPositive, nu)) return -kInf;
    double* L = mvn_scratch(2 * k * k + 4 * k);
    double *G = L + k * k, *r = G + k * k, *z = r + k, *w = z + k, *e = w + k;
    if (!cholesky_sym(a[3].val, L, k)) return -kInf;
    for (int m = 0; m < 3; m += 2)
      for (size_t i = 0; i < a[m].size; ++i)
        if (!std::isfinite(double(a[m].val[i]))) return -kInf;
    if (propto && !a[0].is_param && !a[1].is_param && !a[2].is_param && !a[3].is_param) return 0.0;
    const bool want = a[0].grad || a[2].grad || a[3].grad;
    const double nk = nu + double(k);
    if (a[3].grad) std::fill(G, G + k * k, 0.0);
    double lp = 0, gnu = 0;
    for (size_t j = 0; j < n; ++j) {
      const size_t mo = a[2].size == k ? 0 : j * k;
      for (size_t i = 0; i < k; ++i) r[i] = double(a[0].val[j * k + i]) - double(a[2].val[mo + i]);
      chol_solve(L, k, r, z, want ? w : nullptr);
      double q = 0;
      for (size_t i = 0; i < k; ++i) q += z[i] * z[i];
      const double l1 = std::log1p(q / nu);
      lp -= 0.5 * nk * l1;
      const double c = nk / (nu + q);
      if (a[1].grad) gnu += -0.5 * l1 + 0.5 * nk * q / (nu * (nu + q));
      if (a[0].grad)
        for (size_t i = 0; i < k; ++i) a[0].grad[j * k + i] -= T(c * w[i]);
      if (a[2].grad)
        for (size_t i = 0; i < k; ++i) a[2].grad[mo + i] += T(c * w[i]);
      if (a[3].grad)
        for (size_t cc = 0; cc < k; ++cc)
          for (size_t rr = 0; rr < k; ++rr) G[cc * k + rr] += 0.5 * c * w[rr] * w[cc];
    }
    if (!propto || a[1].is_param)
      lp += double(n) * (lgam(0.5 * nk) - lgam(0.5 * nu) - 0.5 * double(k) * std::log(nu));
    if (!propto) lp -= double(n) * 0.5 * double(k) * kLogPi;
    if (!propto || a[3].is_param) {
      double ld = 0;
      for (size_t i = 0; i < k; ++i) ld += std::log(L[i * k + i]);
      lp -= double(n) * ld;
    }
    if (a[1].grad)
      a[1].grad[0] += T(gnu + double(n) * 0.5 * (digam(0.5 * nk) - digam(0.5 * nu) - double(k) / nu));
    if (a[3].grad) {
      for (size_t c = 0; c < k; ++c) {
        for (size_t i = 0; i < k; ++i) e[i] = i == c ? 1.0 : 0.0;
        chol_solve(L, k, e, z, w);  // w = column c of Sigma^-1
        for (size_t rr = 0; rr < k; ++rr) a[3].grad[c * k + rr] += T(G[c * k + rr] - 0.5 * double(n) * w[rr]);
      }
    }
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[3].rows, n = a[0].size / k;
    double* L = mvn_scratch(k * k + k);
    double* z = L + k * k;
    cholesky_sym(a[3].val, L, k);
    const double nu = a[1].val[0];
    for (size_t j = 0; j < n; ++j) {
      const size_t mo = a[2].size == k ? 0 : j * k;
      const double scale = std::isinf(nu) ? 1.0 : std::sqrt(nu / draw_chi_square(r, nu));
      for (size_t i = 0; i < k; ++i) z[i] = r.normal();
      for (size_t i = 0; i < k; ++i) {
        double s = 0;
        for (size_t c = 0; c <= i; ++c) s += L[c * k + i] * z[c];
        out[j * k + i] = a[2].val[mo + i] + scale * s;
      }
    }
  }
  static std::string validate(const Arg<double>* a) {
    const size_t k = a[3].rows;
    if (!shapes_ok(a, k))
      return "Sigma must be K x K with y K x N, mu of length K or K x N and nu a scalar; found Sigma " +
             std::to_string(a[3].rows) + " x " + std::to_string(a[3].cols) + ", y length " + std::to_string(a[0].size) +
             ", mu length " + std::to_string(a[2].size);
    for (int m : {0, 2})
      if (std::string e = mvn_layout_error(a[m], k, m == 0 ? "y" : "mu"); !e.empty()) return e;
    if (!a[1].is_param && !check(Check::kPositive, a[1].val[0])) return bad_value("nu", "positive", a[1].val[0], 0);
    if (!a[3].is_param) {
      for (size_t c = 0; c < k; ++c)
        for (size_t r = 0; r < c; ++r)
          if (std::fabs(a[3].val[c * k + r] - a[3].val[r * k + c]) > 1e-8 * (1 + std::fabs(a[3].val[c * k + r])))
            return bad_value("Sigma", "symmetric", a[3].val[c * k + r], c * k + r);
      std::vector<double> L(k * k);
      if (!cholesky_sym(a[3].val, L.data(), k)) return "Sigma must be positive definite, found a non-positive pivot at index 1";
    }
    for (int m = 0; m < 3; m += 2)
      if (!a[m].is_param)
        for (size_t i = 0; i < a[m].size; ++i)
          if (!std::isfinite(a[m].val[i])) return bad_value(names[m], "finite", a[m].val[i], i);
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(multi_student_t, MultiStudentT, Support::kRealVector, false, true)
}  // namespace exmc::dist::detail
