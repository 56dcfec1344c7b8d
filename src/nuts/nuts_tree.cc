// Stan's NUTS transition: multinomial sampling over a doubling trajectory with the generalized
// U-turn criterion, the two extra checks across sibling subtrees, and early stop on invalid ones.
//
// Where the time goes on small models is this file, not the gradient (a 10-dimensional density
// costs ~15 ns, the tree around it used to cost ~115 ns per leapfrog), so it avoids passes over
// the d-vectors and transcendental calls: subtree weights are summed as numbers, not
// log-sum-exp'd (one inline exp per leaf, none per merge), rho is written rather than zeroed and
// accumulated, a merge's three U-turn checks are one fused pass, a two-leaf subtree checks once
// (its three checks are the same two dot products) and keeps its second leaf's proposal only when
// drawn, the trajectory's two ends are integrated in place, and the draw is written straight into
// the caller's point. Dot products are summed two lanes at a time (vec2.hpp), so they may round
// differently from a sequential sum; the decisions are Stan's (tests/nuts/nuts_tree_test.cc
// compares with a naive Stan-shaped reference over thousands of transitions).
#include "exmc/nuts/nuts_tree.hpp"

#include "fast_exp.hpp"
#include "vec2.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

namespace exmc::nuts {

namespace {

// Small vectors: a plain loop (this file is built with -fno-tree-loop-distribute-patterns so
// it stays one), since a memcpy call costs more than the copy; large ones: memcpy.
inline void copy(double* __restrict dst, const double* __restrict src, size_t d) {
  if (d > 16) {
    std::memcpy(dst, src, d * sizeof(double));
    return;
  }
  for (size_t i = 0; i < d; ++i) dst[i] = src[i];
}

// Stan's three checks when subtree A (which holds the merged trajectory's first point, velocity
// ps_beg) and subtree B (its last, ps_end) merge: the merged trajectory, A plus B's first point,
// and B plus A's last point, each with the velocities at its two ends. Writes rho_a + rho_b into
// rho_out.
inline bool merged_checks(size_t d, const double* __restrict ps_beg, const double* __restrict ps_end,
                          const double* __restrict rho_a, const double* __restrict rho_b,
                          const double* __restrict p_a_end, const double* __restrict ps_a_end,
                          const double* __restrict p_b_beg, const double* __restrict ps_b_beg,
                          double* __restrict rho_out) {
  using detail::load2;
  detail::Vec2 s0{}, s1{}, s2{}, s3{}, s4{}, s5{};
  size_t i = 0;
  for (; i + 2 <= d; i += 2) {
    const detail::Vec2 ra = load2(rho_a + i), rb = load2(rho_b + i), r = ra + rb;
    detail::store2(rho_out + i, r);
    const detail::Vec2 vb = load2(ps_beg + i), ve = load2(ps_end + i);
    s0 += vb * r;
    s1 += ve * r;
    const detail::Vec2 e1 = ra + load2(p_b_beg + i);
    s2 += vb * e1;
    s3 += load2(ps_b_beg + i) * e1;
    const detail::Vec2 e2 = rb + load2(p_a_end + i);
    s4 += load2(ps_a_end + i) * e2;
    s5 += ve * e2;
  }
  double t[6] = {detail::hsum(s0), detail::hsum(s1), detail::hsum(s2),
                 detail::hsum(s3), detail::hsum(s4), detail::hsum(s5)};
  if (i < d) {
    const double r = rho_a[i] + rho_b[i], e1 = rho_a[i] + p_b_beg[i], e2 = rho_b[i] + p_a_end[i];
    rho_out[i] = r;
    t[0] += ps_beg[i] * r;
    t[1] += ps_end[i] * r;
    t[2] += ps_beg[i] * e1;
    t[3] += ps_b_beg[i] * e1;
    t[4] += ps_a_end[i] * e2;
    t[5] += ps_end[i] * e2;
  }
  return t[0] > 0 && t[1] > 0 && t[2] > 0 && t[3] > 0 && t[4] > 0 && t[5] > 0;
}

// Both dot products of the two-leaf check, with rho = p_a + p written on the way.
inline bool pair_check(size_t d, const double* __restrict p_a, const double* __restrict v_a,
                       const double* __restrict p, const double* __restrict v,
                       double* __restrict rho) {
  using detail::load2;
  detail::Vec2 sa{}, sb{};
  size_t i = 0;
  for (; i + 2 <= d; i += 2) {
    const detail::Vec2 r = load2(p_a + i) + load2(p + i);
    detail::store2(rho + i, r);
    sa += load2(v_a + i) * r;
    sb += load2(v + i) * r;
  }
  double ta = detail::hsum(sa), tb = detail::hsum(sb);
  if (i < d) {
    const double r = p_a[i] + p[i];
    rho[i] = r;
    ta += v_a[i] * r;
    tb += v[i] * r;
  }
  return ta > 0 && tb > 0;
}

// Scales two weights to the larger exponent (at most one exp, none when they share it).
inline double align(const NutsTree::Weight& x, const NutsTree::Weight& y, double& mx, double& my) {
  if (x.e == y.e) {
    mx = x.m;
    my = y.m;
    return x.e;
  }
  if (x.e > y.e) {
    mx = x.m;
    my = y.m * std::exp(y.e - x.e);
    return x.e;
  }
  mx = x.m * std::exp(x.e - y.e);
  my = y.m;
  return y.e;
}

// Leaves whose H0 - H is inside this keep exponent 0: exp stays a normal double, and a sum of
// 2^30 of them (max_depth's limit) stays below DBL_MAX (e^680 * 2^30 < e^702 < e^709).
constexpr double kPlainExponent = 680.0;

void copy_point(PhasePoint& dst, const PhasePoint& src, size_t d, bool dense) {
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
      z_fwd_(d_),
      z_bck_(d_) {
  for (auto* v : {&propose_q_, &propose_g_, &p_fwd_fwd_, &ps_fwd_fwd_, &p_fwd_bck_, &ps_fwd_bck_,
                  &p_bck_fwd_, &ps_bck_fwd_, &p_bck_bck_, &ps_bck_bck_, &rho_, &rho_fwd_, &rho_bck_,
                  &v_})
    v->assign(d_, 0.0);
  // Depths 0 .. max_depth - 1 are built; the levels' vectors stay empty until reached.
  levels_.resize(static_cast<size_t>(std::max(max_depth, 1)));
}

void NutsTree::reserve_levels(int depth) {
  depth = std::min(depth, max_depth_ - 1);
  for (int k = levels_ready_ + 1; k <= depth; ++k) {
    Level& l = levels_[static_cast<size_t>(k)];
    for (auto* v : {&l.p_init_end, &l.ps_init_end, &l.rho_init, &l.p_final_beg, &l.ps_final_beg,
                    &l.rho_final, &l.final_q, &l.final_g})
      v->assign(d_, 0.0);
    l.final_proposal = Proposal{l.final_q.data(), l.final_g.data()};
    levels_ready_ = k;
  }
}

void NutsTree::take(Proposal& dst, const double* q, const double* g, double logp,
                    double kinetic) const {
  copy(dst.q, q, d_);
  copy(dst.g, g, d_);
  dst.logp = logp;
  dst.kinetic = kinetic;
}

NutsTree::Weight NutsTree::advance(PhasePoint& z, double H0, double signed_eps, double& kinetic, double* v) {
  kinetic = integ_.step(z, signed_eps, v);
  ++n_leapfrog_;
  double h = -z.logp + kinetic;
  if (std::isnan(h)) h = std::numeric_limits<double>::infinity();
  if (h - H0 > max_delta_h_) divergent_ = true;
  if (observer_) observer_->on_leaf(z.q.data(), d_, divergent_);
  const double a = H0 - h;
  if (a > -kPlainExponent && a < kPlainExponent) {
    const double w = detail::exp_in_range(a);
    sum_metro_prob_ += a > 0 ? 1.0 : w;
    return {w, 0.0};
  }
  sum_metro_prob_ += a > 0 ? 1.0 : detail::leaf_exp(a);
  return {1.0, a};
}

SampleStats NutsTree::transition(PhasePoint& z, double eps) {
  const size_t d = d_;
  const Metric& metric = integ_.metric();
  const bool dense = metric.is_dense();

  copy(z_fwd_.q.data(), z.q.data(), d);
  copy(z_fwd_.g.data(), z.g.data(), d);
  z_fwd_.logp = z.logp;
  metric.sample_momentum(rng_, z_fwd_.p.data());
  const double k0 = integ_.prepare(z_fwd_, v_.data());
  const double H0 = -z_fwd_.logp + k0;
  copy_point(z_bck_, z_fwd_, d, dense);

  // The draw is kept in z itself, which starts as the initial point.
  Proposal sample{z.q.data(), z.g.data(), z.logp, k0};
  Proposal propose{propose_q_.data(), propose_g_.data()};

  for (auto* pv : {&p_fwd_fwd_, &p_bck_bck_, &rho_}) copy(pv->data(), z_fwd_.p.data(), d);
  for (auto* pv : {&ps_fwd_fwd_, &ps_bck_bck_}) copy(pv->data(), v_.data(), d);

  Weight weight{1.0, 0.0};  // exp(H0 - H0)
  n_leapfrog_ = 0;
  sum_metro_prob_ = 0;
  divergent_ = false;
  interrupted_ = false;
  int depth = 0;

  while (depth < max_depth_) {
    if (cancel_requested()) break;
    // A depth reached for the first time: its buffers, once (before any leapfrog of it).
    if (depth > levels_ready_) reserve_levels(depth);
    Weight weight_subtree;
    bool valid_subtree;

    // The whole old trajectory becomes the subtree behind the new one; its outer end on the
    // side being extended is the old trajectory's end there. Swaps, not copies: the buffers
    // they leave behind are written by build_tree before anything reads them.
    if (rng_.uniform() > 0.5) {
      std::swap(rho_bck_, rho_);
      std::swap(p_bck_fwd_, p_fwd_fwd_);
      std::swap(ps_bck_fwd_, ps_fwd_fwd_);
      const Ends ends{ps_fwd_bck_.data(), ps_fwd_fwd_.data(), rho_fwd_.data(), p_fwd_bck_.data(),
                      p_fwd_fwd_.data()};
      valid_subtree = build_tree(z_fwd_, depth, propose, ends, H0, eps, weight_subtree);
    } else {
      std::swap(rho_fwd_, rho_);
      std::swap(p_fwd_bck_, p_bck_bck_);
      std::swap(ps_fwd_bck_, ps_bck_bck_);
      const Ends ends{ps_bck_fwd_.data(), ps_bck_bck_.data(), rho_bck_.data(), p_bck_fwd_.data(),
                      p_bck_bck_.data()};
      valid_subtree = build_tree(z_bck_, depth, propose, ends, H0, -eps, weight_subtree);
    }
    if (observer_) observer_->on_extension(depth, valid_subtree);

    // A subtree that diverged or turned back inside is discarded whole, never merged.
    if (!valid_subtree) break;

    ++depth;
    // Biased progressive sampling favours the newer (outer) subtree.
    double m_old, m_sub;
    const double e = align(weight, weight_subtree, m_old, m_sub);
    // The uniform is drawn only when the new subtree weighs less (as Stan).
    if (m_sub > m_old || rng_.uniform() < m_sub / m_old)
      take(sample, propose.q, propose.g, propose.logp, propose.kinetic);
    weight = {m_old + m_sub, e};

    if (!merged_checks(d, ps_bck_bck_.data(), ps_fwd_fwd_.data(), rho_bck_.data(), rho_fwd_.data(),
                       p_bck_fwd_.data(), ps_bck_fwd_.data(), p_fwd_bck_.data(), ps_fwd_bck_.data(),
                       rho_.data()))
      break;
  }

  z.logp = sample.logp;

  SampleStats s;
  s.lp = sample.logp;
  s.accept_stat = n_leapfrog_ > 0 ? sum_metro_prob_ / n_leapfrog_ : 0.0;
  s.step_size = eps;
  s.tree_depth = depth;
  s.n_leapfrog = n_leapfrog_;
  s.divergent = divergent_;
  s.energy = -sample.logp + sample.kinetic;
  return s;
}

// Uniform progressive sampling inside a subtree: `sum` becomes the two halves' weight, and the
// second half's proposal is drawn with probability w_second / (w_first + w_second). Stan always
// draws the uniform here (its "final > subtree" branch cannot fire), as we do.
bool NutsTree::draw_second(const Weight& first, const Weight& second, Weight& sum) {
  double m_first, m_second;
  const double exponent = align(first, second, m_first, m_second);
  sum = {m_first + m_second, exponent};
  return rng_.uniform() < m_second / sum.m;
}

bool NutsTree::build_tree(PhasePoint& z, int depth, Proposal& propose, const Ends& e, double H0,
                          double signed_eps, Weight& weight) {
  if (depth == 0) return build_leaf(z, propose, e, H0, signed_eps, weight);
  if (depth == 1) return build_pair(z, propose, e, H0, signed_eps, weight);

  Level& L = levels_[static_cast<size_t>(depth)];

  Weight weight_init;
  const Ends init{e.ps_beg, L.ps_init_end.data(), L.rho_init.data(), e.p_beg, L.p_init_end.data()};
  const bool valid_init = build_tree(z, depth - 1, propose, init, H0, signed_eps, weight_init);
  if (observer_) observer_->on_subtree(depth - 1, valid_init);
  if (!valid_init) return false;
  // Between the halves: the only cancel check inside a trajectory (every second leapfrog at most).
  if (cancel_requested()) return false;

  Weight weight_final;
  const Ends final_ends{L.ps_final_beg.data(), e.ps_end, L.rho_final.data(), L.p_final_beg.data(),
                        e.p_end};
  const bool valid_final =
      build_tree(z, depth - 1, L.final_proposal, final_ends, H0, signed_eps, weight_final);
  if (observer_) observer_->on_subtree(depth - 1, valid_final);
  if (!valid_final) return false;

  if (observer_) observer_->on_merge(depth - 1);
  if (draw_second(weight_init, weight_final, weight)) {
    const Proposal& f = L.final_proposal;
    take(propose, f.q, f.g, f.logp, f.kinetic);
  }
  return merged_checks(d_, e.ps_beg, e.ps_end, L.rho_init.data(), L.rho_final.data(),
                       L.p_init_end.data(), L.ps_init_end.data(), L.p_final_beg.data(),
                       L.ps_final_beg.data(), e.rho);
}

bool NutsTree::build_leaf(PhasePoint& z, Proposal& propose, const Ends& e, double H0,
                          double signed_eps, Weight& weight) {
  const size_t d = d_;
  double kinetic;
  weight = advance(z, H0, signed_eps, kinetic, e.ps_beg);
  take(propose, z.q.data(), z.g.data(), z.logp, kinetic);
  copy(e.ps_end, e.ps_beg, d);
  copy(e.p_beg, z.p.data(), d);
  copy(e.p_end, z.p.data(), d);
  copy(e.rho, z.p.data(), d);
  return !divergent_;
}

// A subtree of two leaves a, b. Stan's three checks are then one: the merged trajectory's
// rho = p_a + p_b equals both "one side plus the other's end" sums, and its end velocities are
// v_a and v_b in all three.
bool NutsTree::build_pair(PhasePoint& z, Proposal& propose, const Ends& e, double H0,
                          double signed_eps, Weight& weight) {
  const size_t d = d_;
  double kinetic_a, kinetic_b;
  // Each leaf's velocity goes straight into the end it becomes (a copy each from a scratch
  // buffer cost ~2% of a 3,845-dimension model's sampling).
  const Weight weight_a = advance(z, H0, signed_eps, kinetic_a, e.ps_beg);
  if (divergent_) {
    if (observer_) observer_->on_subtree(0, false);
    return false;
  }
  take(propose, z.q.data(), z.g.data(), z.logp, kinetic_a);
  copy(e.p_beg, z.p.data(), d);
  if (observer_) observer_->on_subtree(0, true);

  const Weight weight_b = advance(z, H0, signed_eps, kinetic_b, e.ps_end);
  if (observer_) observer_->on_subtree(0, !divergent_);
  if (divergent_) return false;
  if (observer_) observer_->on_merge(0);

  if (draw_second(weight_a, weight_b, weight)) take(propose, z.q.data(), z.g.data(), z.logp, kinetic_b);

  const double* p = z.p.data();
  const bool no_uturn = pair_check(d, e.p_beg, e.ps_beg, p, e.ps_end, e.rho);
  copy(e.p_end, p, d);
  return no_uturn;
}

}  // namespace exmc::nuts
