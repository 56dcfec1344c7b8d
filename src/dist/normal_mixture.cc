// normal_mixture(y | w, mu, sigma): each y[i] from a K-component normal mixture with weights
// w (a K-simplex), means mu and scales sigma (length K): Stan's log_mix over normal_lpdf
// terms, PyMC's NormalMixture, fused with analytic partials.
#include "mvn.hpp"

namespace exmc::dist::detail {
namespace {
struct NormalMixture {
  static constexpr int K = 4;
  static constexpr std::string_view names[K] = {"y", "w", "mu", "sigma"};
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t n = a[0].size, k = a[1].size;
    if (k == 0 || a[2].size != k || a[3].size != k || !is_simplex(a[1].val, k)) return -kInf;
    for (size_t j = 0; j < k; ++j)
      if (!std::isfinite(double(a[2].val[j])) || !check(Check::kPositive, double(a[3].val[j]))) return -kInf;
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(double(a[0].val[i]))) return -kInf;
    bool any = false;
    for (int m = 0; m < K; ++m) any = any || a[m].is_param;
    if (propto && !any) return 0.0;
    // Per component: log w - log sigma (the per-element part is added in the loop).
    double* base = mvn_scratch(2 * k);
    double* l = base + k;
    for (size_t j = 0; j < k; ++j) base[j] = std::log(double(a[1].val[j])) - std::log(double(a[3].val[j]));
    const bool gw = a[1].grad || a[2].grad || a[3].grad;
    double lp = 0;
    for (size_t i = 0; i < n; ++i) {
      const double y = double(a[0].val[i]);
      double m = -kInf;
      for (size_t j = 0; j < k; ++j) {
        const double z = (y - double(a[2].val[j])) / double(a[3].val[j]);
        l[j] = base[j] - 0.5 * z * z;
        m = std::max(m, l[j]);
      }
      double s = 0;
      for (size_t j = 0; j < k; ++j) s += std::exp(l[j] - m);
      const double lse = m + std::log(s);
      lp += lse;
      if (a[0].grad || gw) {
        double gy = 0;
        for (size_t j = 0; j < k; ++j) {
          const double r = std::exp(l[j] - lse), sj = double(a[3].val[j]);
          const double z = (y - double(a[2].val[j])) / sj;
          gy -= r * z / sj;
          if (a[1].grad) a[1].grad[j] += T(r / double(a[1].val[j]));
          if (a[2].grad) a[2].grad[j] += T(r * z / sj);
          if (a[3].grad) a[3].grad[j] += T(r * (z * z - 1.0) / sj);
        }
        if (a[0].grad) a[0].grad[i] += T(gy);
      }
    }
    if (!propto) lp -= double(n) * kHalfLog2Pi;
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t k = a[1].size;
    for (size_t i = 0; i < a[0].size; ++i) {
      double u = r.uniform();
      size_t j = 0;
      while (j + 1 < k && u > a[1].val[j]) u -= a[1].val[j++];
      out[i] = a[2].val[j] + a[3].val[j] * r.normal();
    }
  }
  static std::string validate(const Arg<double>* a) {
    const size_t k = a[1].size;
    if (a[2].size != k || a[3].size != k)
      return "mu and sigma must have the length of w (" + std::to_string(k) + "), found " + std::to_string(a[2].size) +
             " and " + std::to_string(a[3].size);
    if (!a[1].is_param && !is_simplex(a[1].val, k)) return simplex_message("w", a[1].val, k);
    for (int m = 0; m < K; ++m) {
      if (a[m].is_param || m == 1) continue;
      const Check c = m == 3 ? Check::kPositive : Check::kReal;
      for (size_t i = 0; i < a[m].size; ++i)
        if (!check(c, a[m].val[i])) return bad_value(names[m], check_text(c), a[m].val[i], i);
    }
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(normal_mixture, NormalMixture, Support::kReal, false, false)
}  // namespace exmc::dist::detail
