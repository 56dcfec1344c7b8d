// exponential(y | beta): rate-parameterised exponential.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Exponential {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"y", "beta"};
  static constexpr Check checks[K] = {Check::kNonNeg, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double b = x[1];
    double lp = -b * x[0];
    if (c.keep(2)) lp += m.m[0](b, [](double v) { return std::log(v); });
    g[0] = -b;
    g[1] = 1.0 / b - x[0];
    return lp;
  }
  static double lcdf(const double* x, double* g) {
    const double t = x[1] * x[0], e = std::expm1(t);  // F = 1 - exp(-t)
    g[0] = x[1] / e;
    g[1] = x[0] / e;
    return std::log(-std::expm1(-t));
  }
  static double lccdf(const double* x, double* g) {
    g[0] = -x[1];
    g[1] = -x[0];
    return -x[1] * x[0];
  }
  static double draw(const double* x, Rng& r) { return r.exponential() / x[1]; }
};
}  // namespace

EXMC_REGISTER_DIST(exponential, Exponential, Support::kNonNegative, false)
}  // namespace exmc::dist::detail
