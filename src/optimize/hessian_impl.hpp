// Internal: the finite-difference Hessian without exceptions, for Newton's inner loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "exmc/core/log_density.hpp"

namespace exmc::optimize::internal {

// Fills h (d*d column-major, symmetrised) with the Hessian of log p at x and *logp with
// log p(x). Returns false when log p or a gradient is unusable; *bad_coord then names the
// displaced coordinate (d when it was x itself). *evals counts logp_grad calls.
bool fd_hessian(const LogDensity& ld, const double* x, std::vector<double>& h, double* logp,
                uint64_t* evals, size_t* bad_coord);

}  // namespace exmc::optimize::internal
