// logistic(y | mu, sigma): the logistic density.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Logistic {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "sigma"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double s = x[2], inv_s = 1.0 / s, z = (x[0] - x[1]) * inv_s, a = std::fabs(z);
    double lp = -a - 2.0 * std::log1p(std::exp(-a));  // symmetric in z
    if (c.keep(4)) lp -= m.m[0](s, [](double v) { return std::log(v); });
    const double t = std::tanh(0.5 * z);
    g[0] = -t * inv_s;
    g[1] = t * inv_s;
    g[2] = (z * t - 1.0) * inv_s;
    return lp;
  }
  static double lcdf(const double* x, double* g) {
    const double z = (x[0] - x[1]) / x[2], q = inv_logit(-z) / x[2];
    g[0] = q;
    g[1] = -q;
    g[2] = -z * q;
    return -log1p_exp(-z);
  }
  static double lccdf(const double* x, double* g) {
    const double z = (x[0] - x[1]) / x[2], q = inv_logit(z) / x[2];
    g[0] = -q;
    g[1] = q;
    g[2] = z * q;
    return -log1p_exp(z);
  }
  static double draw(const double* x, Rng& r) {
    const double u = r.uniform();
    return x[1] + x[2] * (std::log(u) - std::log1p(-u));
  }
};
}  // namespace

EXMC_REGISTER_DIST(logistic, Logistic, Support::kReal, false)
}  // namespace exmc::dist::detail
