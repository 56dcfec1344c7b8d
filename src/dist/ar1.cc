// ar1(y | alpha, rho, sigma, init_mu, init_sigma): y[0] ~ normal(init_mu, init_sigma),
// y[t] ~ normal(alpha + rho y[t-1], sigma); all parameters scalar.
#include "time_series.hpp"

namespace exmc::dist::detail {
namespace {
struct Ar1 {
  static constexpr int K = 6;
  static constexpr std::string_view names[K] = {"y", "alpha", "rho", "sigma", "init_mu", "init_sigma"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kReal, Check::kPositive, Check::kReal,
                                      Check::kPositive};
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t n = a[0].size;
    if (n == 0) return 0.0;
    for (int k = 1; k < K; ++k)
      if (a[k].size != 1 || !check(checks[k], double(a[k].val[0]))) return -kInf;
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(double(a[0].val[i]))) return -kInf;
    bool any = false;
    for (int k = 0; k < K; ++k) any = any || a[k].is_param;
    if (propto && !any) return 0.0;
    const double al = double(a[1].val[0]), rho = double(a[2].val[0]), sg = double(a[3].val[0]);
    const Step s0 = normal_step(double(a[0].val[0]), double(a[4].val[0]), double(a[5].val[0]), !propto || a[5].is_param);
    double lp = s0.lp;
    if (a[0].grad) a[0].grad[0] += T(s0.dy);
    if (a[4].grad) a[4].grad[0] += T(s0.dm);
    if (a[5].grad) a[5].grad[0] += T(s0.ds);
    const bool keep_s = !propto || a[3].is_param;
    double ga = 0, gr = 0, gs = 0;
    for (size_t t = 1; t < n; ++t) {
      const double prev = double(a[0].val[t - 1]);
      const Step st = normal_step(double(a[0].val[t]), al + rho * prev, sg, keep_s);
      lp += st.lp;
      if (a[0].grad) {
        a[0].grad[t] += T(st.dy);
        a[0].grad[t - 1] += T(rho * st.dm);
      }
      ga += st.dm;
      gr += prev * st.dm;
      gs += st.ds;
    }
    if (a[1].grad) a[1].grad[0] += T(ga);
    if (a[2].grad) a[2].grad[0] += T(gr);
    if (a[3].grad) a[3].grad[0] += T(gs);
    if (!propto) lp -= double(n) * kHalfLog2Pi;
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t n = a[0].size;
    if (n == 0) return;
    out[0] = a[4].val[0] + a[5].val[0] * r.normal();
    for (size_t t = 1; t < n; ++t) out[t] = a[1].val[0] + a[2].val[0] * out[t - 1] + a[3].val[0] * r.normal();
  }
  static std::string validate(const Arg<double>* a) {
    for (int k = 1; k < K; ++k)
      if (a[k].size != 1) return std::string(names[k]) + " must be a scalar, found length " + std::to_string(a[k].size);
    for (int k = 0; k < K; ++k) {
      if (a[k].is_param) continue;
      for (size_t i = 0; i < a[k].size; ++i)
        if (!check(checks[k], a[k].val[i])) return bad_value(names[k], check_text(checks[k]), a[k].val[i], i);
    }
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(ar1, Ar1, Support::kRealVector, false, true)
}  // namespace exmc::dist::detail
