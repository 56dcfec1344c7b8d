// bernoulli(y | theta): one trial with success probability theta.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct Bernoulli {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"n", "theta"};
  static constexpr Check checks[K] = {Check::kBinary, Check::kUnit};
  static constexpr const char* extra_text = "theta > 0 where y = 1 and theta < 1 where y = 0";
  static bool extra_valid(const double* x) { return x[0] == 1 ? x[1] > 0 : x[1] < 1; }
  static double lp(const double* x, const Ctx&, double* g, Memos&) {
    if (x[0] == 1) {
      g[1] = 1.0 / x[1];
      return std::log(x[1]);
    }
    g[1] = -1.0 / (1.0 - x[1]);
    return std::log1p(-x[1]);
  }
  // Only n = 0 is inside (n >= 1 has F = 1): F(0) = 1 - theta, S(0) = theta.
  static double lcdf(const double* x, double* g) {
    g[1] = -1.0 / (1.0 - x[1]);
    return std::log1p(-x[1]);
  }
  static double lccdf(const double* x, double* g) {
    g[1] = 1.0 / x[1];
    return std::log(x[1]);
  }
  static double draw(const double* x, Rng& r) { return r.uniform() < x[1] ? 1.0 : 0.0; }
};
}  // namespace

EXMC_REGISTER_DIST(bernoulli, Bernoulli, Support::kBinary, true)
}  // namespace exmc::dist::detail
