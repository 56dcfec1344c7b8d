// Stan's five convergence tests after an accepted step of an ascent on log p (L-BFGS, Newton).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <optional>

#include "exmc/optimize/lbfgs.hpp"

namespace exmc::optimize::detail {

// lp, lp_prev: log p after and before the step; grad_norm: |g| after it; ghg: g' H^-1 g with the
// method's own inverse curvature; step_norm: |Δx|. In Stan's order; nullopt: go on.
inline std::optional<Termination> converged(const ConvergenceTolerances& t, double lp, double lp_prev,
                                            double grad_norm, double ghg, double step_norm) {
  const double df = std::fabs(lp - lp_prev);
  if (df < t.tol_obj) return Termination::kObjective;
  if (df / std::max({std::fabs(lp), std::fabs(lp_prev), 1.0}) < t.tol_rel_obj * DBL_EPSILON)
    return Termination::kRelativeObjective;
  if (grad_norm < t.tol_grad) return Termination::kGradient;
  if (ghg / std::max(std::fabs(lp), 1.0) < t.tol_rel_grad * DBL_EPSILON) return Termination::kRelativeGradient;
  if (step_norm < t.tol_param) return Termination::kParameter;
  return std::nullopt;
}

}  // namespace exmc::optimize::detail
