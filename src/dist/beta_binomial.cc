// beta_binomial(n | N, alpha, beta): binomial with a beta(alpha, beta) success probability.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct BetaBinomial {
  static constexpr int K = 4;
  static constexpr std::string_view names[K] = {"n", "N", "alpha", "beta"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kNonNegInt, Check::kPositive, Check::kPositive};
  static constexpr const char* extra_text = "n <= N";
  static bool extra_valid(const double* x) { return x[0] <= x[1]; }
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], N = x[1], a = x[2], b = x[3];
    double lp = lgam(k + a) + lgam(N - k + b) - lgam(N + a + b) - m.m[0](a, lgam) - m.m[1](b, lgam) + m.m[2](a + b, lgam);
    if (c.keep(3)) lp += log_factorial(N) - log_factorial(k) - log_factorial(N - k);
    if (c.need & 12) {
      const double dn = digam(N + a + b), dab = m.m[3](a + b, digam);
      g[2] = digam(k + a) - dn - m.m[4](a, digam) + dab;
      g[3] = digam(N - k + b) - dn - m.m[5](b, digam) + dab;
    }
    return lp;
  }
  static double draw(const double* x, Rng& r) { return draw_binomial(r, x[1], draw_beta(r, x[2], x[3])); }
};
}  // namespace

EXMC_REGISTER_DIST(beta_binomial, BetaBinomial, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
