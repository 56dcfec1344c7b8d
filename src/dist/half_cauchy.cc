// half_cauchy(y | sigma): a cauchy(0, sigma) folded onto y >= 0.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct HalfCauchy {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"y", "sigma"};
  static constexpr Check checks[K] = {Check::kNonNeg, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double s = x[1], inv_s = 1.0 / s, z = x[0] * inv_s, q = 1.0 / (1.0 + z * z);
    double lp = -std::log1p(z * z);
    if (c.keep(2)) lp -= m.m[0](s, [](double v) { return std::log(v); });
    if (!c.propto) lp += kLog2 - kLogPi;
    g[0] = -2.0 * z * q * inv_s;
    g[1] = (z * z - 1.0) * q * inv_s;
    return lp;
  }
  // F = (2/pi) atan(y/sigma), S = (2/pi) atan(sigma/y) (exact complement for y > 0).
  static double lcdf(const double* x, double* g) {
    const double y = x[0], s = x[1], d = 2.0 / kPi / (s * s + y * y), f = 2.0 / kPi * std::atan(y / s);
    g[0] = d * s / f;
    g[1] = -d * y / f;
    return std::log(f);
  }
  static double lccdf(const double* x, double* g) {
    const double y = x[0], s = x[1], d = 2.0 / kPi / (s * s + y * y), q = 2.0 / kPi * std::atan(s / y);
    g[0] = -d * s / q;
    g[1] = d * y / q;
    return std::log(q);
  }
  static double draw(const double* x, Rng& r) { return x[1] * std::tan(0.5 * kPi * r.uniform()); }
};
}  // namespace

EXMC_REGISTER_DIST(half_cauchy, HalfCauchy, Support::kPositive, false)
}  // namespace exmc::dist::detail
