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
  static double draw(const double* x, Rng& r) { return x[1] * std::tan(0.5 * kPi * r.uniform()); }
};
}  // namespace

EXMC_REGISTER_DIST(half_cauchy, HalfCauchy, Support::kPositive, false)
}  // namespace exmc::dist::detail
