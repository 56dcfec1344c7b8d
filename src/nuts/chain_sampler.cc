// One NUTS chain: warmup schedule wiring (Stan's adapt_*_nuts transition) and sampling.
#include "exmc/nuts/chain_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "exmc/core/state_io.hpp"
#include "exmc/nuts/grad_metric_adapter.hpp"
#include "exmc/nuts/initializer.hpp"
#include "exmc/nuts/low_rank_metric_adapter.hpp"
#include "exmc/nuts/step_size_init.hpp"
#include "exmc/nuts/windowed_metric_adapter.hpp"

namespace exmc::nuts {

void SamplerConfig::validate() const {
  auto bad = [](const std::string& field, const std::string& want, double got) {
    throw std::invalid_argument("sampler option " + field + " must be " + want + ", got " +
                                std::to_string(got));
  };
  if (thin < 1) bad("thin", ">= 1", thin);
  if (max_depth < 1 || max_depth > 30) bad("max_depth", "in [1, 30]", max_depth);
  if (!(max_delta_h > 0)) bad("max_delta_h", "positive", max_delta_h);
  if (!(init_step_size > 0) || !std::isfinite(init_step_size))
    bad("init_step_size (stepsize)", "positive and finite", init_step_size);
  const auto& da = dual_averaging;
  if (!(da.delta > 0 && da.delta < 1)) bad("delta (adapt_delta)", "in (0, 1)", da.delta);
  if (!(da.gamma > 0)) bad("gamma", "positive", da.gamma);
  if (!(da.kappa > 0 && da.kappa <= 1)) bad("kappa", "in (0, 1]", da.kappa);
  if (!(da.t0 > 0)) bad("t0", "positive", da.t0);
  if (!(init_radius >= 0) || !std::isfinite(init_radius)) bad("init_radius", ">= 0", init_radius);
  if (init_attempts < 1) bad("init_attempts", ">= 1", init_attempts);
  if (fixed_param && num_warmup > 0) bad("num_warmup", "0 for the fixed_param sampler", num_warmup);
  const auto& gm = grad_metric;
  if (!(gm.early_fraction >= 0 && gm.step_size_fraction >= 0 &&
        gm.early_fraction + gm.step_size_fraction < 1))
    bad("grad_metric fractions (early + step size)", "non-negative with a sum below 1",
        gm.early_fraction + gm.step_size_fraction);
  if (gm.early_switch < 1 || gm.switch_every < 1)
    bad("grad_metric switch intervals", ">= 1", std::min(gm.early_switch, gm.switch_every));
}

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
      metric_((cfg.validate(), initial_metric(cfg, density.dim()))),
      integ_(density, metric_),
      tree_(integ_, rng_, cfg.max_depth, cfg.max_delta_h),
      dual_(cfg.dual_averaging),
      z_(density.dim()),
      scratch_(density.dim()),
      handoff_(density.dim()) {
  if (cfg_.warm_start) cfg_.metric = cfg_.warm_start->metric_kind;
  if ((cfg_.metric_adaptation == MetricAdaptation::Gradient ||
       cfg_.metric_adaptation == MetricAdaptation::LowRank) &&
      cfg_.metric == MetricKind::Dense && !cfg_.warm_start)
    throw std::invalid_argument(
        "gradient-based metric adaptation is diagonal only (LowRank adds its own low-rank part); "
        "use MetricAdaptation::Windowed for a dense metric");
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
    else if (cfg_.metric_adaptation == MetricAdaptation::LowRank)
      adapter_ = std::make_unique<LowRankMetricAdapter>(density.dim(), cfg_.num_warmup,
                                                        cfg_.grad_metric, cfg_.low_rank);
    // Stan's windowed adaptation keeps Stan's hand-off (sampling starts at the last warmup
    // draw), so that its chains stay comparable with CmdStan's.
    guard_handoff_ = cfg_.metric_adaptation != MetricAdaptation::Windowed;
  }
}

ChainSampler::~ChainSampler() = default;

