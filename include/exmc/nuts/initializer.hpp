// Finds a starting point with finite log density and gradient (user values or random draws).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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
// Values the caller gave are at fault (outside their support, the wrong size): the caller's
// input, not the model, so front ends report it as a bad argument.
class BadInitialValues : public InitError {
 public:
  using InitError::InitError;
};

using InitValues = std::vector<std::pair<std::string, std::vector<double>>>;

// CmdStan's rule for initial values that name some parameters only: the others start where a
// random initialisation would put them, uniform(-R, R) on the unconstrained scale. One attempt
// draws such a point, puts its constrained values in for the left-out variables and unconstrains
// the whole. Each chain completes its values this way, and `exmc sample` asks beforehand whether
// the given values are at fault in every completion (then no chain could start).
class InitCompletion {
 public:
  enum class Outcome {
    kUnconstrained,  // the point is in q (its density not yet evaluated)
    kGivenAtFault,   // refused, naming a given variable (error says why)
    kOtherFault,     // refused otherwise: a left-out variable, or constrain() threw
  };
  InitCompletion(const LogDensity& ld, const InitValues& given);
  bool leaves_out_any() const { return !missing_.empty(); }
  // Names the left-out variables: "'a', 'b'".
  std::string left_out_names() const;
  Outcome attempt(Rng& rng, double radius, double* q, std::string* error);

 private:
  struct Missing {
    std::string name;
    size_t offset, size;
  };
  const LogDensity& ld_;
  const InitValues& given_;
  std::vector<Missing> missing_;
  std::vector<double> random_, constrained_;
};

// The error naming a given variable when the given values can start no chain: refused as they
// are, or, when they leave variables out, in each of `attempts` completions. Empty when some
// completion is accepted, or fails for a reason a chain's own tries would explain better.
std::string given_init_values_fault(const LogDensity& ld, const InitValues& given, double radius, int attempts,
                                    Rng& rng);

// Fills z.q, z.logp, z.g: from cfg.init_x, else cfg.init_values (parameters they leave out start
// uniform(-init_radius, init_radius) on the unconstrained scale, as CmdStan's partial init
// files), else a uniform draw, retried up to init_attempts times. Throws InitError with a
// message saying what was non-finite.
void initialize_point(Leapfrog& integ, const SamplerConfig& cfg, Rng& rng, PhasePoint& z);

}  // namespace exmc::nuts
