// NUTS as a service: the library's half of `exmc sample` (metric and init choices, generated
// quantities per kept draw with per-chain streams, the NaN-on-failure rule), shared by every caller.
#include "exmc/services/sample.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "exmc/core/rng.hpp"
#include "exmc/core/state_io.hpp"
#include "exmc/nuts/initializer.hpp"
#include "exmc/services/methods.hpp"
#include "exmc/transform/transform.hpp"
#include "output_pipeline.hpp"
#include "timing.hpp"

namespace exmc::services {
namespace {

void apply_metric_choice(const std::string& metric, nuts::SamplerConfig& sc) {
  if (metric == "diag") {
    sc.metric = nuts::MetricKind::Diag;
    sc.metric_adaptation = nuts::MetricAdaptation::Windowed;
  } else if (metric == "dense") {
    sc.metric = nuts::MetricKind::Dense;
    sc.metric_adaptation = nuts::MetricAdaptation::Windowed;
  } else if (metric == "grad-diag") {
    sc.metric = nuts::MetricKind::Diag;
    sc.metric_adaptation = nuts::MetricAdaptation::Gradient;
  } else if (metric == "low-rank") {
    sc.metric = nuts::MetricKind::Diag;
    sc.metric_adaptation = nuts::MetricAdaptation::LowRank;
  } else {
    throw std::invalid_argument("metric: expected diag, dense, grad-diag or low-rank, got '" + metric + "'");
  }
}

}  // namespace

bool SampleRun::ok() const {
  if (result.cancelled) return false;
  for (const auto& c : result.chains)
    if (!c.error.empty() || c.cancelled) return false;
  return true;
}

std::vector<std::string> SampleJob::stat_names() const {
  const auto& n = nuts::SampleStats::names();
  return {n.begin(), n.begin() + (cfg_.sampler.fixed_param ? 2 : std::ptrdiff_t(n.size()))};
}

SampleJob::SampleJob(const Program& program, SampleSettings settings, uint64_t seed)
    : program_(program), settings_(std::move(settings)), created_(detail::Clock::now()) {
  const auto& s = settings_;
  const auto t0 = detail::Clock::now();
  density_ = program.compile({}, s.precision);
  compile_ms_ = detail::seconds_since(t0) * 1e3;

  auto& sc = cfg_.sampler;
  // As CmdStan: a program without parameters has nothing to sample; its draws are its
  // generated quantities. Warmup would adapt a step size for no dimension.
  sc.fixed_param = s.fixed_param || density_->dim() == 0;
  if (density_->dim() == 0 && !s.fixed_param)
    notes_.push_back("the program has no parameters: the fixed_param sampler runs (no warmup; each draw is the "
                     "generated quantities)");
  sc.num_warmup = sc.fixed_param ? 0 : s.warmup;
  sc.num_samples = s.draws;
  sc.max_depth = s.max_depth;
  sc.thin = s.thin;  // the sampler drops thinned iterations before the callbacks
  sc.dual_averaging.delta = s.adapt_delta;
  apply_metric_choice(s.metric, sc);
  vars_ = density_->output_vars();
  const bool pathfinder_init = s.init == "pathfinder";
  if (!pathfinder_init) {
    const auto spec = InitSpec::parse(s.init, s.init_name);
    sc.init_radius = spec.radius;
    if (!spec.file.empty()) {
      auto values = read_init_file(spec.file, vars_);
      if (!values.ignored.empty()) warnings_.push_back(describe_ignored(s.init_name + " " + spec.file, values.ignored));
      sc.init_values = std::move(values.values);
    }
  }
  if (!s.init_values.empty()) {
    // As an --init file's: names that match no variable are ignored with a warning (a fit's
    // values passed back as init carry generated quantities). They failed every chain with
    // "unknown variable" instead.
    auto values = known_init_values(s.init_values, vars_);
    if (!values.ignored.empty()) warnings_.push_back(describe_ignored("the initial values", values.ignored));
    sc.init_values = std::move(values.values);
  }
  // Values no chain could start from (a value outside its variable's support, a wrong number
  // of elements, a NaN, in every completion of what they leave out) fail here, once and before
  // anything runs, rather than in every chain with the same message. A key of its own: the
  // chains' streams stay untouched.
  // Given values on an edge of their support (sigma = 0 for real<lower=0> sigma) are refused
  // here (transform::InteriorOnly), as Stan's initialisation refuses them; no chain starts
  // without this check passing.
  Rng init_check_rng(20240611, 0);
  std::string fault;
  {
    const transform::InteriorOnly interior;
    fault = nuts::given_init_values_fault(*density_, sc.init_values, sc.init_radius, sc.init_attempts, init_check_rng);
  }
  if (!fault.empty())
    throw std::invalid_argument("bad initial values: " + fault);
  if (s.warm_start && sc.fixed_param)
    throw std::invalid_argument(fmt::format("{}: the fixed_param sampler ({}) uses no metric",
                                            s.warm_start_file.empty() ? "a loaded metric" : s.warm_start_file,
                                            s.fixed_param ? "fixed_param chosen" : "the program has no parameters"));
  if (s.warm_start) {
    const std::string from = s.warm_start_file.empty() ? "the loaded metric" : s.warm_start_file;
    if (s.warm_start->dim != density_->dim())
      throw std::invalid_argument(fmt::format("{}: the metric has dimension {}, the model {} unconstrained "
                                              "dimensions", from, s.warm_start->dim, density_->dim()));
    // The chains used to take the file's kind whatever `metric` said, while the CSV header and
    // the progress line said `metric`: --metric dense ran diagonal, --metric diag ran dense.
    nuts::AdaptationState warm = *s.warm_start;
    const size_t d = warm.dim;
    if (warm.metric_kind == nuts::MetricKind::Diag && sc.metric == nuts::MetricKind::Dense) {
      std::vector<double> full(d * d, 0.0);
      for (size_t i = 0; i < d; ++i) full[i * d + i] = warm.inv_metric[i];
      warm.inv_metric = std::move(full);
      warm.metric_kind = nuts::MetricKind::Dense;
    } else if (warm.metric_kind == nuts::MetricKind::Dense && sc.metric == nuts::MetricKind::Diag &&
               sc.metric_adaptation != nuts::MetricAdaptation::LowRank) {
      // Low-rank adaptation starts from a full matrix (what it saves); diag and grad-diag cannot.
      throw std::invalid_argument(fmt::format("{}: a dense metric, but metric {} samples with a diagonal one: "
                                              "pass --metric dense (or low-rank) to use it",
                                              from, s.metric));
    }
    sc.warm_start = std::move(warm);
    sc.metric = sc.warm_start->metric_kind;
  }
  sc.validate();
  if (s.chains < 1) throw std::invalid_argument("chains must be >= 1");
  cfg_.num_chains = s.chains;
  cfg_.num_threads = s.threads;
  cfg_.seed = seed;
  cfg_.chain_offset = s.chain_offset;
  if (pathfinder_init && density_->dim() > 0) {
    const auto t_pf = detail::Clock::now();
    const auto pf = init_from_pathfinder(*density_, seed, cfg_, s.total_chains, s.init_name);
    notes_.push_back(fmt::format("{} pathfinder: {} paths, {} gradient evaluations, {:.1f} ms; Pareto k {:.2f}",
                                 s.init_name, pf.paths.size(), pf.grad_evals, detail::seconds_since(t_pf) * 1e3, pf.pareto_k));
  }
  cfg_.save_warmup = s.save_warmup;
  cfg_.keep_draws = false;  // the observer gets every kept draw
  cfg_.progress.enabled = s.progress;
  cfg_.cancel = s.cancel;
  cfg_.checkpoint_every = s.checkpoint_every;
  if (!s.resume_states.empty() && s.resume_states.size() != s.chains)
    throw std::invalid_argument(fmt::format("{} chain states to resume for {} chains", s.resume_states.size(),
                                            s.chains));

  names_ = flat_names(vars_);
  num_values_ = names_.size();
  auto gq = std::make_unique<stan::GeneratedQuantities>(*program.loaded().program, program.loaded().data, vars_);
  if (!gq->empty()) {
    gq_vars_ = gq->vars();
    const auto gq_names = stan::generated_quantities_names(*gq);
    names_.insert(names_.end(), gq_names.begin(), gq_names.end());
    gq_ = std::move(gq);
  }
}

SampleJob::~SampleJob() = default;

SampleRun SampleJob::run(const SampleObserver& observer) {
  SampleRun out;
  const unsigned chains = cfg_.num_chains;
  const size_t row_size = names_.size();
  std::vector<std::vector<double>> rows(chains, std::vector<double>(row_size));
  // Generated quantities of chain c draw from their own stream (GeneratedQuantities' convention),
  // so a chain's rows are a pure function of (seed, chain, its draws in order).
  std::vector<Rng> gq_rngs;
  for (unsigned c = 0; c < chains; ++c)
    gq_rngs.emplace_back(cfg_.seed, stan::GeneratedQuantities::kGqStreamBase + cfg_.chain_offset + c);
  // A resumed chain: the runtime's state, then its generated quantities' stream.
  if (!settings_.resume_states.empty()) {
    cfg_.resume_states.assign(chains, "");
    for (unsigned c = 0; c < chains; ++c) {
      if (settings_.resume_states[c].empty()) continue;
      StateReader r(settings_.resume_states[c]);
      r.tag("SMPL");
      cfg_.resume_states[c] = r.bytes();
      gq_rngs[c].load_state(r);
      if (!r.done()) throw std::runtime_error("sampler state: trailing bytes");
    }
  }
  // The largest magnitude among each chain's kept draws and where it was (each chain writes only
  // its own slot).
  struct Extreme {
    double value = 0;
    size_t index = 0;
  };
  std::vector<Extreme> extremes(chains), extremes_unc(chains);
  // Each chain's longest run of kept post-warmup draws at one point (core/stuck_chain.hpp; each
  // chain writes only its own slot).
  std::vector<StuckRun> stuck(chains);
  const size_t dim = density_->dim();
  std::atomic<uint64_t> gq_failures{0};
  std::mutex failure_mu;
  std::atomic<bool> first_seen{false};
  std::atomic<double> first_ms{0};

  // Each chain's kept draws, its adaptation and its checkpoints, in the chain's order, on the
  // output pipeline (output_pipeline.hpp): generated quantities and the observer run beside the
  // chain where a core is free. A failure of the observer (an I/O error) stops that chain: its
  // message as if the chain had called the observer itself.
  constexpr unsigned kNoIteration = ~0u;
  constexpr size_t kWideRow = 256;
  std::vector<std::string> output_errors(chains);
  std::vector<std::atomic<bool>> output_failed(chains);
  auto handle = [&](unsigned chain, detail::OutputItem& item) {
    if (output_failed[chain].load(std::memory_order_relaxed)) return;  // the chain is stopping
    try {
      using Kind = detail::OutputItem::Kind;
      if (item.kind == Kind::kAdaptation) {
        observer.on_adaptation(chain, item.adaptation);
      } else if (item.kind == Kind::kCheckpoint) {
        StateWriter w;
        w.tag("SMPL");
        w.bytes(item.state);
        gq_rngs[chain].save_state(w);
        observer.on_checkpoint(chain, item.iteration + 1, w.data());
      } else {
        auto& row = rows[chain];
        std::copy(item.values.begin(), item.values.end(), row.begin());
        // Finite values only, as the other methods and diagnose judge them: a transformed
        // parameter that is -inf by construction (log(0), in every draw) runs off nowhere.
        auto& ex = extremes[chain];
        for (size_t i = 0; i < num_values_; ++i)
          if (std::isfinite(row[i]) && std::fabs(row[i]) > ex.value) ex = {std::fabs(row[i]), i};
        if (gq_) {
          try {
            gq_->eval(row.data(), gq_rngs[chain], row.data() + num_values_);
          } catch (const std::exception& ex) {
            // As Stan: the draw keeps its parameters, the quantities become NaN, the run goes on.
            std::fill(row.begin() + std::ptrdiff_t(num_values_), row.end(), std::nan(""));
            if (gq_failures.fetch_add(1) == 0) {
              std::lock_guard<std::mutex> lock(failure_mu);
              out.first_gq_failure = ex.what();
            }
          }
        }
        if (observer.on_draw) {
          const auto stats = item.stats.as_array();
          observer.on_draw(SampleDraw{chain, item.warmup, item.iteration, stats.data(), row.data(), row.size()});
        }
      }
    } catch (const std::exception& e) {
      // run_chains' wording for a chain stopped by its callback (item.iteration: the iteration
      // that called it, or none for the adaptation of a run without warmup).
      output_errors[chain] =
          (item.iteration == kNoIteration ? "" : "iteration " + std::to_string(item.iteration) + ": ") + e.what();
      output_failed[chain].store(true, std::memory_order_release);
    }
  };
  // The output thread pays where a core is free beside the chains' threads and a draw's output
  // is more than a few numbers: generated quantities, or a wide row (for a row of ten values
  // the handoff costs more than formatting it).
  const bool output_thread = runtime::chain_threads(cfg_) < std::thread::hardware_concurrency() &&
                             (gq_ != nullptr || num_values_ >= kWideRow);
  detail::OutputPipeline pipeline(chains, num_values_, handle, output_thread);
  auto stop_if_output_failed = [&](unsigned chain) {
    if (output_failed[chain].load(std::memory_order_acquire)) throw std::runtime_error("output failed");
  };

  runtime::Callbacks cb;
  cb.on_draw = [&](const runtime::DrawEvent& e) {
    if (!first_seen.exchange(true)) first_ms.store(detail::seconds_since(created_) * 1e3);
    if (observer.on_iteration) observer.on_iteration(e.chain, e.iteration + 1);
    if (!e.warmup && !cfg_.sampler.fixed_param) stuck[e.chain].add(e.stats.lp, e.stats.accept_stat);
    if (e.warmup && !cfg_.save_warmup) return;
    stop_if_output_failed(e.chain);
    auto& eu = extremes_unc[e.chain];
    for (size_t i = 0; i < dim; ++i)
      if (std::fabs(e.unconstrained[i]) > eu.value) eu = {std::fabs(e.unconstrained[i]), i};
    auto& item = pipeline.next(e.chain);
    item.kind = detail::OutputItem::Kind::kDraw;
    item.warmup = e.warmup;
    item.iteration = e.iteration;
    item.stats = e.stats;
    std::copy(e.values, e.values + num_values_, item.values.begin());
    pipeline.push(e.chain);
  };
  if (observer.on_adaptation && !cfg_.sampler.fixed_param)  // nothing adapts
    cb.on_adaptation = [&](unsigned chain, const nuts::AdaptationState& a) {
      stop_if_output_failed(chain);
      auto& item = pipeline.next(chain);
      item.kind = detail::OutputItem::Kind::kAdaptation;
      item.iteration = cfg_.sampler.num_warmup > 0 ? cfg_.sampler.num_warmup - 1 : kNoIteration;
      item.adaptation = a;
      pipeline.push(chain);
    };
  if (observer.on_checkpoint)
    cb.on_checkpoint = [&](unsigned chain, unsigned done, const std::string& state) {
      stop_if_output_failed(chain);
      auto& item = pipeline.next(chain);
      item.kind = detail::OutputItem::Kind::kCheckpoint;
      item.iteration = done - 1;
      item.state = state;
      pipeline.push(chain);
    };
  out.result = runtime::run_chains(*density_, cfg_, cb);
  pipeline.finish();
  for (unsigned c = 0; c < chains; ++c)
    if (output_failed[c].load()) out.result.chains[c].error = output_errors[c];
  constexpr double kRunawayDraw = 1e30, kRunawayVariance = 1e60, kCollapsedStep = 1e-12;
  for (unsigned c = 0; c < chains; ++c) {
    const auto &ex = extremes[c], &eu = extremes_unc[c];
    const auto& chain = out.result.chains[c];
    std::string what;
    // The constrained value names a variable; a transform may clamp it (exp saturates near
    // 7e86), so the unconstrained position is looked at too.
    if (ex.value > kRunawayDraw)
      what = fmt::format("draws reach {:.3g} in magnitude ('{}')", ex.value, names_[ex.index]);
    if (eu.value > kRunawayDraw)
      what += fmt::format("{}unconstrained coordinate {} reaches {:.3g}", what.empty() ? "" : "; ", eu.index + 1,
                          eu.value);
    if (chain.error.empty() && !chain.cancelled && cfg_.sampler.adapt && cfg_.sampler.num_warmup > 0) {
      const auto& a = chain.adaptation;
      double var_max = 0;
      for (double v : a.inv_metric) var_max = std::max(var_max, std::fabs(v));
      if (var_max > kRunawayVariance || !std::isfinite(var_max))
        what += fmt::format("{}the adapted variance reaches {:.3g}", what.empty() ? "" : "; ", var_max);
      if (!(a.step_size > kCollapsedStep))
        what += fmt::format("{}the adapted step size collapsed to {:.3g}", what.empty() ? "" : "; ", a.step_size);
    }
    if (!what.empty())
      out.runaway.push_back(fmt::format("chain {}: {}", cfg_.chain_offset + c + 1, what));
    const auto& st = stuck[c];
    if (st.stuck())
      out.stuck.push_back(fmt::format("chain {}: {} draws in a row at one point (draws {}-{} after warmup), every "
                                      "proposal rejected (accept_stat__ below {}; step size {:.3g})",
                                      cfg_.chain_offset + c + 1, st.longest + 1, st.longest_end - st.longest + 1,
                                      st.longest_end + 1, kStuckAcceptStat, chain.adaptation.step_size));
  }
  out.gq_failures = gq_failures.load();
  // None finished (every chain failed to start, or the run was stopped first): NaN, not 0.
  out.first_iteration_ms = first_seen.load() ? first_ms.load() : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace exmc::services
