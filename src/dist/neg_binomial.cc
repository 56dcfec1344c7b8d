// neg_binomial(n | alpha, beta): Stan's shape/inverse-scale negative binomial.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct NegBinomial {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"n", "alpha", "beta"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kPositive, Check::kPositive};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], a = x[1], b = x[2];
    const double lb = m.m[0](b, [](double v) { return std::log(v); });
    const double l1b = m.m[1](b, [](double v) { return std::log1p(v); });
    double lp = a * lb - (a + k) * l1b;
    if (c.keep(3)) lp += lgam(k + a) - m.m[2](a, lgam);
    if (c.keep(1)) lp -= log_factorial(k);
    if (c.want(1)) g[1] = digam(k + a) - m.m[3](a, digam) + lb - l1b;
    g[2] = a / b - (a + k) / (1.0 + b);
    return lp;
  }
  // p = beta / (1 + beta): F(n) = I_p(alpha, n + 1); the alpha partial by dshape.
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], b = x[2], p = b / (1 + b), pc = 1 / (1 + b);
    auto f = [&](double a) { return lower ? log_ibeta(a, n + 1, p, pc) : log_ibeta(n + 1, a, pc, p); };
    const double l = f(x[1]);
    g[1] = dshape(f, x[1]);
    g[2] = (lower ? 1 : -1) * std::exp(log_ibeta_dx(x[1], n + 1, p, pc) - l) * pc * pc;
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, draw_gamma(r, x[1]) / x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(neg_binomial, NegBinomial, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
