// gumbel(y | mu, beta): the (maximum) Gumbel density.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Gumbel {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "beta"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double b = x[2], inv_b = 1.0 / b, z = (x[0] - x[1]) * inv_b, e = std::exp(-z);
    double lp = -z - e;
    if (c.keep(4)) lp -= m.m[0](b, [](double v) { return std::log(v); });
    g[0] = (e - 1.0) * inv_b;
    g[1] = -g[0];
    g[2] = (z - 1.0 - z * e) * inv_b;
    return lp;
  }
  static double lcdf(const double* x, double* g) {
    const double z = (x[0] - x[1]) / x[2], e = std::exp(-z), q = e / x[2];
    g[0] = q;
    g[1] = -q;
    g[2] = -z * q;
    return -e;
  }
  static double lccdf(const double* x, double* g) {
    const double z = (x[0] - x[1]) / x[2], e = std::exp(-z), q = -e / std::expm1(e) / x[2];
    g[0] = q;
    g[1] = -q;
    g[2] = -z * q;
    return std::log(-std::expm1(-e));
  }
  static double draw(const double* x, Rng& r) { return x[1] - x[2] * std::log(r.exponential()); }
};
}  // namespace

EXMC_REGISTER_DIST(gumbel, Gumbel, Support::kReal, false)
}  // namespace exmc::dist::detail
