#include "exmc/core/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace exmc {
namespace {

TEST(Rng, SameKeySameStreamDifferentKeyDifferentStream) {
  Rng a(7, 0), b(7, 0), c(7, 1), d(8, 0);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
    EXPECT_NE(x, d.next_u64());
  }
}

TEST(Rng, UniformAndNormalMomentsWithinFiveMcse) {
  Rng r(123, 4);
  const int n = 200000;
  double su = 0, su2 = 0, sz = 0, sz2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    su2 += u * u;
    double z = r.normal();
    sz += z;
    sz2 += z * z;
  }
  // Uniform: mean 1/2, sd 1/sqrt(12). Normal: mean 0 (sd 1), E z^2 = 1 (sd sqrt 2).
  EXPECT_NEAR(su / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(su2 / n, 1.0 / 3, 5 * std::sqrt((1.0 / 5 - 1.0 / 9) / n));
  EXPECT_NEAR(sz / n, 0.0, 5 * std::sqrt(1.0 / n));
  EXPECT_NEAR(sz2 / n, 1.0, 5 * std::sqrt(2.0 / n));
}

}  // namespace
}  // namespace exmc
