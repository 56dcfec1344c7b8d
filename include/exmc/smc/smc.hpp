// Sequential Monte Carlo: adaptive tempering from a Gaussian reference to a LogDensity, with an
// estimate of the target's normalising constant (the evidence) gathered on the way.
//
// Why a Gaussian reference and not the prior: engines see only LogDensity, i.e. the whole
// unnormalised density p(x) on the unconstrained scale, with no prior/likelihood split. So the
// tempered family is
//     pi_beta(x) ∝ q(x)^(1 - beta) p(x)^beta,   beta: 0 -> 1,
// with q a *normalised* Gaussian (SmcOptions::reference). Then Z_0 = ∫ q = 1 and the product of the
// stage means of the incremental weights estimates Z = ∫ p(x) dx. For a model compiled with all
// constants kept (the full joint density, Jacobians included), log Z is the log marginal
// likelihood (the evidence); with constants dropped it is that evidence shifted by them.
// q should cover the posterior (its default, N(0, 2^2 I), suits models whose unconstrained
// parameters are of order one); a q much narrower than the posterior needs many stages.
//
// Randomness: every draw comes from exmc::Rng(seed, stream) with the stream packed as
//     (purpose << 60) | (stage << 32) | particle
// purpose 1: the initial draw of a particle from q (stage 0);
// purpose 2: the systematic-resampling uniform of a stage (particle 0);
// purpose 3: all mutation steps of one particle in one stage;
// purpose 4: the seed of run r of smc_log_evidence (stage 0, particle r);
// purpose 5: the seed of refit pass k (stage 0, particle k), which then draws as above.
// Particles are mutated on threads over a fixed partition, and every reduction is summed in
// particle order, so results are identical for any num_threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "exmc/core/approx_draws.hpp"
#include "exmc/core/gaussian.hpp"
#include "exmc/core/log_density.hpp"

namespace exmc::smc {

struct SmcStage {
  double beta = 0;                    // the temperature this stage moved to
  double ess = 0;                     // ESS of its incremental weights (in particles)
  double acceptance = 0;              // mean MH acceptance probability over its mutation rounds
  int mutation_steps = 0;             // mutation rounds run
  double log_evidence_increment = 0;  // log mean of the incremental weights
  double step_size = 0;               // HMC: the step size after adaptation; 0 for IMH
  // The last mutation round (max_mutation_steps reached) still moved the particles' mean log
  // density beyond its noise: they had not settled at this temperature.
  bool unsettled = false;
};

struct SmcOptions {
  enum class Kernel {
    // Independent Metropolis-Hastings (PyMC's IMH kernel, cross-fitted): each stage splits the
    // resampled particles into 8 folds by ancestor, and a particle proposes from a Gaussian
    // (mean, covariance plus a small ridge) fitted to the particles of the other folds, never to
    // itself or its copies (PyMC fits one to all of them), fitted again after every mutation
    // round so that it follows the particles. Needs log p only; wants many more
    // particles than dimensions (d^2 of them keeps the log evidence's bias within its se).
    kIndependentMh,
    // HMC with hmc_leapfrog_steps leapfrog steps, diagonal inverse metric = the particles'
    // variances, one step size per stage adapted toward 0.65 mean acceptance between mutation
    // rounds (each particle jitters it by a uniform factor in [0.9, 1.1]).
    kHmc,
  };

