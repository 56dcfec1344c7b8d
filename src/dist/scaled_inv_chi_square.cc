// scaled_inv_chi_square(y | nu, s): inv_gamma(nu/2, nu s^2/2).
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct ScaledInvChiSquare {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "nu", "s"};
  static constexpr Check checks[K] = {Check::kPositive, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], nu = x[1], h = 0.5 * nu, s = x[2], ly = std::log(y), iy = 1.0 / y;
    const double ls = m.m[2](s, [](double v) { return std::log(v); });
    double lp = -h * s * s * iy;
    if (c.keep(2)) lp += m.m[0](h, [](double v) { return v * std::log(v) - lgam(v); });
    if (c.keep(6)) lp += nu * ls;
    if (c.keep(3)) lp -= (h + 1.0) * ly;
    g[0] = (h * s * s * iy - (h + 1.0)) * iy;
    if (c.want(1)) g[1] = 0.5 * (std::log(h) + 1.0 - m.m[1](h, digam)) + ls - 0.5 * ly - 0.5 * s * s * iy;
    g[2] = nu / s - nu * s * iy;
    return lp;
  }
  // F = Q(nu / 2, nu s^2 / (2 y)); nu enters both arguments, its partial by dshape.
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double y = x[0], s = x[2];
    auto f = [&](double nu) {
      const double z = 0.5 * nu * s * s / y;
      return lower ? log_gamma_q(0.5 * nu, z) : log_gamma_p(0.5 * nu, z);
    };
    const double nu = x[1], z = 0.5 * nu * s * s / y, l = f(nu);
    const double r = (lower ? -1 : 1) * std::exp(log_gamma_dpdx(0.5 * nu, z) - l);  // d l / dz
    g[0] = -r * z / y;
    g[1] = dshape(f, nu);
    g[2] = r * nu * s / y;
    return l;
  }
  static double draw(const double* x, Rng& r) { return x[1] * x[2] * x[2] / draw_chi_square(r, x[1]); }
};
}  // namespace

EXMC_REGISTER_DIST(scaled_inv_chi_square, ScaledInvChiSquare, Support::kPositive, false)
}  // namespace exmc::dist::detail
