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
    if (c.keep(1)) lp -= log_factorial(k);
    g[1] = k - (k + phi) * pm;
    if (c.want(2)) g[2] = digam(k + phi) - m.m[1](phi, digam) - l1 + pm - k * std::exp(-lmp);
    return lp;
  }
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double f(double n, double eta, double phi, bool lower) {
    const double mu = std::exp(eta), p = phi / (mu + phi), pc = mu / (mu + phi);
    return lower ? log_ibeta(phi, n + 1, p, pc) : log_ibeta(n + 1, phi, pc, p);
  }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], mu = std::exp(x[1]), phi = x[2], p = phi / (mu + phi), pc = mu / (mu + phi);
    const double l = f(n, x[1], phi, lower);
    g[1] = (lower ? -1 : 1) * std::exp(log_ibeta_dx(phi, n + 1, p, pc) - l) * p * pc;
    g[2] = dshape([&](double v) { return f(n, x[1], v, lower); }, phi);
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, draw_gamma(r, x[2]) * std::exp(x[1]) / x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(neg_binomial_2_log, NegBinomial2Log, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
