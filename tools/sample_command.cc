// exmc sample: Stan program + JSON data -> NUTS chains -> one CmdStan CSV per chain.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <cmath>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "cli.hpp"
#include "exmc/io/cmdstan_csv_sink.hpp"
#include "exmc/io/stan_json.hpp"
#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/runtime/cancel_token.hpp"
#include "exmc/runtime/run_chains.hpp"
#include "exmc/services/methods.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/generated_quantities.hpp"
#include "exmc/stan/load.hpp"

namespace exmc::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Ctrl-C stops the chains; they return what they have and the files stay under .tmp names.
std::atomic<runtime::CancelToken*> g_cancel{nullptr};
extern "C" void on_interrupt(int) {
  if (auto* t = g_cancel.load()) t->cancel();
}

struct InterruptGuard {
  explicit InterruptGuard(runtime::CancelToken* t) {
    g_cancel.store(t);
    previous = std::signal(SIGINT, on_interrupt);
  }
  ~InterruptGuard() {
    std::signal(SIGINT, previous);
    g_cancel.store(nullptr);
  }
  void (*previous)(int) = SIG_DFL;
};

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
    throw std::invalid_argument("--metric: expected diag, dense, grad-diag or low-rank, got '" + metric + "'");
  }
}

// --init: a radius or a Stan JSON file of constrained values (services::InitSpec).
void apply_init(const std::string& init, const std::vector<VarInfo>& vars, nuts::SamplerConfig& sc,
                std::ostream& err) {
  const auto spec = services::InitSpec::parse(init);
  sc.init_radius = spec.radius;
  if (spec.file.empty()) return;
  auto values = services::read_init_file(spec.file, vars);
  if (!values.ignored.empty()) err << "exmc: warning: " << services::describe_ignored(spec.file, values.ignored) << "\n";
  sc.init_values = std::move(values.values);
}

}  // namespace

