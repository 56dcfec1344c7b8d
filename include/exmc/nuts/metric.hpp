// Euclidean metric (diagonal, dense or diagonal-plus-low-rank M^{-1}): momentum draws, velocity.
#pragma once

#include <cstddef>
#include <vector>

#include "exmc/core/rng.hpp"

namespace exmc {
class StateWriter;
class StateReader;
}  // namespace exmc

namespace exmc::nuts {

enum class MetricKind { Diag, Dense, LowRank };

// Holds M^{-1}. One class for all shapes: the per-leapfrog branch on kind is perfectly
// predicted and keeps the tree free of templates.
class Metric {
 public:
  Metric() = default;
  static Metric unit(MetricKind kind, size_t dim);
  static Metric diag(std::vector<double> inv_diag);
  // Column-major d*d symmetric positive-definite M^{-1}; throws std::invalid_argument otherwise.
  static Metric dense(std::vector<double> inv_dense, size_t dim);

  // nutpie's low-rank form M^{-1} = S (I + U (L - I) U^T) S with S = diag(stds), U a d x k
  // column-major matrix of orthonormal columns and L = diag(eigenvalues). k may be 0.
  static Metric low_rank(std::vector<double> stds, std::vector<double> u,
                         std::vector<double> eigenvalues);
  // The full d*d column-major M^{-1} (for saving a low-rank metric as a dense one).
  std::vector<double> to_dense() const;
  size_t rank() const { return lam_m1_.size(); }

  // Replace a diagonal metric's values in place (no allocation); same checks as diag().
  void assign_diag(const std::vector<double>& inv_diag);

  MetricKind kind() const { return kind_; }
  bool is_dense() const { return kind_ == MetricKind::Dense; }
  size_t dim() const { return dim_; }
  // Diagonal: d entries of M^{-1}. Dense: d*d column-major M^{-1}. Low rank: the diagonal
  // part stds^2 only (use to_dense() for the whole matrix).
  const std::vector<double>& inv() const { return inv_; }
  // inv()'s storage, moved out (the metric is left unusable): for a metric no longer used.
  std::vector<double> release_inv() && { return std::move(inv_); }

  // v = M^{-1} p (Stan's dtau_dp, "p_sharp").
  void velocity(const double* p, double* v) const {
    if (kind_ == MetricKind::Diag) {
      const double* m = inv_.data();
      for (size_t i = 0; i < dim_; ++i) v[i] = m[i] * p[i];
    } else if (kind_ == MetricKind::Dense) {
      dense_velocity(p, v);
    } else {
      low_rank_velocity(p, v);
    }
  }
  static double kinetic(const double* p, const double* v, size_t d) {
    double s = 0;
    for (size_t i = 0; i < d; ++i) s += p[i] * v[i];
    return 0.5 * s;
  }
  // p ~ N(0, M).
  void sample_momentum(Rng& rng, double* p) const;

  // Every field as its bits (checkpoints): a loaded metric moves exactly as the saved one did.
  void save_state(StateWriter& w) const;
  static Metric load_state(StateReader& r);

 private:
  void dense_velocity(const double* p, double* v) const;
  void low_rank_velocity(const double* p, double* v) const;
  MetricKind kind_ = MetricKind::Diag;
  size_t dim_ = 0;
  std::vector<double> inv_;
  std::vector<double> aux_;  // diag, low rank: 1/sqrt(inv); dense: lower Cholesky factor of M^{-1}
  // Low rank: stds, U (d x k), L - 1 and L^{-1/2} - 1, and per-call scratch (one chain owns a
  // metric, so the scratch is never shared between threads).
  std::vector<double> std_, u_, lam_m1_, lam_isqrt_m1_;
  mutable std::vector<double> scratch_d_, scratch_k_;
};

}  // namespace exmc::nuts
