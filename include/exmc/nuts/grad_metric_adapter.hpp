// nutpie-style diagonal metric: M^{-1} = sqrt(Var x / Var grad), refreshed from a moving window.
#pragma once

#include <vector>

#include "exmc/nuts/metric_adapter.hpp"
#include "exmc/nuts/welford.hpp"

namespace exmc::nuts {

struct GradMetricConfig {
  double early_fraction = 0.3;      // first part of warmup switches estimators often
  double step_size_fraction = 0.15; // last part of warmup keeps the metric fixed
  unsigned early_switch = 10;       // draws per estimator in the early phase
  unsigned switch_every = 80;       // draws per estimator afterwards
};

// nutpie's schedule: two estimators run side by side; the foreground one sets the metric after
// every draw; the background one starts fresh and replaces it every `switch` draws (10 in the
// first 30% of warmup, 80 after), so transient early draws are forgotten. The last 15% of warmup
// keeps the metric fixed and only adapts the step size. The initial metric is 1/|grad| at the
// initial point.
class GradMetricAdapter final : public MetricAdapter {
 public:
  GradMetricAdapter(size_t dim, unsigned num_warmup, GradMetricConfig cfg = {});
  void start(const PhasePoint& init, Metric& metric) override;
  AdaptEvent observe(const PhasePoint& draw, Metric& metric) override;
  // Iteration from which the metric stays fixed and only the step size adapts.
  unsigned freeze_at() const { return freeze_at_; }
  void save_state(StateWriter& w) const override;
  void load_state(StateReader& r) override;

 private:
  void update(Metric& metric);
  size_t d_;
  GradMetricConfig cfg_;
  unsigned num_warmup_, early_end_, freeze_at_;
  unsigned iter_ = 0;
  bool first_update_ = true;
  Welford fg_x_, fg_g_, bg_x_, bg_g_;
  std::vector<double> vx_, vg_, inv_;
};

}  // namespace exmc::nuts
