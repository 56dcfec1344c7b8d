// nutpie-style gradient-based diagonal metric adaptation.
#include "exmc/nuts/grad_metric_adapter.hpp"

#include <algorithm>
#include <cmath>

#include "exmc/core/state_io.hpp"

namespace exmc::nuts {

namespace {
// Keeps a single wild coordinate from producing a useless metric.
constexpr double kMinInv = 1e-10, kMaxInv = 1e10;
inline double clamp_inv(double v) {
  if (std::isnan(v)) return 1.0;  // 0/0: no information about this coordinate yet
  return std::clamp(v, kMinInv, kMaxInv);
}
}  // namespace

GradMetricAdapter::GradMetricAdapter(size_t dim, unsigned num_warmup, GradMetricConfig cfg)
    : d_(dim),
      cfg_(cfg),
      num_warmup_(num_warmup),
      early_end_(static_cast<unsigned>(cfg.early_fraction * num_warmup)),
      freeze_at_(num_warmup - static_cast<unsigned>(cfg.step_size_fraction * num_warmup)),
      fg_x_(dim, false),
      fg_g_(dim, false),
      bg_x_(dim, false),
      bg_g_(dim, false),
      vx_(dim),
      vg_(dim),
      inv_(dim) {}

void GradMetricAdapter::start(const PhasePoint& init, Metric& metric) {
  // With no draws yet, Var x / Var grad ~ 1 / grad^2, i.e. M^{-1} ~ 1/|grad|.
  for (size_t i = 0; i < d_; ++i) {
    const double a = std::fabs(init.g[i]);
    inv_[i] = a > 0 ? clamp_inv(1.0 / a) : 1.0;
  }
  metric = Metric::diag(inv_);
}

void GradMetricAdapter::update(Metric& metric) {
  fg_x_.variance(vx_);
  fg_g_.variance(vg_);
  for (size_t i = 0; i < d_; ++i) inv_[i] = clamp_inv(std::sqrt(vx_[i] / vg_[i]));
  metric.assign_diag(inv_);
}

AdaptEvent GradMetricAdapter::observe(const PhasePoint& draw, Metric& metric) {
  const unsigned it = iter_++;
  if (it >= freeze_at_) return AdaptEvent::None;  // final window: step size only
  fg_x_.add(draw.q.data());
  fg_g_.add(draw.g.data());
  bg_x_.add(draw.q.data());
  bg_g_.add(draw.g.data());
  const unsigned every = it < early_end_ ? cfg_.early_switch : cfg_.switch_every;
  // Switch only when the background estimator is full and a full one could still follow
  // before the metric freezes.
  if (bg_x_.count() >= every && every + it <= freeze_at_) {
    std::swap(fg_x_, bg_x_);
    std::swap(fg_g_, bg_g_);
    bg_x_.restart();
    bg_g_.restart();
  }
  if (fg_x_.count() < 3) return AdaptEvent::None;
  update(metric);
  // The first metric from draws replaces the gradient-only guess, usually by a lot: start the
  // step size afresh then; later refinements are small and dual averaging just carries on.
  if (first_update_) {
    first_update_ = false;
    return AdaptEvent::Restart;
  }
  return AdaptEvent::MetricChanged;
}

void GradMetricAdapter::save_state(StateWriter& w) const {
  w.tag("GMAD");
  w.u64(iter_);
  w.boolean(first_update_);
  for (const Welford* e : {&fg_x_, &fg_g_, &bg_x_, &bg_g_}) e->save_state(w);
  w.f64s(inv_);
}

void GradMetricAdapter::load_state(StateReader& r) {
  r.tag("GMAD");
  iter_ = static_cast<unsigned>(r.u64());
  first_update_ = r.boolean();
  for (Welford* e : {&fg_x_, &fg_g_, &bg_x_, &bg_g_}) e->load_state(r);
  r.f64s_into(inv_, d_, "inverse metric");
}

}  // namespace exmc::nuts
