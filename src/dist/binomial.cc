// binomial(n | N, theta): successes in N trials.
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct Binomial {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"n", "N", "theta"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kNonNegInt, Check::kUnit};
  static constexpr const char* extra_text = "n <= N, theta > 0 where n > 0 and theta < 1 where n < N";
  static bool extra_valid(const double* x) {
    return x[0] <= x[1] && (x[0] == 0 || x[2] > 0) && (x[0] == x[1] || x[2] < 1);
  }
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], N = x[1], th = x[2];
    double lp = 0;
    if (c.keep(3)) lp += log_factorial(N) - log_factorial(k) - log_factorial(N - k);
    // One theta for many counts (binomial_lpmf(k | n, theta) over a data array): one log each.
    if (k > 0) lp += k * m.m[1](th, [](double v) { return std::log(v); });
    if (N - k > 0) lp += (N - k) * m.m[2](th, [](double v) { return std::log1p(-v); });
    g[2] = (k > 0 ? k / th : 0.0) - (N - k > 0 ? (N - k) / (1.0 - th) : 0.0);
    return lp;
  }
  static int cdf_side(const double* x) { return x[0] < 0 ? -1 : x[0] >= x[1] ? 1 : 0; }
  // For n < N: S(n) = I_theta(n + 1, N - n), F(n) = I_{1-theta}(N - n, n + 1).
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], N = x[1], th = x[2];
    if (th <= 0 || th >= 1) {  // all mass at 0 or at N
      g[2] = 0;
      return (th <= 0) == lower ? 0.0 : -kInf;
    }
    const double l = lower ? log_ibeta(N - n, n + 1, 1 - th, th) : log_ibeta(n + 1, N - n, th, 1 - th);
    g[2] = (lower ? -1 : 1) * std::exp(log_ibeta_dx(n + 1, N - n, th, 1 - th) - l);
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_binomial(r, x[1], x[2]); }
};
}  // namespace

EXMC_REGISTER_DIST(binomial, Binomial, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
