// The ADVI variational families as flat parameter vectors (not API: used by advi.cc and tests).
#pragma once

#include <cstddef>
#include <vector>

#include "exmc/core/gaussian.hpp"

namespace exmc::variational::internal {

// Meanfield: theta = (mu, omega), z = mu + exp(omega) * eta.
// Fullrank:  theta = (mu, L) with L's lower triangle packed column by column (L(j,j), L(j+1,j),
//            ..., L(d-1,j) for j = 0..d-1), z = mu + L eta. As in Stan the diagonal is free
//            (may be negative); the entropy uses log |L_ii| and L L' is unchanged by the sign.
class NormalFamily {
 public:
  NormalFamily(bool fullrank, size_t dim, const double* mu);  // omega = 0 / L = I

  bool fullrank() const { return fullrank_; }
  size_t dim() const { return dim_; }
  size_t size() const { return theta_.size(); }
  std::vector<double>& theta() { return theta_; }
  const std::vector<double>& theta() const { return theta_; }

  void transform(const double* eta, double* z) const;
  // Entropy of q: d/2 (1 + log 2 pi) + sum omega (meanfield) or sum log |L_ii| (fullrank).
  double entropy() const;
  // Adds d log p(z) / d theta for z = transform(eta), given g = grad log p at z.
  void add_logp_grad(const double* g, const double* eta, double* out) const;
  // Adds d entropy / d theta: 1 per omega, 1 / L_ii per diagonal entry.
  void add_entropy_grad(double* out) const;
  // Every parameter finite and every scale a usable normal's (meanfield: exp(omega) neither 0 nor
  // inf; fullrank: no zero on L's diagonal). A step that breaks this counts as diverged.
  bool usable() const;
  // Gaussian::diagonal (meanfield) or from_cholesky with each column's sign made so the
  // diagonal is positive (fullrank). Throws std::invalid_argument if a scale is 0 or not finite.
  Gaussian to_gaussian() const;

 private:
  bool fullrank_;
  size_t dim_;
  std::vector<double> theta_;
};

}  // namespace exmc::variational::internal
