// Stan's NUTS transition: multinomial sampling over a doubling trajectory with the generalized
// U-turn criterion, the two extra checks across sibling subtrees, and early stop on invalid ones.
#include "exmc/nuts/nuts_tree.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace exmc::nuts {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// log(1 + r) for r in (0, 1] instead of log1p: glibc's log1p costs about twice as much, and the
// absolute error (< 1.2e-16, one ulp of 1) is far below anything the weights can resolve.
inline double log_sum_exp(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log(1.0 + std::exp(-std::fabs(a - b)));
}

// Small vectors: a plain loop (this file is built with -fno-tree-loop-distribute-patterns so
// it stays one), since a memcpy call costs more than the copy; large ones: memcpy.
inline void copy(double* __restrict dst, const double* __restrict src, size_t d) {
  if (d > 16) {
    std::memcpy(dst, src, d * sizeof(double));
    return;
  }
  for (size_t i = 0; i < d; ++i) dst[i] = src[i];
}
inline void copy_point(PhasePoint& dst, const PhasePoint& src, size_t d, bool dense) {
  copy(dst.q.data(), src.q.data(), d);
  copy(dst.p.data(), src.p.data(), d);
  copy(dst.g.data(), src.g.data(), d);
  if (dense) {
    copy(dst.v.data(), src.v.data(), d);
    copy(dst.mg.data(), src.mg.data(), d);
  }
  dst.logp = src.logp;
}

}  // namespace

NutsTree::NutsTree(Leapfrog& integrator, Rng& rng, int max_depth, double max_delta_h)
    : integ_(integrator),
      rng_(rng),
      max_depth_(max_depth),
      max_delta_h_(max_delta_h),
      d_(integrator.density().dim()),
      z_(d_),
      z_fwd_(d_),
      z_bck_(d_) {
  auto alloc = [&](Proposal& p) {
    p.q.assign(d_, 0.0);
    p.g.assign(d_, 0.0);
  };
  alloc(sample_);
  alloc(propose_);
  for (auto* v : {&p_fwd_fwd_, &ps_fwd_fwd_, &p_fwd_bck_, &ps_fwd_bck_, &p_bck_fwd_, &ps_bck_fwd_,
                  &p_bck_bck_, &ps_bck_bck_, &rho_, &rho_fwd_, &rho_bck_, &rho_ext_, &v_})
    v->assign(d_, 0.0);
  levels_.resize(static_cast<size_t>(std::max(max_depth, 0)) + 1);
  for (auto& l : levels_) {
    for (auto* v : {&l.p_init_end, &l.ps_init_end, &l.rho_init, &l.p_final_beg, &l.ps_final_beg,
                    &l.rho_final})
      v->assign(d_, 0.0);
    alloc(l.final_proposal);
  }
}

void NutsTree::take(Proposal& dst, const Proposal& src) const {
  copy(dst.q.data(), src.q.data(), d_);
  copy(dst.g.data(), src.g.data(), d_);
  dst.logp = src.logp;
  dst.kinetic = src.kinetic;
}

bool NutsTree::criterion(const double* ps_minus, const double* ps_plus, const double* rho) const {
  double a = 0, b = 0;
  for (size_t i = 0; i < d_; ++i) {
    a += ps_plus[i] * rho[i];
    b += ps_minus[i] * rho[i];
  }
  return a > 0 && b > 0;
}

