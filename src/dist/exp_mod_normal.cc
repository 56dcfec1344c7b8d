// exp_mod_normal(y | mu, sigma, lambda): normal(mu, sigma) plus an exponential(lambda).
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct ExpModNormal {
  static constexpr int K = 4;
  static constexpr std::string_view names[K] = {"y", "mu", "sigma", "lambda"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], mu = x[1], s = x[2], l = x[3], d = y - mu, v = d / s - l * s;
    double lp = -l * d + 0.5 * l * l * s * s + log_Phi(v);
    if (c.keep(8)) lp += m.m[0](l, [](double t) { return std::log(t); });
    const double rr = dlog_Phi(v);
    g[0] = -l + rr / s;
    g[1] = -g[0];
    g[2] = l * l * s - rr * (d / (s * s) + l);
    g[3] = 1.0 / l - d + l * s * s - rr * s;
    return lp;
  }
  static double draw(const double* x, Rng& r) { return x[1] + x[2] * r.normal() + r.exponential() / x[3]; }
};
}  // namespace

EXMC_REGISTER_DIST(exp_mod_normal, ExpModNormal, Support::kReal, false)
}  // namespace exmc::dist::detail
