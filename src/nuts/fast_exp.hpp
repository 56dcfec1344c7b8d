// The tree's leaf weights min(1, exp(H0 - H)) with the inline exp (core/fast_math.hpp): glibc's exp
// is a call and a ~10 ns latency chain per leapfrog on models whose gradient costs 10-40 ns.
#pragma once

#include <cmath>

#include "exmc/core/fast_math.hpp"

namespace exmc::nuts::detail {

using exmc::fast::exp_in_range;

// exp(a) for any a: the inline one inside its range, libm's outside. What a leaf's acceptance
// probability min(1, exp(H0 - H)) is computed with, so that a reference tree can sum the same bits.
inline double leaf_exp(double a) { return std::fabs(a) < 700.0 ? exp_in_range(a) : std::exp(a); }

}  // namespace exmc::nuts::detail
