// bernoulli_logit(y | alpha): bernoulli with theta = inv_logit(alpha).
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct BernoulliLogit {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"n", "alpha"};
  static constexpr Check checks[K] = {Check::kBinary, Check::kReal};
  static double lp(const double* x, const Ctx&, double* g, Memos&) {
    // log inv_logit(s * alpha) with s = +1 for y = 1, -1 for y = 0.
    const double s = x[0] == 1 ? 1.0 : -1.0, t = s * x[1];
    g[1] = s * inv_logit(-t);
    return -log1p_exp(-t);
  }
  static double lcdf(const double* x, double* g) {
    g[1] = -inv_logit(x[1]);
    return -log1p_exp(x[1]);
  }
  static double lccdf(const double* x, double* g) {
    g[1] = inv_logit(-x[1]);
    return -log1p_exp(-x[1]);
  }
  static double draw(const double* x, Rng& r) { return r.uniform() < inv_logit(x[1]) ? 1.0 : 0.0; }
};
}  // namespace

EXMC_REGISTER_DIST(bernoulli_logit, BernoulliLogit, Support::kBinary, true)
}  // namespace exmc::dist::detail
