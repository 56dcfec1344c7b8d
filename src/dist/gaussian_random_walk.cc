// gaussian_random_walk(y | mu, sigma, init_mu, init_sigma): y[0] ~ normal(init_mu,
// init_sigma), y[t] ~ normal(y[t-1] + mu[t-1], sigma[t-1]); mu and sigma are scalars or have
// one entry per step (length T - 1).
#include "time_series.hpp"

namespace exmc::dist::detail {
namespace {
struct GaussianRandomWalk {
  static constexpr int K = 5;
  static constexpr std::string_view names[K] = {"y", "mu", "sigma", "init_mu", "init_sigma"};
  template <class T>
  static bool shapes_ok(const Arg<T>* a) {
    const size_t n = a[0].size, steps = n > 0 ? n - 1 : 0;
    return (a[1].size == 1 || a[1].size == steps) && (a[2].size == 1 || a[2].size == steps) && a[3].size == 1 &&
           a[4].size == 1;
  }
  template <class T>
  static double lpdf(const Arg<T>* a, bool propto) {
    const size_t n = a[0].size;
    if (n == 0) return 0.0;
    if (!shapes_ok(a)) return -kInf;
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(double(a[0].val[i]))) return -kInf;
    for (size_t i = 0; i < a[1].size; ++i)
      if (!std::isfinite(double(a[1].val[i]))) return -kInf;
    for (size_t i = 0; i < a[2].size; ++i)
      if (!check(Check::kPositive, double(a[2].val[i]))) return -kInf;
    if (!std::isfinite(double(a[3].val[0])) || !check(Check::kPositive, double(a[4].val[0]))) return -kInf;
    bool any = false;
    for (int k = 0; k < K; ++k) any = any || a[k].is_param;
    if (propto && !any) return 0.0;
    Step s0 = normal_step(double(a[0].val[0]), double(a[3].val[0]), double(a[4].val[0]), !propto || a[4].is_param);
    double lp = s0.lp;
    if (a[0].grad) a[0].grad[0] += T(s0.dy);
    if (a[3].grad) a[3].grad[0] += T(s0.dm);
    if (a[4].grad) a[4].grad[0] += T(s0.ds);
    const bool keep_s = !propto || a[2].is_param;
    const size_t sm = a[1].size == 1 ? 0 : 1, ss = a[2].size == 1 ? 0 : 1;
    double gmu = 0, gs = 0;
    for (size_t t = 1; t < n; ++t) {
      const double mu = double(a[1].val[(t - 1) * sm]), sg = double(a[2].val[(t - 1) * ss]);
      const Step st = normal_step(double(a[0].val[t]), double(a[0].val[t - 1]) + mu, sg, keep_s);
      lp += st.lp;
      if (a[0].grad) {
        a[0].grad[t] += T(st.dy);
        a[0].grad[t - 1] += T(st.dm);
      }
      if (a[1].grad) {
        if (sm) a[1].grad[t - 1] += T(st.dm);
        else gmu += st.dm;
      }
      if (a[2].grad) {
        if (ss) a[2].grad[t - 1] += T(st.ds);
        else gs += st.ds;
      }
    }
    if (a[1].grad && !sm) a[1].grad[0] += T(gmu);
    if (a[2].grad && !ss) a[2].grad[0] += T(gs);
    if (!propto) lp -= double(n) * kHalfLog2Pi;
    return lp;
  }
  static void rng(const Arg<double>* a, Rng& r, double* out) {
    const size_t n = a[0].size;
    if (n == 0) return;
    out[0] = a[3].val[0] + a[4].val[0] * r.normal();
    for (size_t t = 1; t < n; ++t)
      out[t] = out[t - 1] + a[1].val[a[1].size == 1 ? 0 : t - 1] + a[2].val[a[2].size == 1 ? 0 : t - 1] * r.normal();
  }
  static std::string validate(const Arg<double>* a) {
    if (!shapes_ok(a))
      return "mu and sigma must be scalars or have length " + std::to_string(a[0].size ? a[0].size - 1 : 0) +
             " (one per step of y), init_mu and init_sigma scalars; found lengths " + std::to_string(a[1].size) + ", " +
             std::to_string(a[2].size) + ", " + std::to_string(a[3].size) + ", " + std::to_string(a[4].size);
    for (int k = 0; k < K; ++k) {
      if (a[k].is_param) continue;
      const Check c = (k == 2 || k == 4) ? Check::kPositive : Check::kReal;
      for (size_t i = 0; i < a[k].size; ++i)
        if (!check(c, a[k].val[i])) return bad_value(names[k], check_text(c), a[k].val[i], i);
    }
    return "";
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(gaussian_random_walk, GaussianRandomWalk, Support::kRealVector, false, true)
}  // namespace exmc::dist::detail
