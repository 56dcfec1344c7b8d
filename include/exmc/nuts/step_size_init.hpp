// Stan's step size heuristic: double or halve until one leapfrog's acceptance crosses 0.8.
#pragma once

#include "exmc/core/rng.hpp"
#include "exmc/nuts/leapfrog.hpp"
#include "exmc/nuts/phase_point.hpp"

namespace exmc::nuts {

// z is the current state (q, g, logp); it is left unchanged. scratch is a work point of the
// same dimension. Returns the new step size; throws std::runtime_error when the step size runs
// off to 0 or past 1e7 (a discontinuous or improper posterior).
double find_initial_step_size(Leapfrog& integ, Rng& rng, const PhasePoint& z, double eps,
                              PhasePoint& scratch);

}  // namespace exmc::nuts
