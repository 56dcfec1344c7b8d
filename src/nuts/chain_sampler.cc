// One NUTS chain: warmup schedule wiring (Stan's adapt_*_nuts transition) and sampling.
#include "exmc/nuts/chain_sampler.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "exmc/nuts/grad_metric_adapter.hpp"
#include "exmc/nuts/initializer.hpp"
#include "exmc/nuts/step_size_init.hpp"
#include "exmc/nuts/windowed_metric_adapter.hpp"

namespace exmc::nuts {

namespace {
Metric initial_metric(const SamplerConfig& cfg, size_t d) {
  if (!cfg.warm_start) return Metric::unit(cfg.metric, d);
  if (cfg.warm_start->dim != d)
    throw std::invalid_argument("warm-start metric has dimension " +
                                std::to_string(cfg.warm_start->dim) + " but the model has " +
                                std::to_string(d));
  return cfg.warm_start->metric();
}
}  // namespace

ChainSampler::ChainSampler(const LogDensity& density, const SamplerConfig& cfg, uint64_t seed,
                           uint64_t chain)
    : density_(density),
      cfg_(cfg),
      rng_(seed, chain),
      metric_(initial_metric(cfg, density.dim())),
      integ_(density, metric_),
      tree_(integ_, rng_, cfg.max_depth, cfg.max_delta_h),
      dual_(cfg.dual_averaging),
      z_(density.dim()),
      scratch_(density.dim()) {
  if (cfg_.warm_start) cfg_.metric = cfg_.warm_start->metric_kind;
  if (cfg_.metric_adaptation == MetricAdaptation::Gradient && cfg_.metric == MetricKind::Dense)
    throw std::invalid_argument(
        "gradient-based metric adaptation is diagonal only; use MetricAdaptation::Windowed for a "
        "dense metric");
  eps_ = cfg_.warm_start ? cfg_.warm_start->step_size : cfg_.init_step_size;
  if (!(eps_ > 0) || !std::isfinite(eps_))
    throw std::invalid_argument("initial step size must be positive and finite, got " +
                                std::to_string(eps_));
  if (cfg_.adapt && cfg_.num_warmup > 0) {
    if (cfg_.metric_adaptation == MetricAdaptation::Windowed)
      adapter_ = std::make_unique<WindowedMetricAdapter>(density.dim(), cfg_.metric,
                                                         cfg_.num_warmup, cfg_.windows);
    else if (cfg_.metric_adaptation == MetricAdaptation::Gradient)
      adapter_ = std::make_unique<GradMetricAdapter>(density.dim(), cfg_.num_warmup,
                                                     cfg_.grad_metric);
  }
}

ChainSampler::~ChainSampler() = default;

void ChainSampler::initialize() {
  initialize_point(integ_, cfg_, rng_, z_);
  iter_ = 0;
  if (cfg_.adapt && cfg_.num_warmup > 0) {
    // Stan sets mu from the user's step size before the heuristic runs.
    dual_.set_mu(std::log(10.0 * eps_));
    dual_.restart();
    if (adapter_) adapter_->start(z_, metric_);
    // With no parameters every step is exact and the search would double forever.
    if (density_.dim() > 0) eps_ = find_initial_step_size(integ_, rng_, z_, eps_, scratch_);
  }
}

void ChainSampler::reinit_step_size() {
  if (density_.dim() > 0) eps_ = find_initial_step_size(integ_, rng_, z_, eps_, scratch_);
  dual_.set_mu(std::log(10.0 * eps_));
  dual_.restart();
}

const SampleStats& ChainSampler::iterate() {
  const bool warmup = in_warmup();
  stats_ = tree_.transition(z_, eps_);
  if (warmup && cfg_.adapt) {
    eps_ = dual_.learn(stats_.accept_stat);
    if (adapter_) {
      const AdaptEvent ev = adapter_->observe(z_, metric_);
      if (ev == AdaptEvent::Restart) reinit_step_size();
    }
    // When a metric window closes on the very last warmup iteration (term_buffer = 0), dual
    // averaging was just restarted; Stan then ends with exp(0) = 1 (stan-dev/stan#3023). Keep
    // the freshly initialised step size instead.
    if (iter_ + 1 == cfg_.num_warmup && dual_.has_learned()) eps_ = dual_.final_step_size();
  }
  ++iter_;
  return stats_;
}

}  // namespace exmc::nuts
