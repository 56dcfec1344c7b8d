// pareto(y | y_min, alpha): the Pareto density on [y_min, inf).
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Pareto {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "y_min", "alpha"};
  static constexpr Check checks[K] = {Check::kPositive, Check::kPositive, Check::kPositive};
  static constexpr const char* extra_text = "y >= y_min";
  static bool extra_valid(const double* x) { return x[0] >= x[1]; }
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], ym = x[1], a = x[2], ly = std::log(y);
    const double lym = m.m[0](ym, [](double v) { return std::log(v); });
    double lp = 0;
    if (c.keep(4)) lp += m.m[1](a, [](double v) { return std::log(v); });
    if (c.keep(6)) lp += a * lym;
    if (c.keep(5)) lp -= (a + 1.0) * ly;
    g[0] = -(a + 1.0) / y;
    g[1] = a / ym;
    g[2] = 1.0 / a + lym - ly;
    return lp;
  }
  // Below y_min the cdf is 0.
  static int cdf_side(const double* x) { return x[0] <= x[1] ? -1 : x[0] == kInf ? 1 : 0; }
  // t = alpha log(y / y_min): S = e^-t.
  static double lcdf(const double* x, double* g) {
    const double t = x[2] * std::log(x[0] / x[1]), dt = 1.0 / std::expm1(t);
    g[0] = dt * x[2] / x[0];
    g[1] = -dt * x[2] / x[1];
    g[2] = dt * std::log(x[0] / x[1]);
    return std::log(-std::expm1(-t));
  }
  static double lccdf(const double* x, double* g) {
    const double t = x[2] * std::log(x[0] / x[1]);
    g[0] = -x[2] / x[0];
    g[1] = x[2] / x[1];
    g[2] = -std::log(x[0] / x[1]);
    return -t;
  }
  static double draw(const double* x, Rng& r) { return x[1] * std::exp(r.exponential() / x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(pareto, Pareto, Support::kLowerBounded, false)
}  // namespace exmc::dist::detail
