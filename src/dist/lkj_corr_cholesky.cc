// lkj_corr_cholesky(L | eta): the LKJ prior on a correlation matrix, as a density of its
// Cholesky factor L (Stan's convention: includes the Jacobian of Omega = L L^T).
#include "lkj.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {

void lkj_cholesky_draw(double eta, size_t K, Rng& r, double* L) {
  for (size_t i = 0; i < K * K; ++i) L[i] = 0;
  // Entry (j, i) takes its partial correlation's share of what row j's unit norm has left.
  for (size_t i = 0; i < K; ++i) {
    double left_i = 1;
    for (size_t c = 0; c < i; ++c) left_i -= L[c * K + i] * L[c * K + i];
    L[i * K + i] = std::sqrt(std::max(0.0, left_i));
    const double a = eta + 0.5 * (double(K) - 2 - double(i));
    for (size_t j = i + 1; j < K; ++j) {
      double left_j = 1;
      for (size_t c = 0; c < i; ++c) left_j -= L[c * K + j] * L[c * K + j];
      L[i * K + j] = (2 * draw_beta(r, a, a) - 1) * std::sqrt(std::max(0.0, left_j));
    }
  }
}

namespace {
struct LkjCorrCholesky {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"L", "eta"};
  template <class T>
  static bool valid_factor(const T* L, size_t k) {
    const double tol = sizeof(T) == 4 ? 1e-4 : 1e-8;
    for (size_t i = 0; i < k; ++i) {
      double s = 0;
      for (size_t c = 0; c <= i; ++c) s += double(L[c * k + i]) * double(L[c * k + i]);
      for (size_t c = i + 1; c < k; ++c)
        if (L[c * k + i] != T(0)) return false;
      if (!(L[i * k + i] > 0) || !(std::fabs(s - 1.0) <= tol)) return false;
    }
    return true;
  }
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t k = a[0].rows;
    if (a[0].cols != k || a[0].size != k * k || a[1].size != 1) return -kInf;
    const double eta = double(a[1].val[0]);
    if (!check(Check::kPositive, eta) || !valid_factor(a[0].val, k)) return -kInf;
    if (propto && !a[0].is_param && !a[1].is_param) return 0.0;
    double lp = 0, slog = 0;
    for (size_t i = 1; i < k; ++i) {
      const double d = double(a[0].val[i * k + i]), ld = std::log(d), w = double(k - i - 1) + 2 * eta - 2;
      lp += w * ld;
      slog += ld;
      if (a[0].grad) a[0].grad[i * k + i] += T(w / d);
    }
    if (!propto || a[1].is_param) lp -= lkj_log_c(eta, k);
    if (a[1].grad) a[1].grad[0] += T(2 * slog - lkj_dlog_c(eta, k));
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[0].rows, n = a[0].size / (k * k);
    for (size_t j = 0; j < n; ++j) lkj_cholesky_draw(a[1].val[0], k, r, out + j * k * k);
  }
  static std::string validate(const Arg<double>* a) {
    const size_t k = a[0].rows;
    if (a[0].cols != k || a[0].size != k * k)
      return "L must be square, found " + std::to_string(a[0].rows) + " x " + std::to_string(a[0].cols);
    if (a[1].size != 1) return "eta must be a scalar, found length " + std::to_string(a[1].size);
    if (!a[1].is_param && !check(Check::kPositive, a[1].val[0])) return bad_value("eta", "positive", a[1].val[0], 0);
    if (!a[0].is_param && !valid_factor(a[0].val, k))
      return "L must be the Cholesky factor of a correlation matrix (lower triangular, positive diagonal, unit rows), "
             "found otherwise at index 1";
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(lkj_corr_cholesky, LkjCorrCholesky, Support::kCholeskyCorr, false, true)
}  // namespace exmc::dist::detail
