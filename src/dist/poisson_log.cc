// poisson_log(n | alpha): poisson with lambda = exp(alpha).
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct PoissonLog {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"n", "alpha"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kReal};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], a = x[1], ea = m.m[0](a, [](double v) { return std::exp(v); });
    double lp = k * a - ea;
    if (c.keep(1)) lp -= lgam(k + 1);
    g[1] = k - ea;
    return lp;
  }
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], lam = std::exp(x[1]);
    const double l = lower ? log_gamma_q(n + 1, lam) : log_gamma_p(n + 1, lam);
    g[1] = (lower ? -1 : 1) * std::exp(n * x[1] - lam - lgam(n + 1) - l) * lam;
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, std::exp(x[1])); }
};
}  // namespace

EXMC_REGISTER_DIST(poisson_log, PoissonLog, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
