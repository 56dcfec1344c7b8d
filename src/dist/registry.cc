// The registry: every distribution file's DistInfo, found by Stan name.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "exmc/dist/kernel.hpp"
#include "univariate.hpp"

// Every distribution file defines detail::info_NAME(); keep this list in priority order.
#define EXMC_DIST_LIST(X)                                                                          \
  X(normal) X(std_normal) X(cauchy) X(student_t) X(exponential) X(gamma) X(inv_gamma) X(lognormal) \
  X(beta) X(uniform) X(half_normal) X(half_cauchy) X(half_student_t) X(bernoulli)                  \
  X(bernoulli_logit) X(binomial) X(binomial_logit) X(poisson) X(poisson_log) X(neg_binomial)       \
  X(neg_binomial_2) X(neg_binomial_2_log) X(double_exponential) X(logistic) X(weibull) X(frechet)     \
  X(rayleigh) X(pareto) X(chi_square) X(inv_chi_square) X(scaled_inv_chi_square) X(skew_normal)      \
  X(exp_mod_normal) X(gumbel) X(von_mises) X(beta_binomial) X(categorical) X(categorical_logit)     \
  X(ordered_logistic) X(ordered_probit) X(multinomial) X(dirichlet) X(multi_normal)                  \
  X(multi_normal_cholesky) X(lkj_corr_cholesky) X(gaussian_random_walk) X(ar1)        \
  X(multi_student_t) X(lkj_corr) X(wishart) X(inv_wishart) X(normal_mixture)

namespace exmc::dist {
namespace detail {
#define EXMC_DECLARE(N) const DistInfo& info_##N();
EXMC_DIST_LIST(EXMC_DECLARE)
#undef EXMC_DECLARE

std::string fmt_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest round-trip form reads better in messages ("-1", not "-1.0000000000000000").
  for (int p = 1; p <= 17; ++p) {
    char b2[32];
    std::snprintf(b2, sizeof b2, "%.*g", p, v);
    if (std::strtod(b2, nullptr) == v || v != v) return b2;
  }
  return buf;
}

std::string simplex_message(std::string_view arg, const double* p, size_t k) {
  double s = 0;
  for (size_t i = 0; i < k; ++i) {
    if (!(p[i] >= 0 && p[i] <= 1)) return bad_value(arg, "in [0, 1] (a simplex)", p[i], i);
    s += p[i];
  }
  return std::string(arg) + " must be a simplex summing to 1, found sum " + fmt_value(s) + " at index 1";
}
}  // namespace detail

const std::vector<const DistInfo*>& all_dists() {
  static const std::vector<const DistInfo*> list = {
#define EXMC_ENTRY(N) &detail::info_##N(),
      EXMC_DIST_LIST(EXMC_ENTRY)
#undef EXMC_ENTRY
  };
  return list;
}

const DistInfo* find_dist(std::string_view name) {
  for (const DistInfo* d : all_dists())
    if (d->name == name) return d;
  return nullptr;
}

}  // namespace exmc::dist
