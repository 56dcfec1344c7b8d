// The tree's inline exp against the C library's, over the range the tree uses it on.
#include "../../src/nuts/fast_exp.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace exmc::nuts::detail {
namespace {

double ulps(double got, double want) {
  return std::fabs(got - want) / (std::nextafter(want, INFINITY) - want);
}

TEST(FastExp, WithinTwoUlpOfLibmOverTheLeafWeightRange) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> wide(-700.0, 700.0), near(-5.0, 5.0);
  double worst = 0;
  for (int i = 0; i < 2000000; ++i) {
    const double a = i % 2 ? wide(rng) : near(rng);
    worst = std::max(worst, ulps(exp_in_range(a), std::exp(a)));
  }
  for (double a : {0.0, -0.0, 1e-300, -1e-300, 699.999, -699.999, 1.0, -1.0, 0.5 * std::log(2.0)})
    worst = std::max(worst, ulps(exp_in_range(a), std::exp(a)));
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(exp_in_range(0.0), 1.0);
}

}  // namespace
}  // namespace exmc::nuts::detail
