// Hand-written analytic log densities and gradients of the ten benchmark models (the practical limit).
#pragma once

#include <memory>
#include <string>

#include "bench_data.hpp"
#include "exmc/core/log_density.hpp"

namespace exmc::bench {

// The model's log density on the unconstrained scale, exactly as Stan defines it: parameters in
// declaration order, `<lower=0>` through x = exp(u) with log-Jacobian u, and every term that
// does not depend on parameters dropped (as Stan's `~` does). Each is a direct translation of
// the Stan program (one pass per observation, no sufficient-statistic rewrites), so it does
// the same work as Stan and the graph, only with no overhead. output_vars()/constrain()
// give the `parameters` block on the constrained scale.
// Throws std::runtime_error for an unknown model or malformed data.
std::unique_ptr<LogDensity> make_handwritten(const std::string& model, const BenchData& data);

}  // namespace exmc::bench
