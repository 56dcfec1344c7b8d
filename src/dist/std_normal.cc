// std_normal(y): the standard Gaussian density.
#include "univariate.hpp"

namespace exmc::dist::detail {
namespace {
struct StdNormal {
  static constexpr int K = 1;
  static constexpr std::string_view names[K] = {"y"};
  static constexpr Check checks[K] = {Check::kReal};
  static double lp(const double* x, const Ctx& c, double* g, Memos&) {
    g[0] = -x[0];
    return -0.5 * x[0] * x[0] - (c.propto ? 0.0 : kHalfLog2Pi);
  }
  static double lcdf(const double* x, double* g) {
    g[0] = dlog_Phi(x[0]);
    return log_Phi(x[0]);
  }
  static double lccdf(const double* x, double* g) {
    g[0] = -dlog_Phi(-x[0]);
    return log_Phi(-x[0]);
  }
  static double draw(const double*, Rng& r) { return r.normal(); }
};
}  // namespace

EXMC_REGISTER_DIST(std_normal, StdNormal, Support::kReal, false)
}  // namespace exmc::dist::detail
