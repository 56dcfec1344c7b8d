// Where sampling starts after a gradient-based warmup: a warmup draw the final step size can leave.
#pragma once

#include <cstddef>

#include "exmc/core/state_io.hpp"
#include "exmc/nuts/phase_point.hpp"

namespace exmc::nuts {

// Warmup ends with the averaged step size exp(x_bar) of dual averaging, while its transitions
// ran with the iterates, which swing by factors of 3 and more from one draw to the next. A run
// of small iterates at the end of warmup lets the chain walk into a region (a funnel's neck)
// where every trajectory of the larger final step size diverges at its first leapfrog step; a
// chain that starts sampling there stays at that one point for the whole sampling phase.
//
// HandoffPoint keeps the last warmup draw that a transition reached without divergence with a
// step size at least the averaged one of that moment: the final step size (close to that
// average) can leave it the way it came. ChainSampler starts sampling there instead of at the
// last warmup draw. Any warmup draw is as valid a starting point as the last one; the step
// size, metric and random stream are untouched.
class HandoffPoint {
 public:
  explicit HandoffPoint(size_t dim) : point_(dim) {}

  // Forgets the kept draw (dual averaging restarted: averages before no longer apply).
  void reset() { have_ = false; }

  // One warmup transition that ended at z, started from a point of log density logp_before and
  // ran with step size eps_used; averaged is exp(x_bar) after learning from it. A transition that
  // did not move ends where it started, with the same log density (bit for bit).
  void observe(const PhasePoint& z, double logp_before, double eps_used, double averaged,
               bool divergent) {
    if (divergent || !(eps_used >= averaged) || z.logp == logp_before) return;
    point_ = z;  // equal sizes: reuses storage, no allocation
    have_ = true;
  }

  bool has() const { return have_; }
  const PhasePoint& point() const { return point_; }

  // Moves the kept draw into z, once; false (z untouched) when there is none.
  bool take(PhasePoint& z) {
    if (!have_) return false;
    z = point_;
    have_ = false;
    return true;
  }

  void save_state(StateWriter& w) const {
    w.boolean(have_);
    if (!have_) return;
    for (const auto* v : {&point_.q, &point_.p, &point_.g, &point_.v, &point_.mg}) w.f64s(*v);
    w.f64(point_.logp);
  }
  void load_state(StateReader& r) {
    have_ = r.boolean();
    if (!have_) return;
    const size_t d = point_.q.size();
    for (auto* v : {&point_.q, &point_.p, &point_.g, &point_.v, &point_.mg})
      r.f64s_into(*v, d, "hand-off position");
    point_.logp = r.f64();
  }

 private:
  PhasePoint point_;
  bool have_ = false;
};

}  // namespace exmc::nuts
