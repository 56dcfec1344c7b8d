// Newton's method ascent to a mode (Stan's `optimize algorithm=newton`): finite-difference
// Hessian made negative definite, then step halving until log p increases.
#pragma once

#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/optimize/lbfgs.hpp"

namespace exmc::optimize {

// Tolerances mean what they mean for L-BFGS (LbfgsOptions), with the relative gradient
// measured through the modified Hessian: g' (-H)^-1 g / max(|log p|, 1).
struct NewtonOptions : ConvergenceTolerances {
  int max_iterations = 2000;
  // Throws std::invalid_argument naming the first field out of range.
  void validate() const;
};

// Maximises ld.logp from x0. Each iteration costs one Hessian (4 d + 1 gradient calls) and
// the halving trials. Eigenvalues of the Hessian are replaced by -max(|lambda|, 1e-8 max|lambda|)
// so the step always points uphill. kLineSearchFailed when 60 halvings of the step never
// increase log p (and no convergence test holds); kError when log p, its gradient or the
// Hessian is not finite at x0. The observer sees iteration 0 and every accepted iterate.
OptimizeResult newton(const LogDensity& ld, const std::vector<double>& x0, const NewtonOptions& options = {},
                      const IterateObserver& observer = {});

}  // namespace exmc::optimize
