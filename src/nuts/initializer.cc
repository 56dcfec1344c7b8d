// Initial point search: user values, else uniform draws on the unconstrained scale.
#include "exmc/nuts/initializer.hpp"

#include <cmath>
#include <string>

namespace exmc::nuts {

namespace {
// Why a point is unusable, or empty when it is fine.
std::string check_point(Leapfrog& integ, PhasePoint& z) {
  const uint64_t faults_before = integ.faults();
  integ.evaluate(z);
  if (integ.faults() == faults_before) return {};
  for (size_t i = 0; i < z.q.size(); ++i)
    if (!std::isfinite(z.g[i]) && integ.last_fault() == "non-finite gradient")
      return "gradient element " + std::to_string(i) + " (unconstrained coordinate) is " +
             std::to_string(z.g[i]);
  return integ.last_fault();
}
}  // namespace

void initialize_point(Leapfrog& integ, const SamplerConfig& cfg, Rng& rng, PhasePoint& z) {
  const LogDensity& ld = integ.density();
  const size_t d = ld.dim();
  if (!cfg.init_x.empty() || !cfg.init_values.empty()) {
    if (!cfg.init_x.empty()) {
      if (cfg.init_x.size() != d)
        throw InitError("initial point has " + std::to_string(cfg.init_x.size()) +
                        " values but the model has " + std::to_string(d) +
                        " unconstrained parameters");
      z.q = cfg.init_x;
    } else {
      std::string err;
      if (!ld.unconstrain(cfg.init_values, z.q.data(), &err))
        throw InitError("bad initial values: " + err);
    }
    const std::string why = check_point(integ, z);
    if (!why.empty())
      throw InitError("the log density is not usable at the given initial values: " + why);
    return;
  }
  std::string last;
  for (int attempt = 0; attempt < cfg.init_attempts; ++attempt) {
    for (size_t i = 0; i < d; ++i) z.q[i] = rng.uniform(-cfg.init_radius, cfg.init_radius);
    last = check_point(integ, z);
    if (last.empty()) return;
  }
  throw InitError("could not find a starting point after " + std::to_string(cfg.init_attempts) +
                  " attempts drawing uniform(-" + std::to_string(cfg.init_radius) + ", " +
                  std::to_string(cfg.init_radius) +
                  ") on the unconstrained scale; last failure: " + last);
}

}  // namespace exmc::nuts
