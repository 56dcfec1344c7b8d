// beta(y | alpha, beta): the beta density on (0, 1).
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct Beta {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "alpha", "beta"};
  static constexpr Check checks[K] = {Check::kOpenUnit, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], a = x[1], b = x[2], ly = std::log(y), l1y = std::log1p(-y);
    double lp = 0;
    if (c.keep(3)) lp += (a - 1.0) * ly;
    if (c.keep(5)) lp += (b - 1.0) * l1y;
    if (c.keep(6)) lp += m.m[0](a + b, lgam) - m.m[1](a, lgam) - m.m[2](b, lgam);
    g[0] = (a - 1.0) / y - (b - 1.0) / (1.0 - y);
    if (c.need & 6) {
      const double dab = m.m[3](a + b, digam);
      g[1] = ly - m.m[4](a, digam) + dab;
      g[2] = l1y - m.m[5](b, digam) + dab;
    }
    return lp;
  }
  // F = I_y(alpha, beta); the shape partials by dshape.
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double y = x[0], yc = 1.0 - y;
    auto f = [&](double a, double b) { return lower ? log_ibeta(a, b, y, yc) : log_ibeta(b, a, yc, y); };
    const double l = f(x[1], x[2]);
    g[0] = (lower ? 1 : -1) * std::exp(log_ibeta_dx(x[1], x[2], y, yc) - l);
    g[1] = dshape([&](double a) { return f(a, x[2]); }, x[1]);
    g[2] = dshape([&](double b) { return f(x[1], b); }, x[2]);
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_beta(r, x[1], x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(beta, Beta, Support::kUnitInterval, false)
}  // namespace exmc::dist::detail
