// ordered_logistic(y | eta, c): y in 1..K from latent eta cut at the K-1 ascending cutpoints c.
#include "ordered.hpp"

namespace exmc::dist::detail {
namespace {
// log sigma(x) and its derivative 1 - sigma(x).
struct LogisticLink {
  static double logF(double x) { return -log1p_exp(-x); }            // log F(x)
  static double logf(double x) { return -x - 2.0 * log1p_exp(-x); }  // log F'(x)
  static double draw(Rng& r) {
    const double u = r.uniform();
    return std::log(u) - std::log1p(-u);
  }
};
}  // namespace

EXMC_REGISTER_VECTOR_DIST(ordered_logistic, Ordered<LogisticLink>, Support::kInteger, true, false)
}  // namespace exmc::dist::detail
