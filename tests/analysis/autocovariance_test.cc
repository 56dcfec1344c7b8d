// The mean autocovariance behind every ESS: lags summed directly where Geyer's sequence stops
// early, from FFTs past the lag cap; both must give the all-lags FFT's values.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "autocovariance.hpp"
#include "exmc/core/rng.hpp"

namespace exmc::analysis::detail {
namespace {

// `chains` AR(1) chains of n draws: x_t = phi x_{t-1} + e_t.
std::vector<double> ar1(double phi, size_t n, size_t chains, uint64_t seed) {
  std::vector<double> x(n * chains);
  for (size_t c = 0; c < chains; ++c) {
    Rng rng(seed, c);
    double v = 0;
    for (size_t i = 0; i < n; ++i) x[c * n + i] = v = phi * v + rng.normal();
  }
  return x;
}

// What ess_raw summed before: each chain's autocovariance from the FFT, averaged over chains.
std::vector<double> fft_mean(const std::vector<double>& x, size_t n, size_t chains) {
  std::vector<double> acm(n, 0.0);
  for (size_t c = 0; c < chains; ++c) {
    const auto ac = autocovariance(x.data() + c * n, n);
    for (size_t t = 0; t < n; ++t) acm[t] += ac[t];
  }
  for (double& v : acm) v /= double(chains);
  return acm;
}

void expect_all_lags_match(const std::vector<double>& x, size_t n, size_t chains, const std::vector<size_t>& order) {
  const auto want = fft_mean(x, n, chains);
  MeanAutocovariance acm({x.data(), n, chains}, false);
  // Errors relative to the lag-0 value: a far lag's autocovariance is near 0, and the FFT's
  // rounding there is relative to the whole series' energy.
  for (size_t t : order) EXPECT_NEAR(acm(t), want[t], 1e-12 * want[0]) << "lag " << t;
}

TEST(MeanAutocovariance, DirectLagsMatchTheFft) {
  const size_t n = 500, chains = 8;
  const auto x = ar1(0.3, n, chains, 1);
  std::vector<size_t> order;
  for (size_t t = 0; t < 40; ++t) order.push_back(t);
  expect_all_lags_match(x, n, chains, order);
  MeanAutocovariance acm({x.data(), n, chains}, false);
  EXPECT_GT(acm.lag_cap(), size_t{40});  // all of these were summed directly
}

TEST(MeanAutocovariance, LagsPastTheCapComeFromTheFftAndAgree) {
  const size_t n = 500, chains = 5;  // an odd count: the last chain's FFT is not paired
  const auto x = ar1(0.995, n, chains, 2);
  std::vector<size_t> in_order, far_first = {n - 1, 0, 1, 2, 250};
  for (size_t t = 0; t < n; ++t) in_order.push_back(t);
  expect_all_lags_match(x, n, chains, in_order);
  expect_all_lags_match(x, n, chains, far_first);
}

TEST(MeanAutocovariance, ConstantChainsAndLagsBeyondTheDraws) {
  const size_t n = 50, chains = 2;
  std::vector<double> x = ar1(0.5, n, chains, 3);
  for (size_t i = 0; i < n; ++i) x[i] = 1.5;  // chain 1 constant: it adds 0 at every lag
  const auto want = fft_mean(x, n, chains);
  MeanAutocovariance acm({x.data(), n, chains}, false);
  for (size_t t = 0; t < n; ++t) EXPECT_NEAR(acm(t), want[t], 1e-12 * want[0]) << "lag " << t;
  EXPECT_EQ(acm(n), 0.0);  // no lag n: a sum of no terms
  MeanAutocovariance one({x.data(), 1, 1}, true);
  EXPECT_EQ(one(1), 0.0);
}

}  // namespace
}  // namespace exmc::analysis::detail
