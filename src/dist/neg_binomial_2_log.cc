// neg_binomial_2_log(n | eta, phi): neg_binomial_2 with mu = exp(eta).
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct NegBinomial2Log {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"n", "eta", "phi"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kReal, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], eta = x[1], phi = x[2];
    const double lphi = m.m[2](phi, [](double v) { return std::log(v); });
    const double lmp = eta > lphi ? eta + std::log1p(std::exp(lphi - eta)) : lphi + std::log1p(std::exp(eta - lphi));
    const double l1 = lmp - lphi;           // log((mu + phi) / phi)
    const double pm = std::exp(eta - lmp);  // mu / (mu + phi)
    double lp = -phi * l1 + k * (eta - lmp);
    if (c.keep(5)) lp += lgam(k + phi) - m.m[0](phi, lgam);
    if (c.keep(1)) lp -= lgam(k + 1);
    g[1] = k - (k + phi) * pm;
    if (c.want(2)) g[2] = digam(k + phi) - m.m[1](phi, digam) - l1 + pm - k * std::exp(-lmp);
    return lp;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, draw_gamma(r, x[2]) * std::exp(x[1]) / x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(neg_binomial_2_log, NegBinomial2Log, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
