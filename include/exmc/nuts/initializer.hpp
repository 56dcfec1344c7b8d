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

// Fills z.q, z.logp, z.g: from cfg.init_x, else cfg.init_values (parameters they leave out start
// uniform(-init_radius, init_radius) on the unconstrained scale, as CmdStan's partial init
// files), else a uniform draw, retried up to init_attempts times. Throws InitError with a
// message saying what was non-finite.
void initialize_point(Leapfrog& integ, const SamplerConfig& cfg, Rng& rng, PhasePoint& z);

}  // namespace exmc::nuts