  size_t num_particles = 2000;  // in [2, 2^32)
  // The next beta is the one (found by bisection) whose incremental weights keep an ESS of
  // target_ess times the number of particles with finite weight, or 1 when beta = 1 keeps more.
  double target_ess = 0.5;  // in (0, 1)
  Kernel kernel = Kernel::kIndependentMh;
  int max_mutation_steps = 25;  // >= 1: mutation rounds per stage at most
  // Stopping rule for a stage's mutation rounds (PyMC-like): after round k, let c_k be the mean
  // over coordinates of |Pearson correlation| between the particles' positions right after
  // resampling and after round k (c_0 = 1). Stop when c_{k-1} - c_k < correlation_threshold, i.e.
  // when another round no longer decorrelates the particles from where they started (c_k then
  // sits at its noise floor of about 1/sqrt(N)), and the last round no longer moved the
  // particles' mean log pi_beta beyond three times its equilibrium noise sqrt(2 var / N): a
  // population still travelling toward the tempered target (which the correlation alone misses
  // under independent MH) keeps being mutated. 0 always runs max_mutation_steps. In [0, 1).
  double correlation_threshold = 0.01;
  int hmc_leapfrog_steps = 10;  // >= 1
  // The normalised reference q (dimension must equal the density's); default N(0, scale^2 I).
  std::optional<Gaussian> reference;
  double reference_scale = 2.0;  // > 0, finite
  unsigned num_threads = 0;      // 0: std::thread::hardware_concurrency()
  // Stages at most, in [1, 2^28): a run needing more has a reference hopelessly far from the
  // target, or a target without a normalising constant (an unbounded density); smc() then throws
  // std::runtime_error saying how far beta got.
  uint64_t max_stages = 10000;
  // After tempering from `reference`, temper again up to this many times, each from the normal
  // with the previous pass's particles' mean and 1.5^2 times their covariance (diagonal beyond
  // 400 dimensions), stopping once a pass's log evidence is within refit_agreement of the one
  // before; the result is the last pass's. A reference far from the posterior makes the
  // geometric path cross temperatures that no kernel samples well, and the log evidence came out
  // many nats low with a small spread over runs (a narrow conjugate regression: 8-22 nats low
  // over seeds with either kernel, every pass after a refit within 0.1 of the exact value).
  // In [0, 16]; 0: one tempering from `reference` (the cost of each refit pass is usually a
  // small part of the first's, its path being short). A last change beyond refit_agreement
  // (SmcResult::pass_log_marginal_likelihoods) says the passes had not settled.
  int refit_passes = 3;
  double refit_agreement = 1.0;  // nats; > 0
  // Called after each stage (numbered from 1) on the calling thread, e.g. to show progress as
  // PyMC's "Stage: k Beta: b" lines do; it cannot change the run.
  std::function<void(size_t stage, const SmcStage&)> on_stage;

  // Throws std::invalid_argument naming the option and its allowed range.
  void validate() const;
};


struct SmcResult {
  // Final equally weighted particles at beta = 1: log_p = the density's log p, log_q = the
  // reference's normalised log density.
  ApproxDraws particles;
  std::vector<SmcStage> stages;  // the last pass's
  double log_marginal_likelihood = 0;
  // The log evidence of each earlier pass (refit_passes), first to last, and their stages in all.
  // A large change from one pass to the next says the earlier one missed mass.
  std::vector<double> pass_log_marginal_likelihoods;
  size_t earlier_pass_stages = 0;
  uint64_t grad_evals = 0;  // calls to logp_grad (every pass)
  uint64_t logp_evals = 0;  // calls to logp
};

// Runs adaptive-tempering SMC. A non-finite log density or gradient, or an exception from the
// density, at a proposal is a rejection; at an initial particle it gives that particle weight 0.
// Throws std::invalid_argument for bad options or a reference of the wrong dimension, and
// std::runtime_error when no initial particle has a finite log density.
SmcResult smc(const LogDensity& ld, const SmcOptions& options, uint64_t seed);

struct MarginalLikelihood {
  double mean = 0;           // mean of log Z over the runs
  double se = 0;             // its standard error: sample sd of the runs / sqrt(num_runs)
  std::vector<double> runs;  // log Z of each run
};

// num_runs (>= 2) independent smc() runs; run r uses the seed Rng(seed, (4 << 60) | r).next_u64().
MarginalLikelihood smc_log_evidence(const LogDensity& ld, const SmcOptions& options, uint64_t seed,
                                    unsigned num_runs);

}  // namespace exmc::smc
