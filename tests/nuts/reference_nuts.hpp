// A deliberately naive NUTS (fresh vectors everywhere, log-sum-exp weights, written straight from
// Stan's base_nuts structure) whose decisions the optimised tree must make from the same random
// stream: the same draws, tree sizes, divergences and acceptance statistics, bit for bit (it
// sums acceptance probabilities with the tree's exp, leaf_exp; core fast_math_test checks that exp).
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "../../src/nuts/fast_exp.hpp"
#include "exmc/nuts/leapfrog.hpp"
#include "exmc/nuts/sample_stats.hpp"

namespace exmc::testing {

class ReferenceNuts {
 public:
  using V = std::vector<double>;
  ReferenceNuts(nuts::Leapfrog& integ, Rng& rng, int max_depth, double max_dh)
      : integ_(integ), rng_(rng), max_depth_(max_depth), max_dh_(max_dh) {}

  nuts::SampleStats transition(nuts::PhasePoint& start, double eps) {
    const size_t d = start.q.size();
    z_ = start;
    integ_.metric().sample_momentum(rng_, z_.p.data());
    V v0(d);
    const double H0 = -z_.logp + integ_.prepare(z_, v0.data());
    nuts::PhasePoint z_fwd = z_, z_bck = z_;
    Prop sample{z_.q, z_.g, z_.logp, H0 + z_.logp};
    V p_ff = z_.p, ps_ff = v0, p_fb = z_.p, ps_fb = v0, p_bf = z_.p, ps_bf = v0, p_bb = z_.p,
      ps_bb = v0, rho = z_.p;
    double lsw = 0;
    n_leapfrog_ = 0;
    sum_metro_ = 0;
    divergent_ = false;
    int depth = 0;
    while (depth < max_depth_) {
      V rho_f(d, 0.0), rho_b(d, 0.0);
      double lsw_sub = -std::numeric_limits<double>::infinity();
      Prop propose;
      bool valid;
      if (rng_.uniform() > 0.5) {
        z_ = z_fwd;
        rho_b = rho;
        p_bf = p_ff;
        ps_bf = ps_ff;
        valid = build(depth, propose, ps_fb, ps_ff, rho_f, p_fb, p_ff, H0, eps, lsw_sub);
        z_fwd = z_;
      } else {
        z_ = z_bck;
        rho_f = rho;
        p_fb = p_bb;
        ps_fb = ps_bb;
        valid = build(depth, propose, ps_bf, ps_bb, rho_b, p_bf, p_bb, H0, -eps, lsw_sub);
        z_bck = z_;
      }
      if (!valid) break;
      ++depth;
      if (lsw_sub > lsw) sample = propose;
      else if (rng_.uniform() < std::exp(lsw_sub - lsw)) sample = propose;
      lsw = lse(lsw, lsw_sub);
      rho = add(rho_b, rho_f);
      bool persist = crit(ps_bb, ps_ff, rho);
      persist &= crit(ps_bb, ps_fb, add(rho_b, p_fb));
      persist &= crit(ps_bf, ps_ff, add(rho_f, p_bf));
      if (!persist) break;
    }
    start.q = sample.q;
    start.g = sample.g;
    start.logp = sample.logp;
    nuts::SampleStats s;
    s.lp = sample.logp;
    s.accept_stat = sum_metro_ / n_leapfrog_;
    s.step_size = eps;
    s.tree_depth = depth;
    s.n_leapfrog = n_leapfrog_;
    s.divergent = divergent_;
    s.energy = -sample.logp + sample.kinetic;
    return s;
  }

 // The largest H0 - H and H - H0 over the leaves that did not diverge, for tests that must reach
  // weights beyond exp's range.
  double max_energy_drop = 0, max_energy_rise = 0;

 private:
  struct Prop {
    V q, g;
    double logp = 0, kinetic = 0;
  };
  static double lse(double a, double b) {
    if (a == -std::numeric_limits<double>::infinity()) return b;
    if (b == -std::numeric_limits<double>::infinity()) return a;
    const double m = std::max(a, b);
    return m + std::log1p(std::exp(-std::fabs(a - b)));
  }
  static V add(const V& a, const V& b) {
    V r(a.size());
    for (size_t i = 0; i < a.size(); ++i) r[i] = a[i] + b[i];
    return r;
  }
  static bool crit(const V& m, const V& p, const V& rho) {
    double a = 0, b = 0;
    for (size_t i = 0; i < rho.size(); ++i) a += p[i] * rho[i], b += m[i] * rho[i];
    return a > 0 && b > 0;
  }

  bool build(int depth, Prop& propose, V& ps_beg, V& ps_end, V& rho, V& p_beg, V& p_end,
             double H0, double eps, double& lsw) {
    const size_t d = rho.size();
    if (depth == 0) {
      V v(d);
      const double k = integ_.step(z_, eps, v.data());
      ++n_leapfrog_;
      double h = -z_.logp + k;
      if (std::isnan(h)) h = std::numeric_limits<double>::infinity();
      if (h - H0 > max_dh_) divergent_ = true;
      lsw = lse(lsw, H0 - h);
      sum_metro_ += H0 - h > 0 ? 1 : nuts::detail::leaf_exp(H0 - h);
      if (!divergent_) max_energy_drop = std::max(max_energy_drop, H0 - h);
      if (!divergent_) max_energy_rise = std::max(max_energy_rise, h - H0);
      propose = Prop{z_.q, z_.g, z_.logp, k};
      ps_beg = v;
      ps_end = v;
      for (size_t i = 0; i < d; ++i) rho[i] += z_.p[i];
      p_beg = z_.p;
      p_end = z_.p;
      return !divergent_;
    }
    double lsw_init = -std::numeric_limits<double>::infinity();
    V p_init_end(d), ps_init_end(d), rho_init(d, 0.0);
    if (!build(depth - 1, propose, ps_beg, ps_init_end, rho_init, p_beg, p_init_end, H0, eps,
               lsw_init))
      return false;
    Prop propose_final;
    double lsw_final = -std::numeric_limits<double>::infinity();
    V p_final_beg(d), ps_final_beg(d), rho_final(d, 0.0);
    if (!build(depth - 1, propose_final, ps_final_beg, ps_end, rho_final, p_final_beg, p_end, H0,
               eps, lsw_final))
      return false;
    const double lsw_sub = lse(lsw_init, lsw_final);
    lsw = lse(lsw, lsw_sub);
    if (lsw_final > lsw_sub) propose = propose_final;
    else if (rng_.uniform() < std::exp(lsw_final - lsw_sub)) propose = propose_final;
    const V rho_sub = add(rho_init, rho_final);
    for (size_t i = 0; i < d; ++i) rho[i] += rho_sub[i];
    bool persist = crit(ps_beg, ps_end, rho_sub);
    persist &= crit(ps_beg, ps_final_beg, add(rho_init, p_final_beg));
    persist &= crit(ps_init_end, ps_end, add(rho_final, p_init_end));
    return persist;
  }

  nuts::Leapfrog& integ_;
  Rng& rng_;
  int max_depth_;
  double max_dh_;
  nuts::PhasePoint z_;
  int n_leapfrog_ = 0;
  double sum_metro_ = 0;
  bool divergent_ = false;
};

}  // namespace exmc::testing
