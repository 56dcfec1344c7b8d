// What warmup learned (step size and metric), saved to and loaded from JSON for warm starts.
#pragma once

#include <string>
#include <vector>

#include "exmc/nuts/metric.hpp"

namespace exmc::nuts {

struct AdaptationState {
  double step_size = 1.0;
  MetricKind metric_kind = MetricKind::Diag;
  size_t dim = 0;
  std::vector<double> inv_metric;  // diag: d values; dense: d*d column-major

  Metric metric() const;
  static AdaptationState from(double step_size, const Metric& m);
  // The same, taking a diagonal or dense metric's storage instead of copying it.
  static AdaptationState from(double step_size, Metric&& m);

  // {"stepsize": ..., "metric": "diag_e"|"dense_e", "inv_metric": [...] or [[row], ...]}
  // Numbers are written with round-trip precision so a restored run is bit-identical.
  std::string to_json() const;
  // Also reads CmdStan metric files ({"inv_metric": ...} alone; step size 1).
  // Throws std::invalid_argument naming the offending field.
  static AdaptationState from_json(const std::string& text);
  void save(const std::string& path) const;
  static AdaptationState load(const std::string& path);
};

}  // namespace exmc::nuts
