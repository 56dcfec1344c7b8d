// The autocovariances behind every ESS (analysis-internal): lagged sums of a series by FFT, and
// the mean over chains of their autocovariances, lag by lag as Geyer's sequence asks for them.
#pragma once

#include <cstddef>
#include <vector>

#include "exmc/analysis/convergence.hpp"

namespace exmc::analysis::detail {

// R's var(): sample variance, two-pass (convergence.cc).
double sample_variance(const double* x, size_t n);

// Sum_i y_i y_{i+t} for t = 0..n-1 of the centred series y = x - mean(x) (linear, not
// circular), by a zero-padded FFT.
std::vector<double> lagged_sums(const double* x, size_t n);

// The mean over x's chains of each chain's autocovariance at lag t: posterior's (biased, 1/n,
// the lagged sums scaled so lag 0 is var * (n - 1) / n), or with loo_scaling loo 2.5.1's (the
// lagged sums times nextn(n) / n^2). Lags are computed when first asked for.
//
// Why lazily: Geyer's initial positive sequence stops at the first pair of lags whose sum is
// negative, so a chain that mixes needs a few tens of lags. Two FFTs of 2n points per chain gave
// every lag and were three quarters of `exmc summary`'s time; a lag summed directly costs n
// multiply-adds per chain. Past lag_cap() (where the direct sums would cost more than the FFTs)
// the remaining lags come from the FFTs.
class MeanAutocovariance {
 public:
  MeanAutocovariance(ChainView x, bool loo_scaling);
  double operator()(size_t lag) {
    if (lag >= acm_.size()) extend(lag + 1);
    return lag < acm_.size() ? acm_[lag] : 0.0;  // no lag n or beyond: a sum of no terms
  }
  size_t lag_cap() const { return lag_cap_; }

 private:
  void extend(size_t lags);
  void extend_by_fft();
  ChainView x_;
  bool loo_scaling_;
  std::vector<double> centred_;  // chain after chain, y = x - mean(x)
  std::vector<double> factor_;   // per chain: the scale of its lagged sums (0: constant chain)
  std::vector<double> acm_;      // lags 0 .. size() - 1
  size_t lag_cap_;
};

}  // namespace exmc::analysis::detail
