// Stan's metric adaptation: Welford (co)variance of draws per window, shrunk toward 1e-3 * I.
#pragma once

#include <vector>

#include "exmc/nuts/metric_adapter.hpp"
#include "exmc/nuts/welford.hpp"
#include "exmc/nuts/window_schedule.hpp"

namespace exmc::nuts {

class WindowedMetricAdapter final : public MetricAdapter {
 public:
  WindowedMetricAdapter(size_t dim, MetricKind kind, unsigned num_warmup, WindowConfig cfg);
  AdaptEvent observe(const PhasePoint& draw, Metric& metric) override;
  const WindowSchedule& schedule() const { return schedule_; }
  void save_state(StateWriter& w) const override;
  void load_state(StateReader& r) override;

 private:
  MetricKind kind_;
  WindowSchedule schedule_;
  Welford est_;
  std::vector<double> var_;
};

}  // namespace exmc::nuts