void ChainSampler::initialize() {
  initialize_point(integ_, cfg_, rng_, z_);
  iter_ = 0;
  handoff_.reset();
  if (cfg_.fixed_param) return;
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
  if (cfg_.fixed_param) {
    stats_ = SampleStats{};  // CmdStan's fixed_param draw: lp__ 0, accept_stat__ 0
    ++iter_;
    return stats_;
  }
  const bool warmup = in_warmup();
  // A gradient-based warmup hands over at a draw the final step size can leave (HandoffPoint);
  // the last warmup draw itself stays what the warmup output shows.
  if (iter_ == cfg_.num_warmup) handoff_.take(z_);
  const double eps_used = eps_, logp_before = z_.logp;
  stats_ = tree_.transition(z_, eps_);
  if (tree_.interrupted()) return stats_;
  // The tree allocates a depth's buffers when a trajectory first reaches it; after warmup (its
  // small step sizes build the deepest trees) one depth more is reserved, so that sampling
  // transitions rarely allocate (once per depth and chain at most).
  if (iter_ + 1 == cfg_.num_warmup) tree_.reserve_levels(tree_.levels_ready() + 1);
  if (warmup && cfg_.adapt) {
    eps_ = dual_.learn(stats_.accept_stat);
    if (adapter_) {
      const AdaptEvent ev = adapter_->observe(z_, metric_);
      if (ev == AdaptEvent::Restart) {
        reinit_step_size();
        handoff_.reset();
      } else if (guard_handoff_ && dual_.has_learned()) {
        handoff_.observe(z_, logp_before, eps_used, dual_.final_step_size(), stats_.divergent);
      }
    }
    // When a metric window closes on the very last warmup iteration (term_buffer = 0), dual
    // averaging was just restarted; Stan then ends with exp(0) = 1 (stan-dev/stan#3023). Keep
    // the freshly initialised step size instead.
    if (iter_ + 1 == cfg_.num_warmup && dual_.has_learned()) eps_ = dual_.final_step_size();
  }
  ++iter_;
  return stats_;
}

namespace {
// What a state must agree on with the sampler loading it.
std::vector<uint64_t> shape_of(const SamplerConfig& cfg, size_t dim) {
  return {dim, cfg.num_warmup, cfg.num_samples, static_cast<uint64_t>(cfg.metric),
          static_cast<uint64_t>(cfg.metric_adaptation), cfg.adapt ? 1u : 0u, cfg.fixed_param ? 1u : 0u};
}
}  // namespace

void ChainSampler::save_state(StateWriter& w) const {
  w.tag("CHNS");
  w.u64s(shape_of(cfg_, density_.dim()));
  w.u64(iter_);
  w.f64(eps_);
  rng_.save_state(w);
  metric_.save_state(w);
  for (const auto* v : {&z_.q, &z_.p, &z_.g, &z_.v, &z_.mg}) w.f64s(*v);
  w.f64(z_.logp);
  dual_.save_state(w);
  w.boolean(adapter_ != nullptr);
  if (adapter_) adapter_->save_state(w);
  handoff_.save_state(w);
  w.u64(integ_.grad_evals());
  w.u64(integ_.faults());
}

void ChainSampler::load_state(StateReader& r) {
  r.tag("CHNS");
  const auto shape = r.u64s();
  const auto want = shape_of(cfg_, density_.dim());
  if (shape != want) {
    static const char* what[] = {"dimension", "warmup iterations", "draws", "metric kind",
                                 "metric adaptation", "adaptation", "fixed_param"};
    for (size_t i = 0; i < want.size(); ++i)
      if (i >= shape.size() || shape[i] != want[i])
        throw std::runtime_error(std::string("sampler state: ") + what[i] + " differs (saved " +
                                 (i < shape.size() ? std::to_string(shape[i]) : "none") + ", now " +
                                 std::to_string(want[i]) + ")");
    throw std::runtime_error("sampler state: written by another version");
  }
  iter_ = static_cast<unsigned>(r.u64());
  eps_ = r.f64();
  rng_.load_state(r);
  metric_ = Metric::load_state(r);  // integ_ holds a reference to metric_: it stays valid
  const size_t d = density_.dim();
  // A metric of another dimension (the model's checked above) was taken, and every leapfrog
  // step read or wrote past its vectors.
  if (metric_.dim() != d)
    throw std::runtime_error("sampler state: the metric has dimension " + std::to_string(metric_.dim()) +
                             ", the model " + std::to_string(d));
  for (auto* v : {&z_.q, &z_.p, &z_.g, &z_.v, &z_.mg}) r.f64s_into(*v, d, "position");
  z_.logp = r.f64();
  dual_.load_state(r);
  if (r.boolean() != (adapter_ != nullptr)) throw std::runtime_error("sampler state: adaptation differs");
  if (adapter_) adapter_->load_state(r);
  handoff_.load_state(r);
  const uint64_t grads = r.u64(), faults = r.u64();
  integ_.restore_counters(grads, faults);
}

}  // namespace exmc::nuts
