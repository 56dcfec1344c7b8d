// The posteriordb validation harness: run exmc's NUTS on a posteriordb posterior and grade the
// draws against the gold-standard reference (R-hat, bulk ESS, mean and sd within MCSE,
// divergences). Used by exmc-posteriordb and by the CI test of the fast subset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace exmc::posteriordb {

// One reported quantity of reference.json, with the reference's own Monte Carlo error.
struct RefQuantity {
  std::string name;       // posteriordb's name, "theta[1]"
  std::string flat_name;  // exmc's name, "theta.1"
  double mean = 0, sd = 0;
  double mcse_mean = 0;   // posteriordb's pdb_mcse_mean, else sd / sqrt(ref ESS)
  double mcse_sd = 0;     // sd / sqrt(2 ref ESS): the normal-theory value (no kurtosis given)
};

struct Reference {
  std::vector<RefQuantity> quantities;
  // The sampler settings the reference was drawn with (reference_inference.method_arguments
  // .control); 0 where not given. accel_gp needs 0.999 and depth 15 in Stan too.
  double adapt_delta = 0;
  int max_treedepth = 0;
};

// Reads <dir>/reference.json. Throws std::runtime_error naming the file and the key at fault.
Reference read_reference(const std::filesystem::path& file);

// "theta[1]" -> "theta.1", "Sigma[2,1]" -> "Sigma.2.1", "mu" -> "mu" (exmc's flat_names).
std::string to_flat_name(const std::string& posteriordb_name);

// Posterior folders (those holding model.stan and reference.json) under root, sorted by name.
std::vector<std::string> list_posteriors(const std::filesystem::path& root);

// The CI subset (see README.md for why these).
const std::vector<std::string>& fast_subset();

// Posteriors that are run and reported but never gate (eight_schools_centered: Stan's own NUTS
// diverges on that funnel and its reference reuses the noncentered draws).
bool is_gated(const std::string& posterior);

// --only NAME: a folder name, or the model part after the '-' ("kidscore_momiq",
// "nes" matches all six nes years). Returns the matching folders of `available`, in order.
std::vector<std::string> select_posteriors(const std::vector<std::string>& available,
                                           const std::string& name);

struct RunOptions {
  unsigned chains = 4, warmup = 1000, draws = 1000;
  uint64_t seed = 1;
  unsigned threads = 0;  // 0: min(chains, hardware threads)
  // Use the reference's adapt_delta and max_treedepth where it gives them (else exmc's
  // defaults, 0.8 and 10); false: always the defaults.
  bool reference_control = true;
  // How the chains start. Default: exmc's own (uniform(-2, 2) unconstrained, unit metric).
  // Pathfinder: services::init_from_pathfinder (default Pathfinder settings, seeded with
  // `seed`): chain c starts at a Pathfinder draw, warmup starts from the draws' variance.
  enum class Init { Default, Pathfinder };
  Init init = Init::Default;
  // The density's arithmetic: f32 computes every node in float (the log density is accumulated
  // and the gradient returned in double), as `exmc sample --precision f32`.
  bool single_precision = false;
};

// Thresholds of the grade (the numbers).
struct Criteria {
  double max_rhat = 1.01;
  double min_ess_bulk = 400;
  double max_abs_z = 4;                   // |estimate - reference| / combined MCSE
  double max_divergent_fraction = 0.01;   // of post-warmup draws
};

// What exmc's draws say about one output variable (all chains pooled).
struct VarStats {
  std::string name;  // flat name
  double mean = 0, sd = 0, mcse_mean = 0, mcse_sd = 0, rhat = 0, ess_bulk = 0;
};

// The comparison of one reference quantity.
struct QuantityCheck {
  std::string name;  // posteriordb's name
  bool found = false;
  double mean = 0, sd = 0, ref_mean = 0, ref_sd = 0;
  double z_mean = 0, z_sd = 0;            // with the combined MCSE (the gate)
  double z_mean_exmc = 0, z_sd_exmc = 0;  // with exmc's MCSE alone (the literal rule)
  bool pass = false;
};

// One chain's sampler behaviour after warmup: what tells a stuck chain from a hard posterior.
struct ChainSummary {
  uint64_t divergences = 0, recoveries = 0;
  double step_size = 0, mean_tree_depth = 0, mean_accept = 0, mean_lp = 0;
};

enum class Status { Pass, Fail, NotLowered, Error };
const char* status_name(Status s);

struct Outcome {
  std::string posterior;
  size_t dim = 0;
  bool gated = true;
  Status status = Status::Error;
  std::vector<std::string> failures;  // short failing-check labels, e.g. "mean(beta[2] z=5.1)"
  std::string message;                // why it did not lower / errored (one line)
  double adapt_delta = 0;  // the sampler settings used
  int max_treedepth = 0;
  double load_seconds = 0, sample_seconds = 0;
  uint64_t grad_evals = 0;          // all chains, warmup and initialisation (Pathfinder too)
  uint64_t warmup_grad_evals = 0;   // the chains' warmup (and chain initialisation) + Pathfinder's
  uint64_t init_grad_evals = 0;     // Pathfinder's alone (0 with the default init)
  double init_seconds = 0;          // Pathfinder's wall time (0 with the default init)
  double min_ess_bulk = 0;
  std::string min_ess_variable;
  double max_rhat = 0;
  std::string max_rhat_variable;
  uint64_t divergences = 0;
  size_t post_warmup_draws = 0;
  double worst_z_mean = 0, worst_z_sd = 0;  // signed; the largest |z| over the quantities
  std::string worst_mean_quantity, worst_sd_quantity;
  std::vector<QuantityCheck> checks;
  std::vector<ChainSummary> chains;

  // min bulk ESS / (sampling wall time + Pathfinder's wall time).
  double ess_per_second() const;
  bool passed() const { return status == Status::Pass; }
};

// The pure grading step, given exmc's per-variable statistics (every constrained output).
// Fills status (Pass or Fail), failures, the R-hat/ESS extremes, worst z and checks of `out`.
// Variables with sd == 0 (constants, fixed elements) take no part in R-hat and ESS.
void grade(const std::vector<VarStats>& vars, const Reference& ref, uint64_t divergences,
           size_t post_warmup_draws, const Criteria& criteria, Outcome& out);

// Loads, lowers, compiles and samples <root>/<posterior>, then grades. Never throws for a
// model problem: the outcome says NotLowered or Error with the message.
Outcome run_posterior(const std::filesystem::path& root, const std::string& posterior,
                      const RunOptions& options, const Criteria& criteria = {});

}  // namespace exmc::posteriordb
