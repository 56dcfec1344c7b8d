// Fused likelihoods for observations whose location is affine in a data matrix:
// normal_id_glm(y | X, alpha, beta, sigma) and bernoulli_logit_glm(y | X, alpha, beta), with
// eta = alpha + X beta computed inside the kernel in cache-sized row blocks (no N-vector in
// the graph, no allocation). Used by the lift_glm pass; same argument order as Stan's.
#pragma once

#include "exmc/dist/kernel.hpp"

namespace exmc::model::detail {

const dist::DistInfo& normal_id_glm();
const dist::DistInfo& bernoulli_logit_glm();

}  // namespace exmc::model::detail
