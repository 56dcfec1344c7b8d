// The weight arithmetic of adaptive tempering, separate from the sampler so it can be tested
// alone: incremental-weight ESS, the bisection for the next temperature, the log mean weight and
// systematic resampling. `lr` holds log p(x_i) - log q(x_i) per particle; -inf marks a particle
// whose density is not finite, which has weight 0 at every positive increment.
#pragma once

#include <cstddef>
#include <vector>

namespace exmc::smc {

// ESS = (sum w)^2 / sum w^2 of w_i = exp(delta * lr_i); 0 when no weight is positive.
double tempered_ess(const std::vector<double>& lr, double delta);

// log((1/n) sum_i exp(delta * lr_i)) over all n particles (those at -inf count as zeros).
double log_mean_weight(const std::vector<double>& lr, double delta);

// The temperature increment: max_delta when tempered_ess(lr, max_delta) >= target_ess,
// otherwise the increment in (0, max_delta) where the ESS falls to target_ess (bisection, to
// relative precision ~1e-12; the returned value keeps ESS >= target_ess).
double next_increment(const std::vector<double>& lr, double max_delta, double target_ess);

// Systematic resampling of n indices from unnormalised log weights, with the one uniform u in
// (0, 1): index i is taken floor(n W_i + ...) times, so counts differ from n W_i by less than 1.
// Returns the indices in increasing order.
std::vector<size_t> systematic_resample(const std::vector<double>& log_w, double u);

}  // namespace exmc::smc
