// Streams every chain of a run_chains() call into its own CmdStan CSV while it samples.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exmc/io/cmdstan_csv_writer.hpp"
#include "exmc/nuts/sample_stats.hpp"
#include "exmc/runtime/run_chains.hpp"

namespace exmc::io {

// Header-only glue (io links no runtime): pass callbacks() to run_chains, then finish(result).
// A chain that failed or was cancelled leaves only its temporary file (the draws so far;
// writer(c).temp_path() names it).
class CmdStanCsvSink {
 public:
  // `resume`, when non-empty (one per chain), continues an interrupted run's temporaries instead
  // of creating new files (CmdStanCsvWriter's Continue constructor); an entry without a
  // temp_path starts that chain's file afresh.
  CmdStanCsvSink(const std::function<std::string(unsigned chain)>& path_for, CmdStanCsvHeader base,
                 const std::vector<std::string>& names, const runtime::RunConfig& cfg,
                 const std::vector<CmdStanCsvWriter::Continue>& resume = {})
      : save_warmup_(cfg.save_warmup), adapt_(cfg.sampler.adapt && cfg.sampler.num_warmup > 0) {
    const auto& sc = cfg.sampler;
    base.num_samples = sc.num_samples;
    base.num_warmup = sc.num_warmup;
    base.thin = sc.thin;
    base.save_warmup = cfg.save_warmup;
    base.adapt_engaged = sc.adapt;
    base.delta = sc.dual_averaging.delta;
    base.gamma = sc.dual_averaging.gamma;
    base.kappa = sc.dual_averaging.kappa;
    base.t0 = sc.dual_averaging.t0;
    base.init_buffer = sc.windows.init_buffer;
    base.term_buffer = sc.windows.term_buffer;
    base.window = sc.windows.base_window;
    base.max_depth = sc.max_depth;
    // A low-rank metric is reported as the dense matrix it stands for.
    const bool dense = (sc.warm_start ? sc.warm_start->metric_kind : sc.metric) ==
                           nuts::MetricKind::Dense ||
                       (!sc.warm_start && sc.metric_adaptation == nuts::MetricAdaptation::LowRank);
    base.metric = dense ? "dense_e" : "diag_e";
    base.stepsize = sc.warm_start ? sc.warm_start->step_size : sc.init_step_size;
    // A caller writing a block of a larger run's chains (cfg.chain_offset) sets the run's total.
    base.num_chains = std::max(base.num_chains, cfg.num_chains);
    base.seed = cfg.seed;
    // One identifier for all chains of this run: `exmc summary` refuses files of different runs.
    if (base.run_id.empty()) base.run_id = new_run_id();
    base.fixed_param = sc.fixed_param;
    const auto& stat_names = nuts::SampleStats::names();
    // CmdStan's fixed_param files have lp__ and accept_stat__ only (the first two).
    const size_t n_stats = sc.fixed_param ? 2 : stat_names.size();
    const std::vector<std::string> stats(stat_names.begin(), stat_names.begin() + std::ptrdiff_t(n_stats));
    for (unsigned c = 0; c < cfg.num_chains; ++c) {
      CmdStanCsvHeader h = base;
      h.id = static_cast<unsigned>(cfg.chain_offset) + c + 1;
      if (resume.empty() || resume.at(c).temp_path.empty())
        writers_.push_back(std::make_unique<CmdStanCsvWriter>(path_for(c), h, stats, names));
      else
        writers_.push_back(std::make_unique<CmdStanCsvWriter>(path_for(c), resume.at(c), h, stats, names));
    }
  }

  runtime::Callbacks callbacks() {
    runtime::Callbacks cb;
    cb.on_draw = [this](const runtime::DrawEvent& e) {
      if (e.warmup && !save_warmup_) return;
      const auto s = e.stats.as_array();
      writers_[e.chain]->write_draw(s.data(), e.values);
    };
    cb.on_adaptation = [this](unsigned chain, const nuts::AdaptationState& a) {
      // CmdStan writes the adaptation block only when adaptation ran.
      if (!adapt_) return;
      writers_[chain]->write_adaptation(a.step_size, a.metric_kind == nuts::MetricKind::Dense,
                                        a.inv_metric, a.dim);
    };
    return cb;
  }

  // Timing footers and rename for completed chains.
  void finish(const runtime::RunResult& r) {
    for (const auto& c : r.chains) {
      auto& w = *writers_[c.chain];
      if (c.error.empty() && !c.cancelled) w.finish(c.warmup_seconds, c.sampling_seconds);
      else w.close_incomplete();
    }
  }

  CmdStanCsvWriter& writer(unsigned chain) { return *writers_[chain]; }

 private:
  bool save_warmup_;
  bool adapt_;
  std::vector<std::unique_ptr<CmdStanCsvWriter>> writers_;
};

}  // namespace exmc::io
