// Single- and multi-path Pathfinder (Zhang, Carpenter, Gelman and Vehtari 2022): normal
// approximations read off an L-BFGS path, the one with the largest ELBO kept, several paths
// pooled by Pareto-smoothed importance resampling. Defaults as CmdStan 2.33's `pathfinder`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "exmc/core/approx_draws.hpp"
#include "exmc/core/log_density.hpp"
#include "exmc/optimize/lbfgs.hpp"

namespace exmc::pathfinder {

struct PathfinderOptions : optimize::ConvergenceTolerances {
  int num_paths = 4;
  int history_size = 5;         // L-BFGS history and the J pairs of each approximation
  int max_lbfgs_iters = 1000;
  int num_draws = 1000;         // per path
  int num_elbo_draws = 25;      // per iterate
  int num_psis_draws = 1000;    // after resampling the pooled draws
  bool psis_resample = true;    // false: all pooled draws, unweighted
  double init_radius = 2;       // random inits uniform(-r, r) on the unconstrained scale
  // If non-empty (length dim), every path starts here (as CmdStan with a user init).
  std::vector<double> init;
  // L-BFGS's first step (its tolerances, the base, are CmdStan's pathfinder defaults too).
  double init_alpha = 0.001;
  unsigned num_threads = 0;     // 0: min(num_paths, hardware threads); never changes results

  // Throws std::invalid_argument naming the first option out of range.
  void validate() const;
  optimize::LbfgsOptions lbfgs_options() const;
};

struct SinglePathResult {
  ApproxDraws draws;                 // num_draws from the chosen approximation
  int best_iteration = 0;            // L-BFGS iteration (>= 1) whose approximation was kept
  double best_elbo = 0;
  std::vector<double> elbo;          // elbo[l - 1]: estimate at iteration l (-inf if unusable)
  std::vector<double> mean;          // the chosen approximation's mean
  std::vector<double> cov_diagonal;  // diagonal of its covariance, for initial metrics
  uint64_t grad_evals = 0;           // log density evaluations: inits, L-BFGS, ELBO and draws
  optimize::Termination lbfgs_termination = optimize::Termination::kError;
  std::string error;                 // non-empty: the path failed and `draws` is empty
  bool ok() const { return error.empty(); }
};

struct PathfinderResult {
  ApproxDraws draws;                     // resampled (or pooled) draws of the successful paths
  std::vector<SinglePathResult> paths;   // every path, failed ones included
  // PSIS k of the pooled draws' log p - log q (draws with log p = -inf left out): NaN with
  // fewer than two finite ratios or too few for PSIS's tail (under 25: not estimated, where
  // psis says +inf), -inf when the ratios are constant (q = p up to log Z: uniform weights,
  // nothing to fit).
  double pareto_k = 0;
  uint64_t grad_evals = 0;               // all paths together
};

// Random streams: path p draws its initial point from Rng(seed, 3p), its ELBO draws from
// Rng(seed, 3p + 1) and its final draws from Rng(seed, 3p + 2); the multi-path resampling
// uses Rng(seed, kResampleStream).
inline constexpr uint64_t kResampleStream = uint64_t(1) << 62;

// One path; never throws for a failing density (the reason is in `error`). Throws
// std::invalid_argument for bad options or an x0/init of the wrong length. x0 overrides
// options.init; neither: uniform(-init_radius, init_radius) until log p and its gradient are
// finite (at most 100 tries).
SinglePathResult pathfinder_single(const LogDensity& ld, const PathfinderOptions& options,
                                   uint64_t seed, unsigned path, const double* x0 = nullptr);

// num_paths paths on threads, pooled. With one path its draws are returned as they are.
// Throws std::runtime_error, with every path's reason, when no path succeeds.
PathfinderResult pathfinder(const LogDensity& ld, const PathfinderOptions& options, uint64_t seed);

}  // namespace exmc::pathfinder
