// double_exponential(y | mu, sigma): the Laplace density.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct DoubleExponential {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "sigma"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double s = x[2], inv_s = 1.0 / s, d = x[0] - x[1], ad = std::fabs(d);
    const double sg = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
    double lp = -ad * inv_s;
    if (c.keep(4)) lp -= m.m[0](s, [](double v) { return std::log(v); });
    if (!c.propto) lp -= kLog2;
    g[0] = -sg * inv_s;
    g[1] = sg * inv_s;
    g[2] = (ad * inv_s - 1.0) * inv_s;
    return lp;
  }
  static double lcdf(const double* x, double* g) { return tail(x, g, 1.0); }
  static double lccdf(const double* x, double* g) { return tail(x, g, -1.0); }
  // sign = 1: F(y); -1: S(y) = F(2 mu - y). Below the centre the tail is 0.5 e^{-|z|}.
  static double tail(const double* x, double* g, double sign) {
    const double s = x[2], z = sign * (x[0] - x[1]) / s;
    double l, dz;
    if (z < 0) {
      l = -kLog2 + z;
      dz = 1.0;
    } else {
      const double e = 0.5 * std::exp(-z);
      l = std::log1p(-e);
      dz = e / (1.0 - e);
    }
    g[0] = sign * dz / s;
    g[1] = -g[0];
    g[2] = -z * dz / s;
    return l;
  }
  static double draw(const double* x, Rng& r) {
    const double e = r.exponential();
    return x[1] + (r.uniform() < 0.5 ? -e : e) * x[2];
  }
};
}  // namespace

EXMC_REGISTER_DIST(double_exponential, DoubleExponential, Support::kReal, false)
}  // namespace exmc::dist::detail
