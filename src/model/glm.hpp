// Fused likelihoods for observations whose location is affine in a data matrix:
// normal_id_glm(y | X, alpha, beta, sigma) and bernoulli_logit_glm(y | X, alpha, beta), with
// eta = alpha + X beta computed inside the kernel in cache-sized row blocks (no N-vector in
// the graph, no allocation). Used by the lift_glm pass; same argument order as Stan's.
#pragma once

#include <cstddef>

#include "exmc/dist/kernel.hpp"
#include "exmc/dist/link_rows.hpp"

namespace exmc::model::detail {

const dist::DistInfo& normal_id_glm();
const dist::DistInfo& bernoulli_logit_glm();

// The two products of a row block of X (column-major, leading dimension ldx; nb rows, K columns),
// without libm or Eigen: eta[i] += sum_j X[i, j] beta[j] (the columns added in order j = 0, 1, ..,
// K-1, each row on its own: a wider vector changes nothing) and grad[j] += sum_i X[i, j] w[i] (each
// column's products summed in 16 lanes (double) / 32 (float), lane l taking the rows i = l (mod
// lanes) in order, then the lanes by a fixed pairwise tree). Multiplies and adds are never fused,
// so every build (baseline SSE2, AVX2, AVX-512) gives the same bits on any CPU; callers take
// dist::detail::best_rows_isa()'s.
template <class T>
void glm_eta(const T* X, size_t ldx, size_t nb, const T* beta, size_t K, T* eta, dist::detail::RowsIsa isa);
template <class T>
void glm_back(const T* X, size_t ldx, size_t nb, const T* w, size_t K, T* grad, dist::detail::RowsIsa isa);

// bernoulli_logit_glm's per-row work is dist::detail::bernoulli_logit_rows (exmc/dist/link_rows.hpp),
// shared with bernoulli_logit's fused path.

}  // namespace exmc::model::detail
