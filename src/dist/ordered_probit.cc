// ordered_probit(y | eta, c): ordered_logistic with the standard normal cdf as link.
#include "ordered.hpp"

namespace exmc::dist::detail {
namespace {
struct ProbitLink {
  static double logF(double x) { return log_Phi(x); }
  static double logf(double x) { return -0.5 * x * x - kHalfLog2Pi; }
  static double draw(Rng& r) { return r.normal(); }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(ordered_probit, Ordered<ProbitLink>, Support::kInteger, true, false)
}  // namespace exmc::dist::detail
