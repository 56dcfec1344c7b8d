// half_student_t(y | nu, sigma): a student_t(nu, 0, sigma) folded onto y >= 0.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct HalfStudentT {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "nu", "sigma"};
  static constexpr Check checks[K] = {Check::kNonNeg, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double nu = x[1], s = x[2], inv_s = 1.0 / s, z = x[0] * inv_s, z2 = z * z;
    const double r = z2 / nu, l1 = std::log1p(r);
    double lp = -0.5 * (nu + 1.0) * l1;
    if (c.keep(2))
      lp += m.m[0](nu, [](double v) { return lgam(0.5 * (v + 1)) - lgam(0.5 * v) - 0.5 * std::log(v); });
    if (c.keep(4)) lp -= m.m[1](s, [](double v) { return std::log(v); });
    if (!c.propto) lp += kLog2 - 0.5 * kLogPi;
    const double w = (nu + 1.0) / (nu + z2);
    g[0] = -w * z * inv_s;
    g[2] = (w * z2 - 1.0) * inv_s;
    if (c.want(1))
      g[1] = m.m[2](nu, [](double v) { return 0.5 * (digam(0.5 * (v + 1)) - digam(0.5 * v) - 1.0 / v); }) -
             0.5 * l1 + 0.5 * w * r;
    return lp;
  }
  // With t = y / sigma and x = t^2 / (nu + t^2): F = I_x(1/2, nu/2), S = I_{1-x}(nu/2, 1/2).
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double std_l(double nu, double t, bool lower) {
    const double t2 = t * t, xb = nu / (nu + t2), xc = t2 / (nu + t2);
    return lower ? log_ibeta(0.5, 0.5 * nu, xc, xb) : log_ibeta(0.5 * nu, 0.5, xb, xc);
  }
  static double cdf(const double* x, double* g, bool lower) {
    const double nu = x[1], s = x[2], t = x[0] / s;
    const double l = std_l(nu, t, lower);
    const double ldens = kLog2 + lgam(0.5 * (nu + 1)) - lgam(0.5 * nu) - 0.5 * std::log(nu * kPi) -
                         0.5 * (nu + 1) * std::log1p(t * t / nu);
    const double dt = (lower ? 1 : -1) * std::exp(ldens - l);
    g[0] = dt / s;
    g[1] = dshape([&](double v) { return std_l(v, t, lower); }, nu);
    g[2] = -t * dt / s;
    return l;
  }
  static double draw(const double* x, Rng& r) { return x[2] * std::fabs(draw_student_t(r, x[1])); }
};
}  // namespace

EXMC_REGISTER_DIST(half_student_t, HalfStudentT, Support::kPositive, false)
}  // namespace exmc::dist::detail
