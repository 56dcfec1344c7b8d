// gamma(y | alpha, beta): shape alpha, rate beta.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct Gamma {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "alpha", "beta"};
  static constexpr Check checks[K] = {Check::kPositive, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double y = x[0], a = x[1], b = x[2], ly = std::log(y);
    const double lb = m.m[0](b, [](double v) { return std::log(v); });
    double lp = 0;
    if (c.keep(6)) lp += a * lb;
    if (c.keep(2)) lp -= m.m[1](a, lgam);
    if (c.keep(3)) lp += (a - 1.0) * ly;
    lp -= b * y;
    g[0] = (a - 1.0) / y - b;
    if (c.want(1)) g[1] = lb - m.m[2](a, digam) + ly;
    g[2] = a / b - y;
    return lp;
  }
  // F = P(alpha, beta y); the alpha partial by dshape (no closed form).
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double y = x[0], a = x[1], b = x[2], z = b * y;
    auto f = [&](double av) { return lower ? log_gamma_p(av, z) : log_gamma_q(av, z); };
    const double l = f(a), r = (lower ? 1 : -1) * std::exp(log_gamma_dpdx(a, z) - l);
    g[0] = r * b;
    g[1] = dshape(f, a);
    g[2] = r * y;
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_gamma(r, x[1]) / x[2]; }
};
}  // namespace

EXMC_REGISTER_DIST(gamma, Gamma, Support::kPositive, false)
}  // namespace exmc::dist::detail
