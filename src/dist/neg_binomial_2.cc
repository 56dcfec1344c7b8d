// neg_binomial_2(n | mu, phi): mean mu, overdispersion phi (variance mu + mu^2/phi).
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct NegBinomial2 {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"n", "mu", "phi"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], mu = x[1], phi = x[2], mp = mu + phi;
    const double l1 = std::log1p(mu / phi);  // log((mu + phi) / phi)
    double lp = -phi * l1;
    if (k > 0) lp += k * (std::log(mu) - std::log(mp));
    if (c.keep(5)) lp += lgam(k + phi) - m.m[0](phi, lgam);
    if (c.keep(1)) lp -= log_factorial(k);
    g[1] = k / mu - (k + phi) / mp;
    if (c.want(2)) g[2] = digam(k + phi) - m.m[1](phi, digam) - l1 + (mu - k) / mp;
    return lp;
  }
  // p = phi / (mu + phi): F(n) = I_p(phi, n + 1); the phi partial by dshape.
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double f(double n, double mu, double phi, bool lower) {
    const double p = phi / (mu + phi), pc = mu / (mu + phi);
    return lower ? log_ibeta(phi, n + 1, p, pc) : log_ibeta(n + 1, phi, pc, p);
  }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], mu = x[1], phi = x[2], p = phi / (mu + phi), pc = mu / (mu + phi);
    const double l = f(n, mu, phi, lower);
    g[1] = (lower ? -1 : 1) * std::exp(log_ibeta_dx(phi, n + 1, p, pc) - l) * phi / ((mu + phi) * (mu + phi));
    g[2] = dshape([&](double v) { return f(n, mu, v, lower); }, phi);
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, draw_gamma(r, x[2]) * x[1] / x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(neg_binomial_2, NegBinomial2, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
