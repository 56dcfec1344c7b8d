// Fused likelihoods for observations whose location is affine in a data matrix:
// normal_id_glm(y | X, alpha, beta, sigma) and bernoulli_logit_glm(y | X, alpha, beta), with
// eta = alpha + X beta computed inside the kernel in cache-sized row blocks (no N-vector in
// the graph, no allocation). Used by the lift_glm pass; same argument order as Stan's.
#pragma once

#include <cstddef>

#include "exmc/dist/kernel.hpp"

namespace exmc::model::detail {

const dist::DistInfo& normal_id_glm();
const dist::DistInfo& bernoulli_logit_glm();

// bernoulli_logit_glm's per-row work is dist::detail::bernoulli_logit_rows (exmc/dist/link_rows.hpp),
// shared with bernoulli_logit's fused path.

}  // namespace exmc::model::detail
