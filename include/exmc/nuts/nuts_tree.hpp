// Stan's multinomial NUTS transition (base_nuts): trajectory doubling with generalized U-turn checks.
#pragma once

#include <vector>

#include "exmc/core/rng.hpp"
#include "exmc/nuts/leapfrog.hpp"
#include "exmc/nuts/phase_point.hpp"
#include "exmc/nuts/sample_stats.hpp"
#include "exmc/nuts/tree_observer.hpp"

namespace exmc::nuts {

// Knows nothing about adaptation: given a state and a step size it returns the next state.
// All buffers are sized once in the constructor; a transition allocates nothing.
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
  std::vector<Level> levels_;
  int n_leapfrog_ = 0;
  double sum_metro_prob_ = 0;
  bool divergent_ = false;
};

}  // namespace exmc::nuts
