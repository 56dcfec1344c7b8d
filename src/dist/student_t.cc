// student_t(y | nu, mu, sigma): Student's t with location and scale.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct StudentT {
  static constexpr int K = 4;
  static constexpr std::string_view names[K] = {"y", "nu", "mu", "sigma"};
  static constexpr Check checks[K] = {Check::kReal, Check::kPositive, Check::kReal, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double nu = x[1], s = x[3], inv_s = 1.0 / s, z = (x[0] - x[2]) * inv_s, z2 = z * z;
    const double r = z2 / nu, l1 = std::log1p(r);
    double lp = -0.5 * (nu + 1.0) * l1;
    if (c.keep(2))
      lp += m.m[0](nu, [](double v) { return lgam(0.5 * (v + 1)) - lgam(0.5 * v) - 0.5 * std::log(v); });
    if (c.keep(8)) lp -= m.m[1](s, [](double v) { return std::log(v); });
    if (!c.propto) lp -= 0.5 * kLogPi;
    const double w = (nu + 1.0) / (nu + z2);
    g[0] = -w * z * inv_s;
    g[2] = -g[0];
    g[3] = (w * z2 - 1.0) * inv_s;
    if (c.want(1))
      g[1] = m.m[2](nu, [](double v) { return 0.5 * (digam(0.5 * (v + 1)) - digam(0.5 * v) - 1.0 / v); }) -
             0.5 * l1 + 0.5 * w * r;
    return lp;
  }
  // F(t) = I_{nu/(nu+t^2)}(nu/2, 1/2) / 2 below the centre, 1 - that above; S(t) = F(-t).
  // The nu partial by dshape; nu = inf is the normal.
  static double lcdf(const double* x, double* g) { return cdf(x, g, 1.0); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, -1.0); }
  static double std_lcdf(double nu, double t) {
    const double t2 = t * t, xb = nu / (nu + t2), xc = t2 / (nu + t2);
    if (t < 0) return -kLog2 + log_ibeta(0.5 * nu, 0.5, xb, xc);
    // 1 - tail, not 1/2 + the centre: xc rounds to 1 far out and the centre loses the tail.
    return std::log1p(-0.5 * exmc::math::ibeta(0.5 * nu, 0.5, xb));
  }
  static double cdf(const double* x, double* g, double sign) {
    const double nu = x[1], s = x[3], t = sign * (x[0] - x[2]) / s;
    double l, dt;
    if (nu == kInf) {
      l = log_Phi(t);
      dt = dlog_Phi(t);
      g[1] = 0;
    } else {
      l = std_lcdf(nu, t);
      const double ldens = lgam(0.5 * (nu + 1)) - lgam(0.5 * nu) - 0.5 * std::log(nu * kPi) -
                           0.5 * (nu + 1) * std::log1p(t * t / nu);
      dt = std::exp(ldens - l);
      g[1] = dshape([&](double v) { return std_lcdf(v, t); }, nu);
    }
    g[0] = sign * dt / s;
    g[2] = -g[0];
    g[3] = -t * dt / s;
    return l;
  }
  static double draw(const double* x, Rng& r) { return x[2] + x[3] * draw_student_t(r, x[1]); }
};
}  // namespace

EXMC_REGISTER_DIST(student_t, StudentT, Support::kReal, false)
}  // namespace exmc::dist::detail
