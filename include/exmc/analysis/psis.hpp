// Pareto-smoothed importance sampling, PSIS-LOO, WAIC and model comparison as loo 2.5.1 does them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/format.hpp"

namespace exmc::analysis {

struct PsisResult {
  std::vector<double> log_weights;  // smoothed and truncated, not normalised
  double pareto_k = 0;              // +inf when the tail was too short to fit
  double n_eff = 0;                 // 1 / sum(w^2) * r_eff, normalised weights
  size_t tail_length = 0;
  static constexpr size_t kMinTail = 5;  // a shorter tail is not fitted: pareto_k is +inf
};

// Zhang-Stephens generalised Pareto fit with loo's weakly informative prior on k.
struct GpdFit { double k, sigma; };
GpdFit gpd_fit(const std::vector<double>& sorted_exceedances);

// log_ratios: S values. Tail length M = ceil(min(0.2 S, 3 sqrt(S / r_eff))).
PsisResult psis(const std::vector<double>& log_ratios, double r_eff = 1.0);

// A log-likelihood matrix: S draws (rows, chain after chain) x N observations.
struct LogLik {
  size_t num_draws = 0;   // S, all chains together
  size_t num_obs = 0;     // N
  std::vector<double> values;  // column-major: observation j's S draws are contiguous
  double at(size_t s, size_t j) const { return values[j * num_draws + s]; }
};

// The log-likelihood matrix from the variables of draws named `name`, `name.i` or `name[i]`
// (Stan's generated quantities log_lik), in their order. Throws std::invalid_argument when
// there are none.
LogLik loglik_from_draws(const Draws& draws, const std::string& name = "log_lik");

// Relative efficiency of exp(log_lik) per observation, as loo::relative_eff(exp(ll), chain_id)
// with num_chains equal blocks of draws.
std::vector<double> relative_eff(const LogLik& ll, size_t num_chains);

struct Estimate { double estimate = 0, se = 0; };

// Pareto k levels of loo 2.5.1: good <= 0.5 < ok <= 0.7 < bad <= 1 < very bad.
enum class ParetoLevel { Good, Ok, Bad, VeryBad };
ParetoLevel pareto_level(double k);

struct LooResult {
  std::vector<double> elpd_loo, mcse_elpd_loo, p_loo, looic, pareto_k, n_eff, r_eff;
  Estimate elpd, p, ic;  // elpd_loo, p_loo, looic totals and SEs
  size_t count(ParetoLevel level) const;
};
// r_eff empty means 1 for every observation (loo's default without r_eff).
LooResult loo(const LogLik& ll, const std::vector<double>& r_eff = {});

struct WaicResult {
  std::vector<double> elpd_waic, p_waic, waic;
  Estimate elpd, p, ic;
  size_t count_p_waic_over_04() const;
};
WaicResult waic(const LogLik& ll);

struct CompareRow {
  std::string model;
  double elpd_diff = 0, se_diff = 0;
  double elpd_loo = 0, se_elpd_loo = 0, p_loo = 0, looic = 0;
};
// Rows ordered best first, as loo::loo_compare. Throws std::invalid_argument when fewer than
// two models or their observation counts differ.
std::vector<CompareRow> loo_compare(const std::vector<std::string>& names,
                                    const std::vector<LooResult>& models);
// Table: loo's print (estimates, Pareto k table, warning); CSV: one row per observation
// (elpd_loo, mcse_elpd_loo, p_loo, looic, pareto_k, n_eff, r_eff); JSON: estimates and
// pointwise arrays. Full precision (17 digits) in CSV and JSON.
std::string format_loo(const LooResult& r, Format f = Format::Table);
std::string format_waic(const WaicResult& w, Format f = Format::Table);
// Table: model, elpd_diff, se_diff (as loo prints); CSV/JSON add elpd_loo, se_elpd_loo,
// p_loo and looic.
std::string format_compare(const std::vector<CompareRow>& rows, Format f = Format::Table);

}  // namespace exmc::analysis
