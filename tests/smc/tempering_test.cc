#include "exmc/smc/tempering.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace exmc::smc {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

TEST(Tempering, EssIsTheFiniteCountAtZeroAndFallsWithTheIncrement) {
  const std::vector<double> lr = {0.0, -1.0, 2.0, kNegInf, -3.0};
  EXPECT_DOUBLE_EQ(tempered_ess(lr, 0.0), 4.0);
  // Direct formula at delta = 0.7.
  double s = 0, s2 = 0;
  for (double v : {0.0, -1.0, 2.0, -3.0}) {
    s += std::exp(0.7 * v);
    s2 += std::exp(1.4 * v);
  }
  EXPECT_NEAR(tempered_ess(lr, 0.7), s * s / s2, 1e-12);
  EXPECT_LT(tempered_ess(lr, 2.0), tempered_ess(lr, 0.7));
  EXPECT_EQ(tempered_ess({kNegInf, kNegInf}, 0.5), 0.0);
}

TEST(Tempering, LogMeanWeightCountsNonFiniteParticlesAsZeros) {
  const std::vector<double> lr = {1000.0, 999.0, kNegInf, 998.0};
  const double expected =
      0.5 * 1000.0 + std::log((1 + std::exp(-0.5) + std::exp(-1.0)) / 4.0);  // no overflow
  EXPECT_NEAR(log_mean_weight(lr, 0.5), expected, 1e-12);
  EXPECT_EQ(log_mean_weight({kNegInf}, 0.5), kNegInf);
}

TEST(Tempering, NextIncrementHitsTheTargetEss) {
  std::vector<double> lr;
  for (int i = 0; i < 200; ++i) lr.push_back(-0.05 * i * i / 10.0);
  // A tiny spread keeps the ESS above the target all the way: take the whole step.
  const std::vector<double> flat = {0.0, -1e-3, 1e-3};
  EXPECT_EQ(next_increment(flat, 0.8, 1.5), 0.8);
  const double target = 100.0;
  const double delta = next_increment(lr, 1.0, target);
  ASSERT_GT(delta, 0.0);
  ASSERT_LT(delta, 1.0);
  EXPECT_GE(tempered_ess(lr, delta), target);
  EXPECT_NEAR(tempered_ess(lr, delta), target, 1e-6);
}

TEST(Tempering, SystematicResamplingCountsWithinOneOfTheExpected) {
  const std::vector<double> w = {0.1, 0.0, 0.25, 0.05, 0.6};
  std::vector<double> log_w;
  for (double v : w) log_w.push_back(v > 0 ? std::log(v) + 7.0 : kNegInf);
  for (double u : {0.001, 0.37, 0.999}) {
    const auto idx = systematic_resample(log_w, u);
    ASSERT_EQ(idx.size(), w.size());
    std::vector<int> count(w.size(), 0);
    for (size_t k = 0; k < idx.size(); ++k) {
      ++count[idx[k]];
      if (k > 0) {
        EXPECT_LE(idx[k - 1], idx[k]);
      }
    }
    EXPECT_EQ(count[1], 0);
    for (size_t i = 0; i < w.size(); ++i)
      EXPECT_LT(std::abs(count[i] - 5.0 * w[i]), 1.0) << "particle " << i << " u " << u;
  }
  EXPECT_THROW(systematic_resample({kNegInf, kNegInf}, 0.5), std::invalid_argument);
}

}  // namespace
}  // namespace exmc::smc
