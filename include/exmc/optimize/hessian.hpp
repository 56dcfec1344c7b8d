// The Hessian of log p by finite differences of its gradient (what Stan's Newton optimiser
// and the Laplace approximation use when no second derivatives are available).
#pragma once

#include <cstdint>
#include <vector>

#include "exmc/core/log_density.hpp"

namespace exmc::optimize {

// d*d column-major Hessian of log p at x (length ld.dim()), symmetrised. Column i is the
// fourth-order central difference of the gradient along coordinate i with step
// cbrt(eps) * max(1, |x_i|) (4 d gradient calls; exact up to rounding for a quadratic).
// *logp_out receives log p(x) and *grad_evals the number of logp_grad calls, when given.
// Throws std::runtime_error, naming the coordinate, when log p or its gradient is not finite
// (or logp_grad throws) at x or at a displaced point.
std::vector<double> hessian(const LogDensity& ld, const double* x, double* logp_out = nullptr,
                            uint64_t* grad_evals = nullptr);

}  // namespace exmc::optimize