int sample(const SampleOptions& opts, std::ostream& out, std::ostream& err) {
  const auto t_start = Clock::now();
  try {
    stan::LowerOptions lo;
    lo.vectorize_loops = opts.vectorize_loops;
    auto loaded = stan::load_program(opts.model_path, opts.data_path, lo);
    const double t_loaded = ms_since(t_start);
    std::unique_ptr<graph::CompiledDensity> density =
        opts.precision == "f32" ? loaded.model->compile<float>() : loaded.model->compile<double>();
    const double t_compiled = ms_since(t_start);

    runtime::RunConfig cfg;
    auto& sc = cfg.sampler;
    sc.num_warmup = opts.warmup;
    sc.num_samples = opts.draws;
    sc.max_depth = opts.max_depth;
    sc.thin = opts.thin;  // the sampler drops the thinned iterations before the callbacks
    sc.dual_averaging.delta = opts.adapt_delta;
    apply_metric_choice(opts.metric, sc);
    const auto vars = density->output_vars();
    const bool pathfinder_init = opts.init == "pathfinder";
    if (!pathfinder_init) apply_init(opts.init, vars, sc, err);
    if (!opts.load_metric.empty()) {
      sc.warm_start = nuts::AdaptationState::load(opts.load_metric);
      if (sc.warm_start->dim != density->dim())
        throw std::invalid_argument(fmt::format("--load-metric {}: the metric has dimension {}, the model {}",
                                                opts.load_metric, sc.warm_start->dim, density->dim()));
      sc.metric = sc.warm_start->metric_kind;
    }
    sc.validate();
    cfg.num_chains = opts.chains;
    cfg.num_threads = opts.threads;
    cfg.seed = opts.seed_given ? opts.seed : std::random_device{}() % 4294967291ull;
    if (pathfinder_init) {
      const auto t_pf = Clock::now();
      const auto pf = services::init_from_pathfinder(*density, cfg.seed, cfg);
      err << fmt::format("exmc: --init pathfinder: {} paths, {} gradient evaluations, {:.1f} ms; Pareto k {:.2f}\n",
                         pf.paths.size(), pf.grad_evals, ms_since(t_pf), pf.pareto_k);
    }
    cfg.save_warmup = opts.save_warmup;
    cfg.keep_draws = false;  // streamed to the files
    cfg.progress.enabled = opts.progress;
    runtime::CancelToken cancel;
    cfg.cancel = &cancel;

    // Generated quantities: evaluated per written draw from the constrained values, each chain
    // with its own stream, and appended to the row (as CmdStan writes them).
    std::optional<stan::GeneratedQuantities> gq;
    gq.emplace(*loaded.program, loaded.data, vars);
    if (gq->empty()) gq.reset();
    auto names = flat_names(vars);
    const size_t num_values = names.size();
    size_t num_gq = 0;
    if (gq) {
      const auto gq_names = stan::generated_quantities_names(*gq);
      num_gq = gq_names.size();
      names.insert(names.end(), gq_names.begin(), gq_names.end());
    }
    std::vector<std::vector<double>> rows(opts.chains, std::vector<double>(num_values + num_gq));
    std::vector<Rng> gq_rngs;
    for (unsigned c = 0; c < opts.chains; ++c)
      gq_rngs.emplace_back(cfg.seed, stan::GeneratedQuantities::kGqStreamBase + cfg.chain_offset + c);
    std::atomic<uint64_t> gq_failures{0};
    std::string first_gq_failure;
    std::mutex gq_failure_mu;
    io::CmdStanCsvHeader header;
    header.model = std::filesystem::path(opts.model_path).stem().string();
    header.data_file = opts.data_path;
    header.init = opts.init;
    header.extra = {{"exmc_metric", opts.metric}, {"exmc_precision", opts.precision}};
    io::CmdStanCsvSink sink([&](unsigned c) { return chain_output_path(opts.output, c, opts.chains); },
                            header, names, cfg);

    auto callbacks = sink.callbacks();
    std::atomic<bool> first_seen{false};
    std::atomic<double> t_first_iteration{0};
    auto write = callbacks.on_draw;
    callbacks.on_draw = [&, write](const runtime::DrawEvent& e) {
      if (!first_seen.exchange(true)) t_first_iteration.store(ms_since(t_start));
      if (!gq || (e.warmup && !opts.save_warmup)) {
        write(e);
        return;
      }
      auto& row = rows[e.chain];
      std::copy(e.values, e.values + num_values, row.begin());
      try {
        gq->eval(e.values, gq_rngs[e.chain], row.data() + num_values);
      } catch (const std::exception& ex) {
        // As Stan: a draw whose generated quantities fail keeps its parameters, the
        // quantities become NaN, and the run goes on (reported at the end).
        std::fill(row.begin() + static_cast<std::ptrdiff_t>(num_values), row.end(), std::nan(""));
        if (gq_failures.fetch_add(1) == 0) {
          std::lock_guard<std::mutex> lock(gq_failure_mu);
          first_gq_failure = ex.what();
        }
      }
      runtime::DrawEvent with_gq{e.chain, e.warmup, e.iteration, row.data(), row.size(), e.stats, e.unconstrained};
      write(with_gq);
    };
    if (!opts.save_metric.empty()) {
      auto adapt = callbacks.on_adaptation;
      callbacks.on_adaptation = [&, adapt](unsigned chain, const nuts::AdaptationState& a) {
        if (adapt) adapt(chain, a);
        if (chain == 0) a.save(opts.save_metric);
      };
    }

    err << fmt::format("exmc: {} variables ({} unconstrained dimensions), {} instructions per gradient; "
                       "model ready in {:.1f} ms (parse, check, data, lower {:.1f} ms; compile {:.1f} ms, {})\n",
                       vars.size(), density->dim(), density->nodes_per_gradient(), t_compiled, t_loaded,
                       t_compiled - t_loaded,
                       density->backend() == graph::Backend::kJit ? "machine code" : "interpreted");
    err << fmt::format("exmc: {} chains x ({} warmup + {} draws), seed {}, metric {}\n", opts.chains,
                       opts.warmup, opts.draws, cfg.seed, opts.metric);

    runtime::RunResult result;
    {
      InterruptGuard guard(&cancel);
      result = runtime::run_chains(*density, cfg, callbacks);
    }
    sink.finish(result);
    err << fmt::format("exmc: first warmup iteration {:.1f} ms after start\n", t_first_iteration.load());

    uint64_t divergences = 0, recoveries = 0, grads = 0;
    double warm_s = 0, samp_s = 0;
    std::string failures;
    for (const auto& c : result.chains) {
      divergences += c.divergences;
      recoveries += c.recoveries;
      grads += c.grad_evals;
      warm_s = std::max(warm_s, c.warmup_seconds);
      samp_s = std::max(samp_s, c.sampling_seconds);
      if (!c.error.empty()) failures += fmt::format("  chain {}: {}\n", c.chain + 1, c.error);
    }
    if (!failures.empty()) {
      err << "exmc sample: error: chains failed (their files were not completed):\n" << failures;
      return 1;
    }
    if (result.cancelled) {
      err << "exmc sample: interrupted; the draws so far are in the .tmp files\n";
      return 130;
    }
    err << fmt::format("exmc: done in {:.2f} s (warmup {:.2f} s, sampling {:.2f} s per chain, slowest); "
                       "{} gradient evaluations\n",
                       result.wall_seconds, warm_s, samp_s, grads);
    if (divergences > 0)
      err << fmt::format("exmc: warning: {} divergent transitions after warmup; see `exmc diagnose`\n",
                         divergences);
    if (gq_failures > 0)
      err << fmt::format("exmc: warning: generated quantities failed in {} draws (written as NaN); the first:\n{}\n",
                         gq_failures.load(), first_gq_failure);
    if (recoveries > 0)
      err << fmt::format("exmc: {} numerical faults (NaN/Inf/exception) were treated as divergences\n",
                         recoveries);
    for (unsigned c = 0; c < opts.chains; ++c) out << chain_output_path(opts.output, c, opts.chains) << "\n";
    return 0;
  } catch (const stan::Error& e) {
    err << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    err << "exmc sample: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace exmc::cli
