// Convergence diagnostics as r-cran-posterior 1.4.0 computes them: rank-normalised split R-hat,
// bulk/tail/quantile ESS, MCSE of mean, sd and quantiles (Vehtari et al. 2021).
#pragma once

#include <cstddef>
#include <vector>

namespace exmc::analysis {

// One variable's draws: num_chains blocks of num_draws values each (chain after chain).
struct ChainView {
  const double* x;
  size_t num_draws;
  size_t num_chains;
  size_t size() const { return num_draws * num_chains; }
};

// Each returns NaN where posterior returns NA (non-finite or constant draws, < 3 iterations).
double rhat(ChainView x);             // max of bulk and folded rank-normalised split R-hat
double rhat_basic(ChainView x);       // classic split R-hat, no rank normalisation
double ess_bulk(ChainView x);
double ess_tail(ChainView x);         // min of ess_quantile at 0.05 and 0.95
double ess_basic(ChainView x);        // split, not rank-normalised
double ess_mean(ChainView x);
double ess_sd(ChainView x);
double ess_quantile(ChainView x, double prob);
double ess_median(ChainView x);
double mcse_mean(ChainView x);
double mcse_sd(ChainView x);
double mcse_quantile(ChainView x, double prob);
// The same from that quantile's ess_quantile(x, prob), when it is known already (a summary row
// needs the 5% and 95% ones for ess_tail too).
double mcse_quantile(ChainView x, double prob, double ess_of_quantile);
double mcse_median(ChainView x);

// Plain statistics over all draws, as R computes them.
double mean(const double* x, size_t n);
double sd(const double* x, size_t n);                     // n - 1 denominator
double quantile(const double* x, size_t n, double prob);  // R's type 7
double median(const double* x, size_t n);
double mad(const double* x, size_t n);                    // 1.4826 * median |x - median|

namespace detail {
// The ESS of a (draws x chains) matrix with Geyer's initial positive + monotone sequence and
// posterior's cap tau >= 1/log10(S). loo_scaling reproduces loo 2.5.1's autocovariance, which
// is scaled by nextn(N)/N relative to posterior's (it matters when chains differ in mean).
double ess_raw(ChainView x, bool loo_scaling = false);
// Autocovariance at lags 0..n-1 (biased, 1/n), computed with a zero-padded FFT.
std::vector<double> autocovariance(const double* x, size_t n);
// rhat(x) and ess_bulk(x) at once: they share the rank-normalised split chains (a summary row).
// median_of_x: median(x.x, x.size()) when the caller has it (the folded R-hat needs it).
void rhat_and_ess_bulk(ChainView x, double* rhat, double* ess_bulk, const double* median_of_x = nullptr);
// ess_quantile's ESS of the indicator x <= q, for q the quantile already known.
double ess_below(ChainView x, double q);
// quantile() and median() of draws already sorted, without NaN: the same numbers, bit for bit.
double quantile_sorted(const std::vector<double>& sorted, double prob);
double median_sorted(const std::vector<double>& sorted);
// mad(x) given median(x), when the caller has it already (a summary row).
double mad_about(const double* x, size_t n, double median_of_x);
// mcse_quantile(x, prob, ess) given x's draws sorted (a summary row needs three quantiles' MCSEs).
double mcse_quantile_sorted(const std::vector<double>& sorted, double prob, double ess);
}  // namespace detail

}  // namespace exmc::analysis
