// cauchy(y | mu, sigma): the Cauchy density.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Cauchy {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "sigma"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double s = x[2], inv_s = 1.0 / s, z = (x[0] - x[1]) * inv_s, q = 1.0 / (1.0 + z * z);
    double lp = -std::log1p(z * z);
    if (c.keep(4)) lp -= m.m[0](s, [](double v) { return std::log(v); });
    if (!c.propto) lp -= kLogPi;
    g[0] = -2.0 * z * q * inv_s;
    g[1] = -g[0];
    g[2] = (z * z - 1.0) * q * inv_s;
    return lp;
  }
  // F(z) = atan2(1, -z) / pi and 1 - F(z) = atan2(1, z) / pi keep precision in both tails.
  static double lcdf(const double* x, double* g) {
    const double z = (x[0] - x[1]) / x[2], F = std::atan2(1.0, -z) / kPi;
    const double q = 1.0 / (kPi * (1.0 + z * z) * F * x[2]);
    g[0] = q;
    g[1] = -q;
    g[2] = -z * q;
    return std::log(F);
  }
  static double lccdf(const double* x, double* g) {
    const double z = (x[0] - x[1]) / x[2], S = std::atan2(1.0, z) / kPi;
    const double q = 1.0 / (kPi * (1.0 + z * z) * S * x[2]);
    g[0] = -q;
    g[1] = q;
    g[2] = z * q;
    return std::log(S);
  }
  static double draw(const double* x, Rng& r) { return x[1] + x[2] * std::tan(kPi * (r.uniform() - 0.5)); }
};
}  // namespace

EXMC_REGISTER_DIST(cauchy, Cauchy, Support::kReal, false)
}  // namespace exmc::dist::detail
