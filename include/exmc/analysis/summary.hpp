// Per-variable posterior summary (posterior::summarise_draws with mcse columns), sampler-stat
// summary of CmdStan output, and their table/CSV/JSON formatting.
#pragma once

#include <string>
#include <vector>

#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/format.hpp"
#include "exmc/core/stuck_chain.hpp"

namespace exmc::analysis {

struct SummaryRow {
  std::string variable;
  double mean, median, sd, mad, q5, q95;
  double rhat, ess_bulk, ess_tail;
  double mcse_mean, mcse_median, mcse_sd, mcse_q5, mcse_q95;
};
struct Summary { std::vector<SummaryRow> rows; };

// Every variable of draws, in order.
Summary summarise(const Draws& draws);
SummaryRow summarise_variable(const Draws& draws, size_t v);

// Columns: variable mean median sd mad q5 q95 rhat ess_bulk ess_tail mcse_mean mcse_median
// mcse_sd mcse_q5 mcse_q95. CSV/JSON keep 17 significant digits; NA for undefined values.
std::string format_summary(const Summary& s, Format f);

// Sampler behaviour per chain, from CmdStan's sampler columns (post-warmup draws).
struct ChainStats {
  size_t draws = 0;
  size_t divergent = 0;
  size_t treedepth_hits = 0;   // draws with treedepth__ >= max_depth
  double ebfmi = 0;            // (sum(diff(energy)^2) / n) / var(energy)
  double mean_accept_stat = 0;
  double step_size = 0;
  double gradient_evals = 0;   // sum of n_leapfrog__
  // The longest run of draws at one point with every proposal rejected (core/stuck_chain.hpp).
  StuckRun stuck;
};
struct SamplerStats {
  int max_depth = 10;
  std::vector<ChainStats> chains;
  bool has_energy = false, has_treedepth = false, has_divergent = false;
  // CmdStan's fixed_param sampler ("algorithm = fixed_param"): nothing moved, so nothing of the
  // sampler's (divergences, stuck chains, E-BFMI) is a diagnosis.
  bool fixed_param = false;
};
std::string format_sampler_stats(const SamplerStats& s, Format f);

}  // namespace exmc::analysis
