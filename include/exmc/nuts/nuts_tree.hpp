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
class NutsTree {
 public:
  NutsTree(Leapfrog& integrator, Rng& rng, int max_depth = 10, double max_delta_h = 1000.0);

  // z holds q, g and logp of the current state; on return it holds the selected draw (its p is
  // unspecified). Stats lp and step_size are filled too.
  SampleStats transition(PhasePoint& z, double eps);

  void set_observer(TreeObserver* obs) { observer_ = obs; }
  int max_depth() const { return max_depth_; }

 private:
  struct Proposal {
    std::vector<double> q, g;
    double logp = 0, kinetic = 0;
  };
  struct Level {
    std::vector<double> p_init_end, ps_init_end, rho_init;
    std::vector<double> p_final_beg, ps_final_beg, rho_final;
    Proposal final_proposal;
  };

  bool build_tree(int depth, Proposal& propose, double* ps_beg, double* ps_end, double* rho,
                  double* p_beg, double* p_end, double H0, double signed_eps,
                  double& log_sum_weight);
  void take(Proposal& dst, const Proposal& src) const;
  bool criterion(const double* ps_minus, const double* ps_plus, const double* rho) const;

  Leapfrog& integ_;
  Rng& rng_;
  int max_depth_;
  double max_delta_h_;
  size_t d_;
  TreeObserver* observer_ = nullptr;

  // Per-transition scratch, preallocated.
  PhasePoint z_, z_fwd_, z_bck_;
  Proposal sample_, propose_;
  std::vector<double> p_fwd_fwd_, ps_fwd_fwd_, p_fwd_bck_, ps_fwd_bck_;
  std::vector<double> p_bck_fwd_, ps_bck_fwd_, p_bck_bck_, ps_bck_bck_;
  std::vector<double> rho_, rho_fwd_, rho_bck_, rho_ext_, v_;
  std::vector<Level> levels_;
  int n_leapfrog_ = 0;
  double sum_metro_prob_ = 0;
  bool divergent_ = false;
};

}  // namespace exmc::nuts
