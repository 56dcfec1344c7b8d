// Stan's multinomial NUTS transition (base_nuts): trajectory doubling with generalized U-turn checks.
#pragma once

#include <atomic>
#include <vector>

#include "exmc/core/rng.hpp"
#include "exmc/nuts/leapfrog.hpp"
#include "exmc/nuts/phase_point.hpp"
#include "exmc/nuts/sample_stats.hpp"
#include "exmc/nuts/tree_observer.hpp"

namespace exmc::nuts {

// Knows nothing about adaptation: given a state and a step size it returns the next state.
// The buffers of the trajectory's two ends are sized in the constructor; those of the subtrees
// of each depth (8 vectors of d) when a trajectory first reaches that depth, once (a 10^5-
// dimension model that never goes past depth 5 held ~70 MB for depths it never reached). A
// transition that reaches no new depth allocates nothing.
//
// The decisions (which subtrees merge, which point is drawn, when the trajectory stops) are
// Stan's, from the same random numbers; the arithmetic is arranged for speed (each subtree's
// three U-turn checks in one pass, the checks of a two-leaf subtree once, since its three are the
// same vectors; integrating the two trajectory ends in place), so sums may differ from Stan's in
// the last bits.
class NutsTree {
 public:
  NutsTree(Leapfrog& integrator, Rng& rng, int max_depth = 10, double max_delta_h = 1000.0);
  NutsTree(const NutsTree&) = delete;  // the levels' proposals point into their own buffers
  NutsTree& operator=(const NutsTree&) = delete;

  // z holds q, g and logp of the current state; on return it holds the selected draw (its p is
  // unspecified). Stats lp and step_size are filled too.
  SampleStats transition(PhasePoint& z, double eps);

  void set_observer(TreeObserver* obs) { observer_ = obs; }
  int max_depth() const { return max_depth_; }

  // A flag another thread may set to stop the run: a transition reads it before each doubling
  // of the trajectory and between the two halves of each subtree of 4 or more leaves (at most
  // 2 leapfrogs apart), and when it is set ends at once with interrupted() true. Its draw is
  // then a point of the trajectory built so far, not a NUTS draw: discard it (and the chain's
  // state, which an uninterrupted chain never passes through). Null: never interrupted.
  void set_cancel_flag(const std::atomic<bool>* flag) { cancel_ = flag; }
  bool interrupted() const { return interrupted_; }

  // Subtree buffers exist for depths up to levels_ready() (0 and 1 need none, max_depth - 1 is
  // the deepest a trajectory builds). reserve_levels allocates them up to `depth` now, so that
  // later transitions reaching it allocate nothing.
  int levels_ready() const { return levels_ready_; }
  void reserve_levels(int depth);

  // A sum of leaf weights exp(H0 - H), as m * exp(e). e stays 0 unless some leaf's H0 - H is
  // beyond +-680, where exp (or a sum of 2^30 such) would leave the normal range; so merging two subtrees is an add and a
  // divide, where Stan's log-sum-exp of log weights costs an exp and a log.
  struct Weight {
    double m = 0, e = 0;
  };

 private:
  // Where a subtree's proposal goes: a position, its gradient, log density and kinetic energy.
  struct Proposal {
    double* q;
    double* g;
    double logp = 0, kinetic = 0;
  };
  struct Level {
    std::vector<double> p_init_end, ps_init_end, rho_init;
    std::vector<double> p_final_beg, ps_final_beg, rho_final;
    std::vector<double> final_q, final_g;
    Proposal final_proposal{nullptr, nullptr};
  };
  // A subtree's ends: momentum p and velocity ps = M^{-1} p at its first and last leaf, and
  // rho, the sum of the momenta of its leaves (written, not accumulated).
  struct Ends {
    double* ps_beg;
    double* ps_end;
    double* rho;
    double* p_beg;
    double* p_end;
  };

  // Each writes the subtree's ends and its weight (the sum of exp(H0 - H) over its leaves),
  // and returns false when the subtree diverged or turned back inside (then discarded).
  bool build_tree(PhasePoint& z, int depth, Proposal& propose, const Ends& e, double H0,
                  double signed_eps, Weight& weight);
  bool build_leaf(PhasePoint& z, Proposal& propose, const Ends& e, double H0, double signed_eps,
                  Weight& weight);
  bool build_pair(PhasePoint& z, Proposal& propose, const Ends& e, double H0, double signed_eps,
                  Weight& weight);
  // One leapfrog step of z; counts it (leapfrogs, acceptance, divergence) and returns its weight.
  // The new velocity M^-1 p goes to v (not written when the step's density fails).
  Weight advance(PhasePoint& z, double H0, double signed_eps, double& kinetic, double* v);
  void take(Proposal& dst, const double* q, const double* g, double logp, double kinetic) const;
  bool draw_second(const Weight& first, const Weight& second, Weight& sum);
  bool cancel_requested() {
    if (cancel_ && cancel_->load(std::memory_order_relaxed)) interrupted_ = true;
    return interrupted_;
  }

  Leapfrog& integ_;
  Rng& rng_;
  int max_depth_;
  double max_delta_h_;
  size_t d_;
  TreeObserver* observer_ = nullptr;

  // Per-transition scratch, preallocated. z_fwd_ / z_bck_ are the two ends of the trajectory,
  // integrated in place.
  PhasePoint z_fwd_, z_bck_;
  std::vector<double> propose_q_, propose_g_;
  std::vector<double> p_fwd_fwd_, ps_fwd_fwd_, p_fwd_bck_, ps_fwd_bck_;
  std::vector<double> p_bck_fwd_, ps_bck_fwd_, p_bck_bck_, ps_bck_bck_;
  std::vector<double> rho_, rho_fwd_, rho_bck_, v_;
  std::vector<Level> levels_;  // levels_[k]: subtrees of depth k >= 2, sized up to levels_ready_
  int levels_ready_ = 1;
  const std::atomic<bool>* cancel_ = nullptr;
  bool interrupted_ = false;
  int n_leapfrog_ = 0;
  double sum_metro_prob_ = 0;
  bool divergent_ = false;
};

}  // namespace exmc::nuts
