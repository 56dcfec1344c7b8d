// L-BFGS ascent to a mode of a LogDensity (Stan's `optimize` default algorithm), with an
// observer that sees every accepted iterate (what Pathfinder builds its approximations from).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "exmc/core/log_density.hpp"

namespace exmc::optimize {

// Stan's five convergence tests on an ascent of log p, shared by L-BFGS, Newton and Pathfinder's
// L-BFGS (defaults as CmdStan's; eps = DBL_EPSILON).
struct ConvergenceTolerances {
  double tol_obj = 1e-12;      // |Δ log p| below this: converged
  double tol_rel_obj = 1e4;    // |Δ log p| / max(|log p|, |log p_prev|, 1) below tol_rel_obj * eps
  double tol_grad = 1e-8;      // Euclidean norm |g| below this (Stan's gradient norm)
  double tol_rel_grad = 1e7;   // g' H^-1 g / max(|log p|, 1) below tol_rel_grad * eps (the method's H^-1)
  double tol_param = 1e-8;     // Euclidean norm |Δx| below this
  // Throws std::invalid_argument "<owner>.<field> must be ..." for the first field out of range.
  void validate(const char* owner) const;
};

// Defaults and meaning as CmdStan's `optimize algorithm=lbfgs` (tolerances are on log p).
struct LbfgsOptions : ConvergenceTolerances {
  int history = 5;             // pairs (s, y) kept for the inverse-Hessian approximation
  int max_iterations = 2000;
  double init_alpha = 0.001;   // first line-search step length
  // Throws std::invalid_argument naming the first field out of range.
  void validate() const;
};

// One accepted iterate. Pointers are valid only during the observer call.
struct Iterate {
  int iteration = 0;           // 0: the starting point
  size_t dim = 0;
  const double* x = nullptr;   // unconstrained position
  const double* grad = nullptr;  // gradient of log p at x
  double logp = 0;
};
// Return false to stop the optimisation early (the result then says so).
using IterateObserver = std::function<bool(const Iterate&)>;

enum class Termination {
  kObjective,          // tol_obj
  kRelativeObjective,  // tol_rel_obj
  kGradient,           // tol_grad
  kRelativeGradient,   // tol_rel_grad
  kParameter,          // tol_param
  kMaxIterations,      // not converged
  kLineSearchFailed,   // no step increased log p (not converged)
  kObserver,           // the observer returned false
  kError,              // non-finite log p or gradient at the start point
};
// CmdStan's wording ("Convergence detected: relative gradient magnitude is below tolerance").
std::string describe(Termination t);
bool converged(Termination t);

struct OptimizeResult {
  std::vector<double> x;       // the last accepted iterate (the mode when converged)
  std::vector<double> grad;    // gradient of log p there
  double logp = 0;
  int iterations = 0;          // accepted iterates after the start
  uint64_t grad_evals = 0;     // logp_grad calls, line searches included
  Termination termination = Termination::kMaxIterations;
  bool converged() const { return optimize::converged(termination); }
};

// Maximises ld.logp from x0 (length ld.dim()). A non-finite log p or gradient during a line
// search shrinks the step (never a crash); at x0 it ends with kError.
OptimizeResult lbfgs(const LogDensity& ld, const std::vector<double>& x0, const LbfgsOptions& options = {},
                     const IterateObserver& observer = {});

}  // namespace exmc::optimize
