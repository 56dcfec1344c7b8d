// A multivariate normal N(mean, L L') on R^d, dense or diagonal: draws and the normalised log
// density. Shared by the approximations (Laplace, Pathfinder, ADVI, SMC's reference and proposal).
#pragma once

#include <cstddef>
#include <vector>

#include "exmc/core/rng.hpp"

namespace exmc {

class Gaussian {
 public:
  Gaussian() = default;
  // cov: d*d column-major, symmetric positive definite. Throws std::invalid_argument otherwise.
  static Gaussian from_covariance(std::vector<double> mean, const std::vector<double>& cov);
  // chol: d*d column-major lower-triangular factor with a positive diagonal (the upper part is
  // ignored). Throws std::invalid_argument when a diagonal entry is not positive and finite.
  static Gaussian from_cholesky(std::vector<double> mean, std::vector<double> chol);
  // Independent coordinates: sd > 0 per coordinate (stored as d values, not d*d).
  static Gaussian diagonal(std::vector<double> mean, std::vector<double> sd);

  size_t dim() const { return mean_.size(); }
  bool is_diagonal() const { return diagonal_; }
  const std::vector<double>& mean() const { return mean_; }
  // Diagonal: the d standard deviations; dense: the d*d column-major Cholesky factor.
  const std::vector<double>& scale() const { return scale_; }
  // d*d column-major covariance (allocates d*d, also for a diagonal one).
  std::vector<double> covariance() const;
  // log det(L L') = 2 sum log L_ii.
  double log_det_covariance() const { return log_det_; }

  // out = mean + L z with z ~ N(0, I) drawn from rng (d normals, in coordinate order).
  void sample(Rng& rng, double* out) const;
  // The same map for a given z (for reparameterisation gradients and common random numbers).
  void transform(const double* z, double* out) const;
  // transform() of `count` points (z and out: count consecutive points of d values each, not
  // overlapping) in one pass over a dense factor; equal to transform() up to rounding.
  void transform_many(const double* z, double* out, size_t count) const;
  // Normalised log density at x.
  double log_density(const double* x) const;
  // The same at transform(z), from z itself: no triangular solve (d^2 per point for a dense one).
  double log_density_from_z(const double* z) const;

 private:
  std::vector<double> mean_, scale_;
  bool diagonal_ = true;
  double log_det_ = 0;
};

}  // namespace exmc
