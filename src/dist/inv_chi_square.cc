// inv_chi_square(y | nu): 1/y ~ chi_square(nu).
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct InvChiSquare {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"y", "nu"};
  static constexpr Check checks[K] = {Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], h = 0.5 * x[1], ly = std::log(y), iy = 1.0 / y;
    double lp = 0;
    if (c.keep(1)) lp -= 0.5 * iy;
    if (c.keep(2)) lp -= h * kLog2 + m.m[0](h, lgam);
    if (c.keep(3)) lp -= (h + 1.0) * ly;
    g[0] = (0.5 * iy - (h + 1.0)) * iy;
    if (c.want(1)) g[1] = -0.5 * (ly + kLog2 + m.m[1](h, digam));
    return lp;
  }
  // F = Q(nu / 2, 1 / (2 y)); the nu partial by dshape.
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double z = 0.5 / x[0];
    auto f = [&](double nu) { return lower ? log_gamma_q(0.5 * nu, z) : log_gamma_p(0.5 * nu, z); };
    const double l = f(x[1]);
    g[0] = (lower ? 1 : -1) * std::exp(log_gamma_dpdx(0.5 * x[1], z) - l) * 0.5 / (x[0] * x[0]);
    g[1] = dshape(f, x[1]);
    return l;
  }
  static double draw(const double* x, Rng& r) { return 1.0 / draw_chi_square(r, x[1]); }
};
}  // namespace

EXMC_REGISTER_DIST(inv_chi_square, InvChiSquare, Support::kPositive, false)
}  // namespace exmc::dist::detail
