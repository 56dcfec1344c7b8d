// lognormal(y | mu, sigma): log(y) ~ normal(mu, sigma).
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Lognormal {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "sigma"};
  static constexpr Check checks[K] = {Check::kPositive, Check::kReal, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double ly = std::log(x[0]), s = x[2], inv_s = 1.0 / s, z = (ly - x[1]) * inv_s;
    double lp = -0.5 * z * z;
    if (c.keep(4)) lp -= m.m[0](s, [](double v) { return std::log(v); });
    if (c.keep(1)) lp -= ly;
    if (!c.propto) lp -= kHalfLog2Pi;
    g[0] = -(z * inv_s + 1.0) / x[0];
    g[1] = z * inv_s;
    g[2] = (z * z - 1.0) * inv_s;
    return lp;
  }
  static double lcdf(const double* x, double* g) {
    const double z = (std::log(x[0]) - x[1]) / x[2], r = dlog_Phi(z) / x[2];
    g[0] = r / x[0];
    g[1] = -r;
    g[2] = -z * r;
    return log_Phi(z);
  }
  static double lccdf(const double* x, double* g) {
    const double z = (std::log(x[0]) - x[1]) / x[2], r = dlog_Phi(-z) / x[2];
    g[0] = -r / x[0];
    g[1] = r;
    g[2] = z * r;
    return log_Phi(-z);
  }
  static double draw(const double* x, Rng& r) { return std::exp(x[1] + x[2] * r.normal()); }
};
}  // namespace

EXMC_REGISTER_DIST(lognormal, Lognormal, Support::kPositive, false)
}  // namespace exmc::dist::detail
