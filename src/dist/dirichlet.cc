// dirichlet(theta | alpha): a density on the K-simplex.
#include "samplers.hpp"
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Dirichlet {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"theta", "alpha"};
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t k = a[1].size;
    if (a[0].size != k || !is_simplex(a[0].val, k)) return -kInf;
    for (size_t j = 0; j < k; ++j)
      if (!(a[0].val[j] > 0) || !check(Check::kPositive, double(a[1].val[j]))) return -kInf;
    if (propto && !a[0].is_param && !a[1].is_param) return 0.0;
    double lp = 0, sa = 0;
    for (size_t j = 0; j < k; ++j) {
      const double th = double(a[0].val[j]), al = double(a[1].val[j]), lt = std::log(th);
      sa += al;
      lp += (al - 1.0) * lt;
      if (!propto || a[1].is_param) lp -= lgam(al);
      if (a[0].grad) a[0].grad[j] += T((al - 1.0) / th);
      if (a[1].grad) a[1].grad[j] += T(lt - digam(al));
    }
    if (!propto || a[1].is_param) lp += lgam(sa);
    if (a[1].grad) {
      const double ds = digam(sa);
      for (size_t j = 0; j < k; ++j) a[1].grad[j] += T(ds);
    }
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    // Logs of the gamma variates: small alphas underflow the gammas themselves.
    const size_t k = a[1].size;
    double m = -kInf;
    for (size_t j = 0; j < k; ++j) {
      const double al = a[1].val[j];
      out[j] = std::log(draw_gamma(r, al + 1.0)) + std::log(r.uniform()) / al;
      m = std::max(m, out[j]);
    }
    double s = 0;
    for (size_t j = 0; j < k; ++j) s += (out[j] = std::exp(out[j] - m));
    for (size_t j = 0; j < k; ++j) out[j] /= s;
  }
  static std::string validate(const Arg<double>* a) {
    if (a[0].size != a[1].size)
      return "theta has length " + std::to_string(a[0].size) + " but alpha has length " + std::to_string(a[1].size);
    if (!a[1].is_param)
      for (size_t j = 0; j < a[1].size; ++j)
        if (!check(Check::kPositive, a[1].val[j])) return bad_value("alpha", "positive and finite", a[1].val[j], j);
    if (!a[0].is_param && !is_simplex(a[0].val, a[0].size)) return simplex_message("theta", a[0].val, a[0].size);
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(dirichlet, Dirichlet, Support::kSimplex, false, true)
}  // namespace exmc::dist::detail
