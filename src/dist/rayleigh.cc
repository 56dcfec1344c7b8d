// rayleigh(y | sigma): the Rayleigh density.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Rayleigh {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"y", "sigma"};
  static constexpr Check checks[K] = {Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], s = x[1], inv_s = 1.0 / s, z = y * inv_s;
    double lp = -0.5 * z * z;
    if (c.keep(2)) lp -= 2.0 * m.m[0](s, [](double v) { return std::log(v); });
    if (c.keep(1)) lp += std::log(y);
    g[0] = 1.0 / y - z * inv_s;
    g[1] = (z * z - 2.0) * inv_s;
    return lp;
  }
  // t = y^2 / (2 sigma^2): S = e^-t.
  static double lcdf(const double* x, double* g) {
    const double t = 0.5 * x[0] * x[0] / (x[1] * x[1]), dt = 1.0 / std::expm1(t);
    g[0] = dt * x[0] / (x[1] * x[1]);
    g[1] = -dt * 2 * t / x[1];
    return std::log(-std::expm1(-t));
  }
  static double lccdf(const double* x, double* g) {
    const double t = 0.5 * x[0] * x[0] / (x[1] * x[1]);
    g[0] = -x[0] / (x[1] * x[1]);
    g[1] = 2 * t / x[1];
    return -t;
  }
  static double draw(const double* x, Rng& r) { return x[1] * std::sqrt(2.0 * r.exponential()); }
};
}  // namespace

EXMC_REGISTER_DIST(rayleigh, Rayleigh, Support::kPositive, false)
}  // namespace exmc::dist::detail
