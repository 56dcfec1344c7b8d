// Every knob of one NUTS chain: lengths, tree limits, adaptation and initialisation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/nuts/dual_averaging.hpp"
#include "exmc/nuts/grad_metric_adapter.hpp"
#include "exmc/nuts/low_rank_metric_adapter.hpp"
#include "exmc/nuts/metric.hpp"
#include "exmc/nuts/window_schedule.hpp"

namespace exmc::nuts {

enum class MetricAdaptation {
  Windowed,  // Stan: Welford (co)variance of draws over doubling windows
  Gradient,  // nutpie: sqrt(Var x / Var grad), diagonal only
  LowRank,   // nutpie: the Gradient diagonal plus a low-rank correction (metric = Diag)
  None,      // keep the initial metric; only the step size adapts (if adapt is on)
};

struct SamplerConfig {
  unsigned num_warmup = 1000;
  unsigned num_samples = 1000;
  // Stan's thin: keep iterations 0, thin, 2*thin, ... of each phase (sampling, and warmup when
  // it is saved), so a phase of n iterations yields ceil(n / thin) draws. The chain still runs
  // every iteration; thinning only drops output.
  unsigned thin = 1;
  int max_depth = 10;
  double max_delta_h = 1000.0;  // energy error that counts as a divergence

  MetricKind metric = MetricKind::Diag;
  MetricAdaptation metric_adaptation = MetricAdaptation::Windowed;
  bool adapt = true;  // false: no step size or metric adaptation at all during warmup
  double init_step_size = 1.0;
  DualAveragingConfig dual_averaging;
  WindowConfig windows;
  GradMetricConfig grad_metric;  // schedule of both nutpie-style adaptations
  LowRankConfig low_rank;

  // CmdStan's fixed_param sampler: the chain stays at its initial point, every iteration returns
  // it (for generated quantities of given parameters, or a program without parameters), with
  // lp__ and accept_stat__ 0 as CmdStan writes them. No warmup (num_warmup must be 0), no tree,
  // no random numbers after the initial point.
  bool fixed_param = false;

  // Start from a saved adaptation (metric + step size). With adapt = false this reproduces a
  // run that used the same state, with zero further adaptation.
  std::optional<AdaptationState> warm_start;

  // Initial point: explicit unconstrained x, else named constrained values (via
  // LogDensity::unconstrain), else uniform(-init_radius, init_radius) with retries.
  std::vector<double> init_x;
  std::vector<std::pair<std::string, std::vector<double>>> init_values;
  double init_radius = 2.0;
  int init_attempts = 100;

  // Throws std::invalid_argument naming the first bad field and the range it must lie in.
  void validate() const;
};

}  // namespace exmc::nuts
