// ADVI (Kucukelbir et al., 2017) as Stan's `variational`: a meanfield or fullrank Gaussian fitted
// on the unconstrained scale by stochastic gradient ascent on the ELBO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/core/approx_draws.hpp"
#include "exmc/core/gaussian.hpp"
#include "exmc/core/log_density.hpp"

namespace exmc::variational {

// Defaults are CmdStan's `variational` defaults.
struct AdviOptions {
  enum class Family { kMeanfield, kFullrank };
  Family family = Family::kMeanfield;
  int iter = 10000;           // maximum optimisation iterations (after eta adaptation)
  int grad_samples = 1;       // draws per Monte Carlo ELBO gradient
  int elbo_samples = 100;     // draws per ELBO estimate
  double eta = 1.0;           // step-size scale; ignored (chosen from the grid) when adapt_engaged
  bool adapt_engaged = true;  // choose eta from {100, 10, 1, 0.1, 0.01}
  int adapt_iter = 50;        // iterations per eta tried
  double tol_rel_obj = 0.01;  // mean or median relative ELBO change below this: converged
  int eval_elbo = 100;        // estimate the ELBO every eval_elbo iterations
  size_t output_draws = 1000;
  double init_radius = 2;     // initial mean ~ uniform(-init_radius, init_radius) when no x0
  // Throws std::invalid_argument naming the first field out of range and its allowed range.
  void validate() const;
};

// One ELBO evaluation of the main loop (every eval_elbo iterations).
struct AdviTracePoint {
  int iteration = 0;
  double elbo = 0;
  double rel = 0;         // |(elbo_prev - elbo) / elbo|; 1 at the first evaluation (Stan's)
  double rel_mean = 0;    // mean of the circular buffer of rel
  double rel_median = 0;  // Stan's median of that buffer (the upper middle element)
};

struct AdviResult {
  Gaussian approximation;  // diagonal (meanfield) or Cholesky (fullrank) normal on R^d
  // output_draws draws from the approximation: log_p = ld.logp (-inf where not finite),
  // log_q = the approximation's normalised log density.
  ApproxDraws draws;
  std::vector<AdviTracePoint> trace;
  double eta = 0;          // the step-size scale used by the main loop
  bool converged = false;  // relative ELBO tolerance met before iter
  // The main loop stopped on a divergence: an ELBO with no finite draw, or a step that made a
  // scale 0 or infinite (the approximation is the last usable one; `message` says which).
  bool diverged = false;
  int iterations = 0;      // main-loop iterations run
  uint64_t grad_evals = 0;      // log density calls: gradients, ELBO estimates, output draws
  // Of the log density calls after eta adaptation (whose trial etas throw the approximation far
  // out on purpose), those whose log p or gradient was not finite (or threw).
  uint64_t rejected_draws = 0;
  uint64_t optimisation_draws = 0;
  std::string message;
};

// Failures Stan also reports as errors: no initial point with finite log p and gradient, an
// ELBO that cannot be estimated at the initial approximation, every eta of the grid failing.
class AdviError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs ADVI. A pure function of (ld, options, seed, x0). x0 (length ld.dim()), when given, is
// the initial mean; otherwise uniform(-init_radius, init_radius) per coordinate, redrawn (up to
// 100 times) until log p and its gradient are finite. The initial scale is the identity.
//
// Random streams, all Rng(seed, s):
//   s = 0  initial point            s = 3  main-loop gradient draws
//   s = 1  adaptation gradients     s = 4  main-loop ELBO estimates
//   s = 2  adaptation ELBO draws    s = 5  output draws
// Streams 1 and 2 restart for every eta tried (and for the initial ELBO), so the candidates are
// compared on common random numbers.
//
// Non-finite targets: a gradient draw whose log p or gradient is not finite (or whose
// logp_grad throws) is redrawn up to 10 times, then dropped; when every draw of an iteration is
// dropped, the iteration's gradient is zero (the approximation does not move). An ELBO estimate
// averages the finite draws only; when none is finite it is -inf: during adaptation that eta
// counts as diverged, in the main loop the run stops with converged = false and a message.
// Throws std::invalid_argument for bad options, an empty density or a non-finite x0 value;
// AdviError as described above.
AdviResult advi(const LogDensity& ld, const AdviOptions& options, uint64_t seed,
                const double* x0 = nullptr);

}  // namespace exmc::variational