SampleStats NutsTree::transition(PhasePoint& z, double eps) {
  const size_t d = d_;
  const Metric& metric = integ_.metric();

  copy(z_.q.data(), z.q.data(), d);
  copy(z_.g.data(), z.g.data(), d);
  z_.logp = z.logp;
  metric.sample_momentum(rng_, z_.p.data());
  const double k0 = integ_.prepare(z_, v_.data());
  const bool dense = metric.is_dense();
  const double H0 = -z_.logp + k0;

  copy_point(z_fwd_, z_, d, dense);
  copy_point(z_bck_, z_, d, dense);
  copy(sample_.q.data(), z_.q.data(), d);
  copy(sample_.g.data(), z_.g.data(), d);
  sample_.logp = z_.logp;
  sample_.kinetic = k0;

  for (auto* pv : {&p_fwd_fwd_, &p_fwd_bck_, &p_bck_fwd_, &p_bck_bck_, &rho_})
    copy(pv->data(), z_.p.data(), d);
  for (auto* pv : {&ps_fwd_fwd_, &ps_fwd_bck_, &ps_bck_fwd_, &ps_bck_bck_})
    copy(pv->data(), v_.data(), d);

  double log_sum_weight = 0;  // log(exp(H0 - H0))
  n_leapfrog_ = 0;
  sum_metro_prob_ = 0;
  divergent_ = false;
  int depth = 0;

  while (depth < max_depth_) {
    for (size_t i = 0; i < d; ++i) rho_fwd_[i] = rho_bck_[i] = 0.0;
    double log_sum_weight_subtree = kNegInf;
    bool valid_subtree;

    if (rng_.uniform() > 0.5) {
      copy_point(z_, z_fwd_, d, dense);
      // The whole old trajectory becomes the backward subtree; its forward end is the old
      // forward end.
      copy(rho_bck_.data(), rho_.data(), d);
      copy(p_bck_fwd_.data(), p_fwd_fwd_.data(), d);
      copy(ps_bck_fwd_.data(), ps_fwd_fwd_.data(), d);
      valid_subtree = build_tree(depth, propose_, ps_fwd_bck_.data(), ps_fwd_fwd_.data(),
                                 rho_fwd_.data(), p_fwd_bck_.data(), p_fwd_fwd_.data(), H0, eps,
                                 log_sum_weight_subtree);
      copy_point(z_fwd_, z_, d, dense);
    } else {
      copy_point(z_, z_bck_, d, dense);
      copy(rho_fwd_.data(), rho_.data(), d);
      copy(p_fwd_bck_.data(), p_bck_bck_.data(), d);
      copy(ps_fwd_bck_.data(), ps_bck_bck_.data(), d);
      valid_subtree = build_tree(depth, propose_, ps_bck_fwd_.data(), ps_bck_bck_.data(),
                                 rho_bck_.data(), p_bck_fwd_.data(), p_bck_bck_.data(), H0, -eps,
                                 log_sum_weight_subtree);
      copy_point(z_bck_, z_, d, dense);
    }
    if (observer_) observer_->on_extension(depth, valid_subtree);

    // A subtree that diverged or turned back inside is discarded whole, never merged.
    if (!valid_subtree) break;

    ++depth;
    // Biased progressive sampling favours the newer (outer) subtree. One exp serves both the
    // acceptance probability and the log-sum-exp (same values as computing them apart).
    const double diff = log_sum_weight_subtree - log_sum_weight;
    const double ratio = std::exp(-std::fabs(diff));
    if (diff > 0) {
      take(sample_, propose_);
      log_sum_weight = log_sum_weight_subtree + std::log(1.0 + ratio);
    } else {
      if (rng_.uniform() < ratio) take(sample_, propose_);
      log_sum_weight += std::log(1.0 + ratio);
    }

    for (size_t i = 0; i < d; ++i) rho_[i] = rho_bck_[i] + rho_fwd_[i];
    bool persist = criterion(ps_bck_bck_.data(), ps_fwd_fwd_.data(), rho_.data());
    for (size_t i = 0; i < d; ++i) rho_ext_[i] = rho_bck_[i] + p_fwd_bck_[i];
    persist = persist && criterion(ps_bck_bck_.data(), ps_fwd_bck_.data(), rho_ext_.data());
    for (size_t i = 0; i < d; ++i) rho_ext_[i] = rho_fwd_[i] + p_bck_fwd_[i];
    persist = persist && criterion(ps_bck_fwd_.data(), ps_fwd_fwd_.data(), rho_ext_.data());
    if (!persist) break;
  }

  copy(z.q.data(), sample_.q.data(), d);
  copy(z.g.data(), sample_.g.data(), d);
  z.logp = sample_.logp;

  SampleStats s;
  s.lp = sample_.logp;
  s.accept_stat = n_leapfrog_ > 0 ? sum_metro_prob_ / n_leapfrog_ : 0.0;
  s.step_size = eps;
  s.tree_depth = depth;
  s.n_leapfrog = n_leapfrog_;
  s.divergent = divergent_;
  s.energy = -sample_.logp + sample_.kinetic;
  return s;
}

