// von_mises(y | mu, kappa): the circular normal on [-pi, pi].
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
// log I0(k) and its derivative I1(k)/I0(k); past k = 500 the Bessel function overflows
// soon, so the asymptotic series (error below 1e-15 there) takes over.
double log_i0(double k) {
  if (k <= 500) return std::log(exmc::math::cyl_bessel_i(0.0, k));
  const double t = 1.0 / k;
  return k - 0.5 * std::log(2 * kPi * k) + std::log1p(t * (0.125 + t * (9.0 / 128 + t * (225.0 / 3072 + t * 11025.0 / 98304))));
}
double dlog_i0(double k) {
  if (k <= 500) return exmc::math::cyl_bessel_i(1.0, k) / exmc::math::cyl_bessel_i(0.0, k);
  const double t = 1.0 / k;
  const double s = 1 + t * (0.125 + t * (9.0 / 128 + t * (225.0 / 3072 + t * 11025.0 / 98304)));
  const double ds = -t * t * (0.125 + t * (2 * 9.0 / 128 + t * (3 * 225.0 / 3072 + t * 4 * 11025.0 / 98304)));
  return 1 - 0.5 * t + ds / s;
}
struct VonMises {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"y", "mu", "kappa"};
  static constexpr Check checks[K] = {Check::kReal, Check::kReal, Check::kPositive};
  static constexpr const char* extra_text = "-pi <= y <= pi";
  static bool extra_valid(const double* x) { return x[0] >= -kPi && x[0] <= kPi; }
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double d = x[0] - x[1], k = x[2], cs = std::cos(d), sn = std::sin(d);
    double lp = k * cs;
    if (c.keep(4)) lp -= m.m[0](k, log_i0);
    if (!c.propto) lp -= kLog2 + kLogPi;
    g[0] = -k * sn;
    g[1] = k * sn;
    if (c.want(2)) g[2] = cs - m.m[1](k, dlog_i0);
    return lp;
  }
  static double draw(const double* x, Rng& r) { return draw_von_mises(r, x[1], x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(von_mises, VonMises, Support::kAngle, false)
}  // namespace exmc::dist::detail
