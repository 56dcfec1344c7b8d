// inv_gamma(y | alpha, beta): 1/y ~ gamma(alpha, beta).
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct InvGamma {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "alpha", "beta"};
  static constexpr Check checks[K] = {Check::kPositive, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], a = x[1], b = x[2], ly = std::log(y), iy = 1.0 / y;
    const double lb = m.m[0](b, [](double v) { return std::log(v); });
    double lp = 0;
    if (c.keep(6)) lp += a * lb;
    if (c.keep(2)) lp -= m.m[1](a, lgam);
    if (c.keep(3)) lp -= (a + 1.0) * ly;
    lp -= b * iy;
    g[0] = (b * iy - (a + 1.0)) * iy;
    if (c.want(1)) g[1] = lb - m.m[2](a, digam) - ly;
    g[2] = a / b - iy;
    return lp;
  }
  // F = Q(alpha, beta / y); the alpha partial by dshape.
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double y = x[0], a = x[1], b = x[2], z = b / y;
    auto f = [&](double av) { return lower ? log_gamma_q(av, z) : log_gamma_p(av, z); };
    const double l = f(a), r = (lower ? -1 : 1) * std::exp(log_gamma_dpdx(a, z) - l);  // d l / dz
    g[0] = -r * b / (y * y);
    g[1] = dshape(f, a);
    g[2] = r / y;
    return l;
  }
  static double draw(const double* x, Rng& r) { return x[2] / draw_gamma(r, x[1]); }
};
}  // namespace

EXMC_REGISTER_DIST(inv_gamma, InvGamma, Support::kPositive, false)
}  // namespace exmc::dist::detail
