// Stan's init_stepsize heuristic.
#include "exmc/nuts/step_size_init.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace exmc::nuts {

namespace {
// Energy change (H0 - h) of one leapfrog step from z with fresh momentum.
double one_step_delta(Leapfrog& integ, Rng& rng, const PhasePoint& z, double eps, PhasePoint& w,
                      std::vector<double>& v) {
  w.q = z.q;
  w.g = z.g;
  w.logp = z.logp;
  integ.metric().sample_momentum(rng, w.p.data());
  const double H0 = -w.logp + integ.prepare(w, v.data());
  const double k = integ.step(w, eps, v.data());
  double h = -w.logp + k;
  if (std::isnan(h)) h = std::numeric_limits<double>::infinity();
  return H0 - h;
}
}  // namespace

double find_initial_step_size(Leapfrog& integ, Rng& rng, const PhasePoint& z, double eps,
                              PhasePoint& w) {
  if (eps == 0 || eps > 1e7 || std::isnan(eps)) return eps;
  std::vector<double> v(z.q.size());
  const double log08 = std::log(0.8);
  const double first = one_step_delta(integ, rng, z, eps, w, v);
  const int direction = first > log08 ? 1 : -1;
  while (true) {
    const double dH = one_step_delta(integ, rng, z, eps, w, v);
    if (direction == 1 && !(dH > log08)) break;
    if (direction == -1 && !(dH < log08)) break;
    eps = direction == 1 ? 2 * eps : 0.5 * eps;
    if (eps > 1e7)
      throw std::runtime_error(
          "step size search ran past 1e7: the posterior is improper; check the model");
    if (eps == 0)
      throw std::runtime_error(
          "no acceptably small step size could be found: the posterior may not be continuous");
  }
  return eps;
}

}  // namespace exmc::nuts
