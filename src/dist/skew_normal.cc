// skew_normal(y | xi, omega, alpha): Azzalini's skew normal.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct SkewNormal {
  static constexpr int K = 4;
  static constexpr std::string_view names[K] = {"y", "xi", "omega", "alpha"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kPositive, Check::kReal};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double w = x[2], inv_w = 1.0 / w, z = (x[0] - x[1]) * inv_w, a = x[3];
    double lp = -0.5 * z * z + log_Phi(a * z);
    if (c.keep(4)) lp -= m.m[0](w, [](double v) { return std::log(v); });
    if (!c.propto) lp += kLog2 - kHalfLog2Pi;
    const double rr = dlog_Phi(a * z);
    g[0] = (a * rr - z) * inv_w;
    g[1] = -g[0];
    g[2] = (z * z - 1.0 - a * z * rr) * inv_w;
    g[3] = z * rr;
    return lp;
  }
  static double draw(const double* x, Rng& r) {
    const double d = x[3] / std::sqrt(1.0 + x[3] * x[3]);
    const double u0 = r.normal(), v = r.normal();
    const double u1 = d * u0 + std::sqrt(1.0 - d * d) * v;
    return x[1] + x[2] * (u0 >= 0 ? u1 : -u1);
  }
};
}  // namespace

EXMC_REGISTER_DIST(skew_normal, SkewNormal, Support::kReal, false)
}  // namespace exmc::dist::detail
