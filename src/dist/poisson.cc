// poisson(n | lambda): counts with rate lambda.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct Poisson {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"n", "lambda"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kNonNeg};
  static constexpr const char* extra_text = "lambda > 0 where n > 0";
  static bool extra_valid(const double* x) { return x[0] == 0 || x[1] > 0; }
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], lam = x[1];
    double lp = -lam;
    if (k > 0) lp += k * m.m[0](lam, [](double v) { return std::log(v); });
    if (c.keep(1)) lp -= log_factorial(k);
    g[1] = (k > 0 ? k / lam : 0.0) - 1.0;
    return lp;
  }
  // F(n) = Q(n + 1, lambda); dF/dlambda = -p(n).
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], lam = x[1];
    if (lam == 0) {  // all mass at 0
      g[1] = lower ? (n == 0 ? -1.0 : 0.0) : 0.0;
      return lower ? 0.0 : -kInf;
    }
    const double l = lower ? log_gamma_q(n + 1, lam) : log_gamma_p(n + 1, lam);
    g[1] = (lower ? -1 : 1) * std::exp(n * std::log(lam) - lam - lgam(n + 1) - l);
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, x[1]); }
};
}  // namespace

EXMC_REGISTER_DIST(poisson, Poisson, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
