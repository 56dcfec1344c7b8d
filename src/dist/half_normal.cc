// half_normal(y | sigma): PyMC's HalfNormal, a normal(0, sigma) folded onto y >= 0.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct HalfNormal {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"y", "sigma"};
  static constexpr Check checks[K] = {Check::kNonNeg, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double s = x[1], inv_s = 1.0 / s, z = x[0] * inv_s;
    double lp = -0.5 * z * z;
    if (c.keep(2)) lp -= m.m[0](s, [](double v) { return std::log(v); });
    if (!c.propto) lp += kLog2 - kHalfLog2Pi;
    g[0] = -z * inv_s;
    g[1] = (z * z - 1.0) * inv_s;
    return lp;
  }
  // F = 1 - 2 Phi(-z) = erf(z / sqrt 2), S = 2 Phi(-z); erf keeps F's digits for small z.
  static double lcdf(const double* x, double* g) {
    const double z = x[0] / x[1];
    const double lf = z < 1 ? std::log(exmc::math::erf(z * 0.70710678118654752440))
                            : std::log(-std::expm1(kLog2 + log_Phi(-z)));
    const double r = std::exp(kLog2 - kHalfLog2Pi - 0.5 * z * z - lf) / x[1];
    g[0] = r;
    g[1] = -z * r;
    return lf;
  }
  static double lccdf(const double* x, double* g) {
    const double z = x[0] / x[1], r = dlog_Phi(-z) / x[1];
    g[0] = -r;
    g[1] = z * r;
    return kLog2 + log_Phi(-z);
  }
  static double draw(const double* x, Rng& r) { return x[1] * std::fabs(r.normal()); }
};
}  // namespace

EXMC_REGISTER_DIST(half_normal, HalfNormal, Support::kPositive, false)
}  // namespace exmc::dist::detail
