// The ziggurat normal sampler against the exact normal distribution.
#include "exmc/nuts/ziggurat_normal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace exmc::nuts {
namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

TEST(ZigguratNormal, HistogramMatchesNormalCdf) {
  Rng rng(123, 0);
  const int n = 2000000;
  // 60 bins on [-4.5, 4.5] plus two tails; bin 0.15 wide so the edges at +-3.654 (tail start)
  // and layer boundaries are crossed inside bins.
  const int bins = 60;
  const double lo = -4.5, w = 9.0 / bins;
  std::vector<double> count(bins + 2, 0.0);
  double s1 = 0, s2 = 0, s4 = 0;
  for (int k = 0; k < n; ++k) {
    const double z = ziggurat_normal(rng);
    s1 += z, s2 += z * z, s4 += z * z * z * z;
    const int b = z < lo ? 0 : z >= -lo ? bins + 1 : 1 + int((z - lo) / w);
    count[std::min(b, bins)] += 1;
  }
  double chi2 = 0;
  for (int b = 0; b < bins + 2; ++b) {
    const double a = b == 0 ? -INFINITY : lo + (b - 1) * w;
    const double c = b == bins + 1 ? INFINITY : lo + b * w;
    const double expected = n * (normal_cdf(c) - normal_cdf(a));
    chi2 += (count[b] - expected) * (count[b] - expected) / expected;
  }
  // 61 degrees of freedom: mean 61, sd 11; 61 + 5 sd.
  EXPECT_LT(chi2, 61 + 5 * 11.05);
  EXPECT_NEAR(s1 / n, 0.0, 5 * std::sqrt(1.0 / n));
  EXPECT_NEAR(s2 / n, 1.0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(s4 / n, 3.0, 5 * std::sqrt(96.0 / n));
}

TEST(ZigguratNormal, TailBeyondRHasTheRightMass) {
  Rng rng(7, 7);
  const int n = 4000000;
  int tail = 0, far = 0;
  for (int k = 0; k < n; ++k) {
    const double z = std::fabs(ziggurat_normal(rng));
    tail += z > 3.6541528853610088;
    far += z > 4.5;
  }
  const double p = 2 * (1 - normal_cdf(3.6541528853610088));
  EXPECT_NEAR(double(tail) / n, p, 5 * std::sqrt(p / n));
  const double pf = 2 * (1 - normal_cdf(4.5));
  EXPECT_NEAR(double(far) / n, pf, 5 * std::sqrt(pf / n));
}

}  // namespace
}  // namespace exmc::nuts
