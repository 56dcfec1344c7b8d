// The Laplace approximation at a mode: N(mode, (-H)^-1) with H the Hessian of log p there,
// and draws from it with the two log densities CmdStan's `laplace` method writes
// (log_p__ and log_g__).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "exmc/core/approx_draws.hpp"
#include "exmc/core/gaussian.hpp"
#include "exmc/core/log_density.hpp"

namespace exmc::optimize {

// Mean = mode, covariance = (-H)^-1 with H the finite-difference Hessian (hessian.hpp).
// Throws std::runtime_error when -H is not positive definite (the message names the
// coordinate that weighs most in the offending direction, by ld.unconstrained_names() when
// known), when the Hessian cannot be evaluated, and std::invalid_argument when mode has the
// wrong length. *grad_evals receives the number of gradient calls the Hessian took, when given.
Gaussian laplace_approximation(const LogDensity& ld, const std::vector<double>& mode,
                               uint64_t* grad_evals = nullptr);

// num_draws draws from `normal` (random stream Rng(seed, 0)); log_p = ld's log density at
// each draw (-inf where it is not finite or logp_grad throws), log_q = normal.log_density.
// Throws std::invalid_argument when normal.dim() != ld.dim().
// `stop`, when given, is asked between blocks of draws: true ends the draws there (the result
// holds those made so far), so a caller's cancellation is not kept waiting for the rest.
ApproxDraws laplace_draws(const LogDensity& ld, const Gaussian& normal, size_t num_draws, uint64_t seed,
                          const std::function<bool()>& stop = {});

}  // namespace exmc::optimize
