// Finds a starting point with finite log density and gradient (user values or random draws).
#pragma once

#include <stdexcept>
#include <string>

#include "exmc/core/log_density.hpp"
#include "exmc/core/rng.hpp"
#include "exmc/nuts/leapfrog.hpp"
#include "exmc/nuts/phase_point.hpp"
#include "exmc/nuts/sampler_config.hpp"

namespace exmc::nuts {

class InitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Fills z.q, z.logp, z.g. Throws InitError with a message saying what was non-finite.
void initialize_point(Leapfrog& integ, const SamplerConfig& cfg, Rng& rng, PhasePoint& z);

}  // namespace exmc::nuts
