// Euclidean metric: Cholesky set-up, momentum draws and dense velocity.
#include "exmc/nuts/metric.hpp"

#include "exmc/nuts/ziggurat_normal.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "exmc/core/state_io.hpp"

namespace exmc::nuts {

Metric Metric::unit(MetricKind kind, size_t dim) {
  if (kind == MetricKind::Diag) return diag(std::vector<double>(dim, 1.0));
  if (kind == MetricKind::LowRank) return low_rank(std::vector<double>(dim, 1.0), {}, {});
  // The identity is its own Cholesky factor (dense() computes exactly it, bit for bit): its
  // O(d^3) factorisation took 8 s at 3,000 dimensions, before the first iteration and deaf to
  // Ctrl-C, and minutes at 10^4.
  Metric m;
  m.kind_ = MetricKind::Dense;
  m.dim_ = dim;
  m.inv_.assign(dim * dim, 0.0);
  for (size_t i = 0; i < dim; ++i) m.inv_[i * dim + i] = 1.0;
  m.aux_ = m.inv_;
  return m;
}

Metric Metric::diag(std::vector<double> inv_diag) {
  Metric m;
  m.kind_ = MetricKind::Diag;
  m.dim_ = inv_diag.size();
  for (size_t i = 0; i < inv_diag.size(); ++i) {
    if (!(inv_diag[i] > 0) || !std::isfinite(inv_diag[i]))
      throw std::invalid_argument("diagonal inverse metric element " + std::to_string(i) +
                                  " must be positive and finite, got " +
                                  std::to_string(inv_diag[i]));
  }
  m.aux_.resize(m.dim_);
  for (size_t i = 0; i < m.dim_; ++i) m.aux_[i] = 1.0 / std::sqrt(inv_diag[i]);
  m.inv_ = std::move(inv_diag);
  return m;
}

void Metric::assign_diag(const std::vector<double>& inv_diag) {
  if (kind_ != MetricKind::Diag || inv_diag.size() != dim_) {
    *this = diag(inv_diag);
    return;
  }
  for (size_t i = 0; i < dim_; ++i) {
    const double v = inv_diag[i];
    if (!(v > 0) || !std::isfinite(v))
      throw std::invalid_argument("diagonal inverse metric element " + std::to_string(i) +
                                  " must be positive and finite, got " + std::to_string(v));
    inv_[i] = v;
    aux_[i] = 1.0 / std::sqrt(v);
  }
}

Metric Metric::dense(std::vector<double> a, size_t d) {
  if (a.size() != d * d)
    throw std::invalid_argument("dense inverse metric must have " + std::to_string(d * d) +
                                " elements, got " + std::to_string(a.size()));
  Metric m;
  m.kind_ = MetricKind::Dense;
  m.dim_ = d;
  // Lower Cholesky factor L of M^{-1} (column-major), so p = L^{-T} u has covariance M.
  // Entry (i, j) is a(i, j) minus L(i, k) L(j, k) for k = 0, 1, ..., j - 1 in turn, then divided
  // by the pivot: the same operations in the same order as the textbook loop over k, so the
  // same bits. But whole columns are swept contiguously, a block of kBlock columns at a time, so
  // that each earlier column is read once per block: the textbook loop strode d doubles per step
  // (8 s at 3,000 dimensions, before the first iteration and deaf to Ctrl-C).
  constexpr size_t kBlock = 32;
  std::vector<double> L(d * d, 0.0);
  for (size_t b0 = 0; b0 < d; b0 += kBlock) {
    const size_t b1 = std::min(d, b0 + kBlock);
    for (size_t j = b0; j < b1; ++j)
      for (size_t i = j; i < d; ++i) L[j * d + i] = a[j * d + i];
    for (size_t k = 0; k < b0; ++k) {  // the columns before the block, in order
      const double* lk = L.data() + k * d;
      for (size_t j = b0; j < b1; ++j) {
        double* col = L.data() + j * d;
        const double ljk = lk[j];
        for (size_t i = j; i < d; ++i) col[i] -= lk[i] * ljk;
      }
    }
    for (size_t j = b0; j < b1; ++j) {
      for (size_t i = 0; i < d; ++i) {
        if (std::fabs(a[j * d + i] - a[i * d + j]) > 1e-8 * (std::fabs(a[j * d + i]) + 1.0))
          throw std::invalid_argument("dense inverse metric is not symmetric at (" +
                                      std::to_string(i) + ", " + std::to_string(j) + ")");
      }
      double* col = L.data() + j * d;
      for (size_t k = b0; k < j; ++k) {  // the block's own earlier columns
        const double* lk = L.data() + k * d;
        const double ljk = lk[j];
        for (size_t i = j; i < d; ++i) col[i] -= lk[i] * ljk;
      }
      const double s = col[j];
      if (!(s > 0) || !std::isfinite(s))
        throw std::invalid_argument("dense inverse metric is not positive definite (pivot " +
                                    std::to_string(j) + ")");
      const double ljj = std::sqrt(s);
      col[j] = ljj;
      for (size_t i = j + 1; i < d; ++i) col[i] /= ljj;
    }
  }
  m.aux_ = std::move(L);
  m.inv_ = std::move(a);
  return m;
}

void Metric::dense_velocity(const double* p, double* v) const {
  // Eigen's matrix-vector kernel is blocked and unrolled; it beats a plain loop from d ~ 10.
  const auto d = static_cast<Eigen::Index>(dim_);
  Eigen::Map<Eigen::VectorXd>(v, d).noalias() =
      Eigen::Map<const Eigen::MatrixXd>(inv_.data(), d, d) *
      Eigen::Map<const Eigen::VectorXd>(p, d);
}

Metric Metric::low_rank(std::vector<double> stds, std::vector<double> u,
                        std::vector<double> eigenvalues) {
  const size_t d = stds.size(), k = eigenvalues.size();
  if (u.size() != d * k)
    throw std::invalid_argument("low-rank metric: U must have " + std::to_string(d * k) +
                                " entries, got " + std::to_string(u.size()));
  std::vector<double> var(d);
  for (size_t i = 0; i < d; ++i) var[i] = stds[i] * stds[i];
  Metric m = diag(std::move(var));  // validates the scales
  m.kind_ = MetricKind::LowRank;
  m.std_ = std::move(stds);
  m.u_ = std::move(u);
  for (double l : eigenvalues) {
    if (!(l > 0) || !std::isfinite(l))
      throw std::invalid_argument("low-rank metric eigenvalues must be positive and finite");
    m.lam_m1_.push_back(l - 1.0);
    m.lam_isqrt_m1_.push_back(1.0 / std::sqrt(l) - 1.0);
  }
  m.scratch_d_.assign(d, 0.0);
  m.scratch_k_.assign(k, 0.0);
  return m;
}

void Metric::low_rank_velocity(const double* p, double* v) const {
  // v = S (I + U (L - 1) U^T) S p, in O(d k).
  const size_t d = dim_, k = lam_m1_.size();
  double* y = scratch_d_.data();
  for (size_t i = 0; i < d; ++i) y[i] = std_[i] * p[i];
  for (size_t j = 0; j < k; ++j) {
    const double* col = u_.data() + j * d;
    double t = 0;
    for (size_t i = 0; i < d; ++i) t += col[i] * y[i];
    scratch_k_[j] = t * lam_m1_[j];
  }
  for (size_t i = 0; i < d; ++i) v[i] = y[i];
  for (size_t j = 0; j < k; ++j) {
    const double* col = u_.data() + j * d;
    const double t = scratch_k_[j];
    for (size_t i = 0; i < d; ++i) v[i] += col[i] * t;
  }
  for (size_t i = 0; i < d; ++i) v[i] *= std_[i];
}

std::vector<double> Metric::to_dense() const {
  const size_t d = dim_;
  if (kind_ == MetricKind::Dense) return inv_;
  std::vector<double> out(d * d, 0.0);
  if (kind_ == MetricKind::Diag) {
    for (size_t i = 0; i < d; ++i) out[i * d + i] = inv_[i];
    return out;
  }
  const size_t k = lam_m1_.size();
  for (size_t c = 0; c < d; ++c)
    for (size_t r = 0; r < d; ++r) {
      double a = r == c ? 1.0 : 0.0;
      for (size_t j = 0; j < k; ++j) a += u_[j * d + r] * lam_m1_[j] * u_[j * d + c];
      out[c * d + r] = std_[r] * a * std_[c];
    }
  return out;
}

void Metric::sample_momentum(Rng& rng, double* p) const {
  const size_t d = dim_;
  if (kind_ == MetricKind::Diag) {
    for (size_t i = 0; i < d; ++i) p[i] = ziggurat_normal(rng) * aux_[i];
    return;
  }
  if (kind_ == MetricKind::LowRank) {
    // p = S^{-1} (I + U (L^{-1/2} - 1) U^T) z has covariance S^{-1} (I + U (L^{-1} - 1) U^T) S^{-1},
    // the inverse of M^{-1} since U has orthonormal columns.
    const size_t k = lam_m1_.size();
    for (size_t i = 0; i < d; ++i) p[i] = ziggurat_normal(rng);
    for (size_t j = 0; j < k; ++j) {
      const double* col = u_.data() + j * d;
      double t = 0;
      for (size_t i = 0; i < d; ++i) t += col[i] * p[i];
      scratch_k_[j] = t * lam_isqrt_m1_[j];
    }
    for (size_t j = 0; j < k; ++j) {
      const double* col = u_.data() + j * d;
      for (size_t i = 0; i < d; ++i) p[i] += col[i] * scratch_k_[j];
    }
    for (size_t i = 0; i < d; ++i) p[i] *= aux_[i];  // aux_ = 1 / stds
    return;
  }
  for (size_t i = 0; i < d; ++i) p[i] = ziggurat_normal(rng);
  // Solve L^T p = u by back substitution (L lower, column-major: L^T(i,k) = L[i*d+k]).
  const double* L = aux_.data();
  for (size_t ii = d; ii-- > 0;) {
    double s = p[ii];
    for (size_t k = ii + 1; k < d; ++k) s -= L[ii * d + k] * p[k];
    p[ii] = s / L[ii * d + ii];
  }
}

void Metric::save_state(StateWriter& w) const {
  w.tag("METR");
  w.u64(static_cast<uint64_t>(kind_));
  w.u64(dim_);
  for (const auto* v : {&inv_, &aux_, &std_, &u_, &lam_m1_, &lam_isqrt_m1_}) w.f64s(*v);
}

Metric Metric::load_state(StateReader& r) {
  r.tag("METR");
  Metric m;
  const uint64_t kind = r.u64();
  if (kind > static_cast<uint64_t>(MetricKind::LowRank)) throw std::runtime_error("sampler state: unknown metric kind");
  m.kind_ = static_cast<MetricKind>(kind);
  m.dim_ = r.u64();
  for (auto* v : {&m.inv_, &m.aux_, &m.std_, &m.u_, &m.lam_m1_, &m.lam_isqrt_m1_}) *v = r.f64s();
  // Every size the metric's operations index by: a low-rank metric's stds shorter than its
  // dimension were read past their end, and a dimension of 2^32 made d * d wrap to 0 (empty
  // vectors passed). The vectors were read whole, so d * k cannot wrap where d < 2^32.
  const size_t d = m.dim_, k = m.lam_m1_.size();
  if (d >= (uint64_t(1) << 32) || m.inv_.size() != (m.kind_ == MetricKind::Dense ? d * d : d) ||
      m.aux_.size() != m.inv_.size() || m.lam_isqrt_m1_.size() != k || m.u_.size() != d * k ||
      (m.kind_ == MetricKind::LowRank && m.std_.size() != d))
    throw std::runtime_error("sampler state: corrupt metric");
  if (m.kind_ == MetricKind::LowRank) {
    m.scratch_d_.assign(m.dim_, 0.0);
    m.scratch_k_.assign(m.lam_m1_.size(), 0.0);
  }
  return m;
}

}  // namespace exmc::nuts
