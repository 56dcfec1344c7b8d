// binomial_logit(n | N, alpha): binomial with theta = inv_logit(alpha).
#include "univariate.hpp"
#include "samplers.hpp"

namespace exmc::dist::detail {
namespace {
struct BinomialLogit {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"n", "N", "alpha"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kNonNegInt, Check::kReal};
  static constexpr const char* extra_text = "n <= N";
  static bool extra_valid(const double* x) { return x[0] <= x[1]; }
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], N = x[1], a = x[2];
    double lp = 0;
    if (c.keep(3)) lp += m.m[0](N, [](double v) { return lgam(v + 1); }) - lgam(k + 1) - lgam(N - k + 1);
    lp -= k * log1p_exp(-a) + (N - k) * log1p_exp(a);
    g[2] = k - N * inv_logit(a);
    return lp;
  }
  static int cdf_side(const double* x) { return x[0] < 0 ? -1 : x[0] >= x[1] ? 1 : 0; }
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], N = x[1], th = inv_logit(x[2]), thc = inv_logit(-x[2]);
    const double l = lower ? log_ibeta(N - n, n + 1, thc, th) : log_ibeta(n + 1, N - n, th, thc);
    g[2] = (lower ? -1 : 1) * std::exp(log_ibeta_dx(n + 1, N - n, th, thc) - l) * th * thc;
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_binomial(r, x[1], inv_logit(x[2])); }
};
}  // namespace

EXMC_REGISTER_DIST(binomial_logit, BinomialLogit, Support::kNonNegInteger, true)
}  // namespace exmc::dist::detail
