// One call per inference method other than NUTS: a loaded program and settings in, CmdStan's
// rows out (with generated quantities), plus the header block and the lines to tell the user.
// The `exmc` command writes the result with write_csv(); other callers use the table directly.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "exmc/optimize/lbfgs.hpp"
#include "exmc/runtime/cancel_token.hpp"
#include "exmc/runtime/run_chains.hpp"
#include "exmc/pathfinder/pathfinder.hpp"
#include "exmc/services/program.hpp"
#include "exmc/smc/smc.hpp"
#include "exmc/variational/advi.hpp"

namespace exmc::services {

struct MethodRun {
  DrawTable draws;
  std::vector<std::string> method_block;  // CmdStan's "method = ..." header lines
  std::vector<std::pair<std::string, std::string>> extra;  // exmc's own header lines
  std::vector<std::string> notes;     // what happened, for the user (one line each)
  std::vector<std::string> warnings;  // results to be read with care
  uint64_t grad_evals = 0;
  uint64_t logp_evals = 0;            // value-only evaluations (SMC's independent Metropolis)
  double seconds = 0;                 // the method's own time (compile excluded)
  double compile_ms = 0;
  // The file's exmc_run_id; empty: a fresh one. Files that belong together (generate_quantities'
  // chains) share one, so `exmc summary` combines them.
  std::string run_id;
};

// What a method throws when its settings' `cancel` token was set while it ran (a Python caller's
// Ctrl-C): it has no partial result to give. Once the token is set the method's density gives
// NaN, which each engine takes as "no value here" and gives up on soon, and the service stops
// at its next own check.
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

// ---- optimize: the mode (penalised MLE by default, as Stan; MAP with jacobian) ----
struct OptimizeSettings {
  enum class Algorithm { kLbfgs, kNewton };
  Algorithm algorithm = Algorithm::kLbfgs;
  bool jacobian = false;           // Stan's optimize default: no change-of-variables terms
  optimize::LbfgsOptions lbfgs;    // max_iterations is also Newton's
  InitSpec init;
  const runtime::CancelToken* cancel = nullptr;  // set: the run throws Cancelled soon
};
// One row: lp__ (log density with all constants, Jacobian as chosen), then the values.
// Throws std::runtime_error when the optimiser stops without converging for a reason other
// than the iteration limit (which is a warning).
MethodRun optimize(const Program& program, const OptimizeSettings& settings, uint64_t seed);

// ---- laplace: draws from the normal approximation at the mode ----
struct LaplaceSettings {
  bool jacobian = true;
  size_t draws = 1000;
  // Constrained values of the mode (Stan JSON, or a CmdStan optimize CSV); empty: optimise first
  // with `optimize` (its jacobian is this jacobian).
  std::string mode_file;
  OptimizeSettings optimize;  // its `cancel` serves the whole run
};
// Rows: log_p__, log_g__ (target and approximation log densities), then the values.
MethodRun laplace(const Program& program, const LaplaceSettings& settings, uint64_t seed);

// ---- pathfinder ----
struct PathfinderSettings {
  pathfinder::PathfinderOptions options;
  InitSpec init;
  const runtime::CancelToken* cancel = nullptr;  // set: the run throws Cancelled soon
};
// Rows: lp_approx__, lp__, then the values (CmdStan 2.33's columns).
MethodRun pathfinder(const Program& program, const PathfinderSettings& settings, uint64_t seed);
// The same run on an already compiled density (what `sample --init pathfinder` uses).
pathfinder::PathfinderResult run_pathfinder(const LogDensity& density, const PathfinderSettings& settings,
                                            uint64_t seed, std::vector<std::string>* warnings = nullptr);

// `exmc sample --init pathfinder`: Pathfinder (default settings) on the sampler's density; chain c
// starts at draw c * n / chains, and warmup starts from the draws' variance (covariance for a
// dense metric) as the inverse metric instead of the identity, adapting on from there. Throws
// std::invalid_argument when cfg already has a warm start. For a block of a larger run
// (cfg.chain_offset, `total_chains` > cfg.num_chains) chain c is the run's chain_offset + c.
// Messages name the option as `init_name` ("--init" on the command line, "init" in Python).
pathfinder::PathfinderResult init_from_pathfinder(const LogDensity& density, uint64_t seed, runtime::RunConfig& cfg,
                                                  unsigned total_chains = 0, const std::string& init_name = "--init");

// ---- variational (ADVI) ----
struct VariationalSettings {
  variational::AdviOptions options;
  InitSpec init;
  const runtime::CancelToken* cancel = nullptr;  // set: the run throws Cancelled soon
};
// Rows: lp__ (0), log_p__, log_g__, then the values; the first row is the approximation's mean
// (with zeros in the three columns), as CmdStan writes it.
MethodRun variational(const Program& program, const VariationalSettings& settings, uint64_t seed);

// ---- smc ----
struct SmcSettings {
  smc::SmcOptions options;
  unsigned runs = 1;  // independent runs for the log evidence's standard error (draws: run 1)
  const runtime::CancelToken* cancel = nullptr;  // set: the run throws Cancelled soon
};
// Rows: lp__ (log density with all constants), then the values. The log marginal likelihood
// (and its standard error across runs) is in the notes and the header.
MethodRun smc(const Program& program, const SmcSettings& settings, uint64_t seed);

// ---- generate_quantities: CmdStan's standalone generated quantities ----
// Draws fitted earlier (a CmdStan CSV's post-warmup rows, or a Fit's arrays), one chain each.
struct FittedDraws {
  std::string name;                  // where they came from, for messages (a file's path)
  std::vector<std::string> columns;  // CmdStan's flat names: sampler columns (x__), values
  size_t num_rows = 0;
  std::vector<double> values;        // row-major
  // The chain's number from 0: its quantities draw from Rng(seed, kGqStreamBase + chain), as
  // exmc sample's chain does, so the same seed regenerates what the sample wrote.
  uint64_t chain = 0;
};
// For each chain, each row's parameters (found by name; every one is needed) are taken to the
// unconstrained scale and back, so the transformed parameters are this program's; then the
// generated quantities are evaluated (a failure writes NaN, as Stan). Rows: the fitted sampler
// columns as they were, the constrained values, the generated quantities. Throws
// std::runtime_error naming the chain and draw for a missing or out-of-support parameter, and
// when the program has no generated quantities.
std::vector<MethodRun> generate_quantities(const Program& program, const std::vector<FittedDraws>& fitted,
                                           uint64_t seed);

// ---- log_prob: CmdStan's log_prob method ----
// Points where the log density and its gradient are wanted, one of two kinds: constrained values
// (a Stan JSON file's, by name, or each draw of fitted CmdStan CSV files), or points of the
// unconstrained scale ("params_r": d values, or rows of d).
struct LogProbSettings {
  bool jacobian = true;  // include the log-Jacobians of the constraint transforms (CmdStan's default)
  std::string constrained_json;           // a Stan JSON file of parameter values, or
  std::vector<FittedDraws> constrained;   // draws with the parameters' flat columns, or
  std::vector<std::vector<double>> unconstrained;  // points, each of dim() values
  std::string source;                     // the file(s) named, for the header
};
// Rows: lp__, then g_NAME for each unconstrained coordinate: the log density as CmdStan's
// log_prob gives it (constant terms of ~ statements dropped, the log-Jacobians when jacobian) and
// its gradient. Compiled without automatic non-centring, so the unconstrained scale is Stan's
// transforms' (bounds: log, logit; as exmc implements them) and lp__ at a fit's draws is the
// sampler's lp__ for a program the sampler did not reparameterise. Throws std::runtime_error
// naming the file and draw (or point) for a missing or out-of-support parameter, a point of
// the wrong length, or no points.
MethodRun log_prob(const Program& program, const LogProbSettings& settings);

// Writes a MethodRun as one CmdStan CSV (under `path` only once complete).
void write_csv(const std::string& path, const Program& program, const MethodRun& run, uint64_t seed,
               const std::string& init_text, int sig_figs = -1);

// "    name = value" with " (Default)" when is_default: CmdStan's header lines.
std::string config_line(int depth, const std::string& name, const std::string& value, bool is_default);
std::string format_number(double v, int significant_digits = 6);
// CmdStan's five tolerance lines ("tol_obj = 1e-12 (Default)", ...) at `depth`.
void tolerance_lines(std::vector<std::string>& block, const optimize::ConvergenceTolerances& t, int depth);

}  // namespace exmc::services
