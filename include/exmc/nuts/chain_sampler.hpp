// One NUTS chain: composes the tree, the step-size and metric adapters, and initialisation.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "exmc/core/log_density.hpp"
#include "exmc/core/rng.hpp"
#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/nuts/dual_averaging.hpp"
#include "exmc/nuts/handoff_point.hpp"
#include "exmc/nuts/leapfrog.hpp"
#include "exmc/nuts/metric.hpp"
#include "exmc/nuts/metric_adapter.hpp"
#include "exmc/nuts/nuts_tree.hpp"
#include "exmc/nuts/sample_stats.hpp"
#include "exmc/nuts/sampler_config.hpp"

namespace exmc::nuts {

// Usage: initialize(); then call iterate() num_warmup + num_samples times. The first num_warmup
// iterations are warmup (adapting when cfg.adapt); step size and metric are fixed afterwards.
// The chain draws all its randomness from Rng(seed, chain), so it is a pure function of
// (density, config, seed, chain).
class ChainSampler {
 public:
  ChainSampler(const LogDensity& density, const SamplerConfig& cfg, uint64_t seed, uint64_t chain);
  ~ChainSampler();
  ChainSampler(const ChainSampler&) = delete;
  ChainSampler& operator=(const ChainSampler&) = delete;

  // Initial point and (when adapting) initial step size. Throws InitError.
  void initialize();
  const SampleStats& iterate();

  bool in_warmup() const { return iter_ < cfg_.num_warmup; }
  unsigned iteration() const { return iter_; }
  const PhasePoint& state() const { return z_; }
  double step_size() const { return eps_; }
  const Metric& metric() const { return metric_; }
  AdaptationState adaptation() const { return AdaptationState::from(eps_, metric_); }
  // The same for a chain that is done, its metric moved out instead of copied (a dense metric is
  // 8 d^2 bytes: 800 MB at 10^4 dimensions). The sampler must not iterate or save its state after.
  AdaptationState release_adaptation() { return AdaptationState::from(eps_, std::move(metric_)); }
  uint64_t grad_evals() const { return integ_.grad_evals(); }
  uint64_t faults() const { return integ_.faults(); }
  void set_observer(TreeObserver* obs) { tree_.set_observer(obs); }
  // See NutsTree::set_cancel_flag: a set flag ends the current iteration inside its trajectory.
  // That iteration then counts for nothing (no adaptation, iteration() unchanged) and
  // interrupted() is true; the sampler's state is no longer one to save or continue.
  void set_cancel_flag(const std::atomic<bool>* flag) { tree_.set_cancel_flag(flag); }
  bool interrupted() const { return tree_.interrupted(); }
  const SamplerConfig& config() const { return cfg_; }

  // The chain's whole state between two iterations (position, momentum, gradient, step size,
  // metric, adaptation, random stream, counters) for checkpoints: a sampler built with the same
  // density, config, seed and chain that load_state()s it (instead of initialize()) continues
  // with exactly the iterations the saved one would have run. load_state throws
  // std::runtime_error on a state of another model, configuration or chain.
  void save_state(StateWriter& w) const;
  void load_state(StateReader& r);

 private:
  void reinit_step_size();
  const LogDensity& density_;
  SamplerConfig cfg_;
  Rng rng_;
  Metric metric_;
  Leapfrog integ_;
  NutsTree tree_;
  DualAveraging dual_;
  std::unique_ptr<MetricAdapter> adapter_;
  PhasePoint z_, scratch_;
  // Where sampling starts after a gradient-based warmup (HandoffPoint); unused by Stan's
  // windowed adaptation.
  HandoffPoint handoff_;
  bool guard_handoff_ = false;
  SampleStats stats_;
  double eps_ = 1.0;
  unsigned iter_ = 0;
};

}  // namespace exmc::nuts
