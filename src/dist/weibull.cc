// weibull(y | alpha, sigma): shape alpha, scale sigma.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Weibull {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "alpha", "sigma"};
  static constexpr Check checks[K] = {Check::kPositive, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], a = x[1], s = x[2], lys = std::log(y / s), p = std::exp(a * lys);  // (y/s)^a
    double lp = -p;
    if (c.keep(2)) lp += m.m[0](a, [](double v) { return std::log(v); });
    if (c.keep(3)) lp += (a - 1.0) * std::log(y);
    if (c.keep(6)) lp -= a * m.m[1](s, [](double v) { return std::log(v); });
    g[0] = (a - 1.0 - a * p) / y;
    g[1] = 1.0 / a + lys * (1.0 - p);
    g[2] = a * (p - 1.0) / s;
    return lp;
  }
  static double lcdf(const double* x, double* g) {
    const double t = std::pow(x[0] / x[2], x[1]);
    expo(x, g, t, 1.0 / std::expm1(t));
    return std::log(-std::expm1(-t));
  }
  static double lccdf(const double* x, double* g) {
    const double t = std::pow(x[0] / x[2], x[1]);
    expo(x, g, t, -1.0);
    return -t;
  }
  // Partials of a function of t = (y / sigma)^alpha whose t-derivative is dt.
  static void expo(const double* x, double* g, double t, double dt) {
    g[0] = dt * x[1] * t / x[0];
    g[1] = dt * t * std::log(x[0] / x[2]);
    g[2] = -dt * x[1] * t / x[2];
  }
  static double draw(const double* x, Rng& r) { return x[2] * std::pow(r.exponential(), 1.0 / x[1]); }
};
}  // namespace

EXMC_REGISTER_DIST(weibull, Weibull, Support::kPositive, false)
}  // namespace exmc::dist::detail
