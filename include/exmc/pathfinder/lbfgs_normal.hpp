// The normal approximations Pathfinder reads off an L-BFGS path (Zhang, Carpenter, Gelman and
// Vehtari 2022, Algorithms 3 and 4): a curvature history of (s, y) pairs with a diagonal
// initialisation, and the normal N(x + H g, H) it defines at an iterate (x, g).
#pragma once

#include <cstddef>
#include <vector>

namespace exmc::pathfinder {

// The last J accepted (s, y) pairs and the diagonal H0 = diag(alpha) of the inverse Hessian of
// -log p. Gradients passed in are of log p (ascent), so y = g_prev - g.
class CurvatureHistory {
 public:
  // Throws std::invalid_argument when dim == 0 or max_pairs < 1.
  CurvatureHistory(size_t dim, int max_pairs, double curvature_eps = 1e-12);

  // Adds the step from (x_prev, g_prev) to (x, g). A pair with s'y <= eps * y'y (or a
  // non-finite one) is skipped and the history is unchanged: returns false.
  bool update(const double* x_prev, const double* g_prev, const double* x, const double* g);

  size_t dim() const { return dim_; }
  size_t size() const { return s_.size() / dim_; }  // pairs held, oldest first
  const std::vector<double>& alpha() const { return alpha_; }
  const double* s(size_t i) const { return s_.data() + i * dim_; }
  const double* y(size_t i) const { return y_.data() + i * dim_; }

 private:
  size_t dim_;
  size_t max_pairs_;
  double eps_;
  std::vector<double> alpha_;
  std::vector<double> s_, y_;  // size() blocks of dim_ values each
};

// N(mean, H) with H = diag(alpha) + B G B' the compact L-BFGS inverse Hessian (B = [diag(alpha)
// Y, S], d x 2m). When 2m < d it is never formed: draws use a thin QR of diag(alpha)^-1/2 B and a
// 2m x 2m Cholesky factor (the paper's Algorithm 4); otherwise the d x d Cholesky factor of H.
class LbfgsNormal {
 public:
  LbfgsNormal() = default;
  // The approximation at iterate x with log p gradient g: mean = x + H g. Returns false (and
  // leaves *out unusable) when H is not numerically positive definite or not finite.
  static bool build(const CurvatureHistory& history, const double* x, const double* g,
                    LbfgsNormal* out);

  size_t dim() const { return mean_.size(); }
  bool low_rank() const { return low_rank_; }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& cov_diagonal() const { return cov_diag_; }
  double log_det_covariance() const { return log_det_; }

  // out = mean + F u with F F' = H, for a standard normal u (length d).
  void transform(const double* u, double* out) const;
  // Normalised log density at transform(u), from u alone: -(u'u + log det H + d log 2 pi) / 2.
  double log_density_standard(const double* u) const;
  // Normalised log density at any x (solves F u = x - mean; for tests and importance weights).
  double log_density(const double* x) const;
  // H v (length d), without forming H.
  void covariance_times(const double* v, double* out) const;

 private:
  std::vector<double> mean_, cov_diag_;
  double log_det_ = 0;
  bool low_rank_ = true;
  size_t k_ = 0;                        // columns of the low-rank part (2m)
  std::vector<double> sqrt_alpha_;      // d
  std::vector<double> q_;               // d x k, column-major (low-rank)
  std::vector<double> l_;               // k x k lower Cholesky factor of I + R G R' (low-rank)
  std::vector<double> dense_chol_;      // d x d lower Cholesky factor of H (dense)
  std::vector<double> alpha_, beta_, gamma_;  // H's factors, for covariance_times
};

}  // namespace exmc::pathfinder
