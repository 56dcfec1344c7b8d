// lkj_corr(Omega | eta): the LKJ density det(Omega)^(eta - 1) / c_K(eta) of a correlation
// matrix (read as (Omega + Omega^T) / 2).
#include "lkj.hpp"
#include "mvn.hpp"

namespace exmc::dist::detail {
namespace {
struct LkjCorr {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"Omega", "eta"};
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t k = a[0].rows;
    if (a[0].cols != k || a[0].size != k * k || a[1].size != 1) return -kInf;
    const double eta = double(a[1].val[0]), tol = sizeof(T) == 4 ? 1e-5 : 1e-10;
    if (!check(Check::kPositive, eta)) return -kInf;
    for (size_t i = 0; i < k; ++i)
      if (!(std::fabs(double(a[0].val[i * k + i]) - 1.0) <= tol)) return -kInf;
    double* L = mvn_scratch(2 * k * k + 2 * k);
    double *inv = L + k * k, *z = inv + k * k, *w = z + k;
    if (!cholesky_sym(a[0].val, L, k)) return -kInf;
    if (propto && !a[0].is_param && !a[1].is_param) return 0.0;
    const double ld = chol_logdet(L, k);
    double lp = (eta - 1.0) * ld;
    if (!propto || a[1].is_param) lp -= lkj_log_c(eta, k);
    if (a[0].grad) {
      chol_inverse(L, k, inv, z, w);
      for (size_t i = 0; i < k * k; ++i) a[0].grad[i] += T((eta - 1.0) * inv[i]);
    }
    if (a[1].grad) a[1].grad[0] += T(ld - lkj_dlog_c(eta, k));
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[0].rows, n = a[0].size / (k * k);
    double* L = mvn_scratch(k * k);
    for (size_t j = 0; j < n; ++j) {
      lkj_cholesky_draw(a[1].val[0], k, r, L);
      double* O = out + j * k * k;
      for (size_t c = 0; c < k; ++c)
        for (size_t rr = 0; rr < k; ++rr) {
          double s = 0;
          for (size_t p = 0; p <= std::min(c, rr); ++p) s += L[p * k + rr] * L[p * k + c];
          O[c * k + rr] = rr == c ? 1.0 : s;
        }
    }
  }
  static std::string validate(const Arg<double>* a) {
    const size_t k = a[0].rows;
    if (a[0].cols != k || a[0].size != k * k)
      return "Omega must be square, found " + std::to_string(a[0].rows) + " x " + std::to_string(a[0].cols);
    if (a[1].size != 1) return "eta must be a scalar, found length " + std::to_string(a[1].size);
    if (!a[1].is_param && !check(Check::kPositive, a[1].val[0])) return bad_value("eta", "positive", a[1].val[0], 0);
    if (!a[0].is_param) {
      for (size_t i = 0; i < k; ++i)
        if (std::fabs(a[0].val[i * k + i] - 1.0) > 1e-10)
          return bad_value("Omega", "a correlation matrix (unit diagonal)", a[0].val[i * k + i], i * k + i);
      const std::string m = check_symmetric("Omega", a[0].val, k);
      if (!m.empty()) return m;
    }
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(lkj_corr, LkjCorr, Support::kCorrMatrix, false, true)
}  // namespace exmc::dist::detail