bool NutsTree::build_tree(int depth, Proposal& propose, double* ps_beg, double* ps_end,
                          double* rho, double* p_beg, double* p_end, double H0, double signed_eps,
                          double& log_sum_weight) {
  const size_t d = d_;
  if (depth == 0) {
    const double kinetic = integ_.step(z_, signed_eps, v_.data());
    ++n_leapfrog_;
    double h = -z_.logp + kinetic;
    if (std::isnan(h)) h = std::numeric_limits<double>::infinity();
    if (h - H0 > max_delta_h_) divergent_ = true;
    log_sum_weight = log_sum_exp(log_sum_weight, H0 - h);
    sum_metro_prob_ += (H0 - h > 0) ? 1.0 : std::exp(H0 - h);

    copy(propose.q.data(), z_.q.data(), d);
    copy(propose.g.data(), z_.g.data(), d);
    propose.logp = z_.logp;
    propose.kinetic = kinetic;

    copy(ps_beg, v_.data(), d);
    copy(ps_end, v_.data(), d);
    const double* p = z_.p.data();
    for (size_t i = 0; i < d; ++i) rho[i] += p[i];
    copy(p_beg, p, d);
    copy(p_end, p, d);
    if (observer_) observer_->on_leaf(z_.q.data(), d, divergent_);
    return !divergent_;
  }

  Level& L = levels_[static_cast<size_t>(depth)];

  double log_sum_weight_init = kNegInf;
  for (size_t i = 0; i < d; ++i) L.rho_init[i] = 0.0;
  const bool valid_init =
      build_tree(depth - 1, propose, ps_beg, L.ps_init_end.data(), L.rho_init.data(), p_beg,
                 L.p_init_end.data(), H0, signed_eps, log_sum_weight_init);
  if (observer_) observer_->on_subtree(depth - 1, valid_init);
  if (!valid_init) return false;

  double log_sum_weight_final = kNegInf;
  for (size_t i = 0; i < d; ++i) L.rho_final[i] = 0.0;
  const bool valid_final =
      build_tree(depth - 1, L.final_proposal, L.ps_final_beg.data(), ps_end, L.rho_final.data(),
                 L.p_final_beg.data(), p_end, H0, signed_eps, log_sum_weight_final);
  if (observer_) observer_->on_subtree(depth - 1, valid_final);
  if (!valid_final) return false;

  if (observer_) observer_->on_merge(depth - 1);
  // Uniform progressive sampling inside a subtree.
  // Both halves are valid, so both weights are finite. With r = w_small / w_large from one exp,
  // log(w_init + w_final) = log w_large + log1p(r) and P(final) = w_final / (w_init + w_final).
  // Stan always draws the uniform here (its "final > subtree" branch cannot fire), as we do.
  const double diff = log_sum_weight_final - log_sum_weight_init;
  const double ratio = std::exp(-std::fabs(diff));
  const double log_sum_weight_subtree =
      std::max(log_sum_weight_init, log_sum_weight_final) + std::log(1.0 + ratio);
  log_sum_weight = log_sum_exp(log_sum_weight, log_sum_weight_subtree);
  const double p_final = diff >= 0 ? 1.0 / (1.0 + ratio) : ratio / (1.0 + ratio);
  if (rng_.uniform() < p_final) take(propose, L.final_proposal);

  double* ext = rho_ext_.data();
  // Extra checks across the two halves: init + first point of final, and final + last of init.
  for (size_t i = 0; i < d; ++i) ext[i] = L.rho_init[i] + L.p_final_beg[i];
  const bool across_init = criterion(ps_beg, L.ps_final_beg.data(), ext);
  for (size_t i = 0; i < d; ++i) ext[i] = L.rho_final[i] + L.p_init_end[i];
  const bool across_final = criterion(L.ps_init_end.data(), ps_end, ext);
  // rho_subtree is accumulated in rho_init to avoid another buffer.
  double* rho_sub = L.rho_init.data();
  for (size_t i = 0; i < d; ++i) {
    rho_sub[i] += L.rho_final[i];
    rho[i] += rho_sub[i];
  }
  const bool persist = criterion(ps_beg, ps_end, rho_sub) && across_init && across_final;
  return persist;
}

}  // namespace exmc::nuts
