// Interface for warmup observers that learn the metric from draws (and their gradients).
#pragma once

#include "exmc/nuts/metric.hpp"
#include "exmc/nuts/phase_point.hpp"

namespace exmc {
class StateWriter;
class StateReader;
}  // namespace exmc

namespace exmc::nuts {

enum class AdaptEvent { None, MetricChanged, Restart };

class MetricAdapter {
 public:
  virtual ~MetricAdapter() = default;
  // Told once before warmup with the initial point.
  virtual void start(const PhasePoint& init, Metric& metric) {}
  // Told about each warmup draw. Says whether the metric changed and whether the step size
  // should now be re-initialised (Stan's heuristic) with dual averaging restarted.
  virtual AdaptEvent observe(const PhasePoint& draw, Metric& metric) = 0;
  // Everything observe() has accumulated (checkpoints); load_state continues exactly there.
  virtual void save_state(StateWriter& w) const = 0;
  virtual void load_state(StateReader& r) = 0;
};

}  // namespace exmc::nuts
