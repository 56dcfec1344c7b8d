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
    if (c.keep(1)) lp -= lgam(k + 1);
    g[1] = k / mu - (k + phi) / mp;
    if (c.want(2)) g[2] = digam(k + phi) - m.m[1](phi, digam) - l1 + (mu - k) / mp;
    return lp;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, draw_gamma(r, x[2]) * x[1] / x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(neg_binomial_2, NegBinomial2, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
