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

// bernoulli_logit_glm's per-row work for a block of rows: term[i] = y[i] eta[i] - log(1 + e^eta[i])
// and w[i] = y[i] - inv_logit(eta[i]) (d term / d eta). Built twice from one source, for x86-64's
// baseline (SSE2) and for AVX2 without FMA: the same operations on wider vectors, so the same bits
// (tested); the kernel takes AVX2's where cpu_has_avx2().
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define EXMC_GLM_AVX2 1
#else
#define EXMC_GLM_AVX2 0
#endif
enum class RowsIsa { kBaseline, kAvx2 };
bool cpu_has_avx2();
template <class T> void bernoulli_logit_rows(const T* eta, const T* y, T* term, T* w, size_t n, RowsIsa isa);

}  // namespace exmc::model::detail
