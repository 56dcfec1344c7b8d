// normal(y | mu, sigma): the Gaussian density.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Normal {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "sigma"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double s = x[2], inv_s = 1.0 / s, z = (x[0] - x[1]) * inv_s;
    double lp = -0.5 * z * z;
    if (c.keep(4)) lp -= m.m[0](s, [](double v) { return std::log(v); });
    if (!c.propto) lp -= kHalfLog2Pi;
    g[0] = -z * inv_s;
    g[1] = z * inv_s;
    g[2] = (z * z - 1.0) * inv_s;
    return lp;
  }
  static double draw(const double* x, Rng& r) { return x[1] + x[2] * r.normal(); }
};
}  // namespace

EXMC_REGISTER_DIST(normal, Normal, Support::kReal, false)
}  // namespace exmc::dist::detail
