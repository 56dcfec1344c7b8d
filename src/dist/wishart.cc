// wishart(W | nu, S): the Wishart density of a K x K covariance matrix with nu degrees of
// freedom and scale S (both matrices read as their symmetric parts).
#include "mvn.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {

// Bartlett: W = L A A^T L^T with S = L L^T, A lower with A_ii^2 ~ chi_square(nu - i).
void wishart_draw(double nu, const double* S, size_t k, Rng& r, double* W, double* scratch) {
  double *L = scratch, *A = L + k * k, *B = A + k * k;
  cholesky_sym(S, L, k);
  for (size_t c = 0; c < k; ++c)
    for (size_t rr = 0; rr < k; ++rr)
      A[c * k + rr] = rr == c ? std::sqrt(draw_chi_square(r, nu - double(c))) : (rr > c ? r.normal() : 0.0);
  for (size_t c = 0; c < k; ++c)  // B = L A
    for (size_t rr = 0; rr < k; ++rr) {
      double s = 0;
      for (size_t p = c; p <= rr; ++p) s += L[p * k + rr] * A[c * k + p];
      B[c * k + rr] = s;
    }
  for (size_t c = 0; c < k; ++c)
    for (size_t rr = 0; rr < k; ++rr) {
      double s = 0;
      for (size_t p = 0; p < k; ++p) s += B[p * k + rr] * B[p * k + c];
      W[c * k + rr] = s;
    }
}

namespace {
struct Wishart {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"W", "nu", "S"};
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t k = a[0].rows;
    if (a[0].cols != k || a[0].size != k * k || a[2].size != k * k || a[1].size != 1) return -kInf;
    const double nu = double(a[1].val[0]);
    if (!(nu > double(k) - 1) || !std::isfinite(nu)) return -kInf;
    double* Lw = mvn_scratch(4 * k * k + 2 * k);
    double *Ls = Lw + k * k, *Wi = Ls + k * k, *Si = Wi + k * k, *z = Si + k * k, *w = z + k;
    if (!cholesky_sym(a[0].val, Lw, k) || !cholesky_sym(a[2].val, Ls, k)) return -kInf;
    if (propto && !a[0].is_param && !a[1].is_param && !a[2].is_param) return 0.0;
    const double ldw = chol_logdet(Lw, k), lds = chol_logdet(Ls, k);
    chol_inverse(Ls, k, Si, z, w);
    double tr = 0;  // tr(S^-1 W) with W symmetrised
    for (size_t c = 0; c < k; ++c)
      for (size_t rr = 0; rr < k; ++rr) tr += Si[c * k + rr] * 0.5 * (double(a[0].val[rr * k + c]) + double(a[0].val[c * k + rr]));
    double lp = -0.5 * tr;
    if (!propto || a[0].is_param || a[1].is_param) lp += 0.5 * (nu - double(k) - 1) * ldw;
    if (!propto || a[1].is_param) lp -= 0.5 * nu * double(k) * kLog2 + lmgamma(k, 0.5 * nu);
    if (!propto || a[1].is_param || a[2].is_param) lp -= 0.5 * nu * lds;
    if (a[0].grad) {
      chol_inverse(Lw, k, Wi, z, w);
      for (size_t i = 0; i < k * k; ++i) a[0].grad[i] += T(0.5 * (nu - double(k) - 1) * Wi[i] - 0.5 * Si[i]);
    }
    if (a[1].grad) a[1].grad[0] += T(0.5 * (ldw - double(k) * kLog2 - lds - dlmgamma(k, 0.5 * nu)));
    if (a[2].grad) {
      // 0.5 (S^-1 W S^-1 - nu S^-1), with M = S^-1 W_sym built column by column.
      for (size_t c = 0; c < k; ++c)
        for (size_t rr = 0; rr < k; ++rr) {
          double s = 0;
          for (size_t p = 0; p < k; ++p)
            for (size_t q = 0; q < k; ++q)
              s += Si[p * k + rr] * 0.5 * (double(a[0].val[q * k + p]) + double(a[0].val[p * k + q])) * Si[c * k + q];
          a[2].grad[c * k + rr] += T(0.5 * (s - nu * Si[c * k + rr]));
        }
    }
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[0].rows;
    double* scratch = mvn_scratch(3 * k * k);
    wishart_draw(a[1].val[0], a[2].val, k, r, out, scratch);
  }
  static std::string validate(const Arg<double>* a) {
    const size_t k = a[0].rows;
    if (a[0].cols != k || a[0].size != k * k || a[2].size != k * k)
      return "W and S must both be K x K, found W " + std::to_string(a[0].rows) + " x " + std::to_string(a[0].cols) +
             " and S of size " + std::to_string(a[2].size);
    if (a[1].size != 1) return "nu must be a scalar, found length " + std::to_string(a[1].size);
    if (!a[1].is_param && !(a[1].val[0] > double(k) - 1 && std::isfinite(a[1].val[0])))
      return bad_value("nu", "greater than K - 1 = " + std::to_string(k - 1), a[1].val[0], 0);
    for (int m = 0; m < 3; m += 2)
      if (!a[m].is_param) {
        const std::string msg = check_symmetric(names[m], a[m].val, k);
        if (!msg.empty()) return msg;
      }
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(wishart, Wishart, Support::kCovMatrix, false, true)
}  // namespace exmc::dist::detail
