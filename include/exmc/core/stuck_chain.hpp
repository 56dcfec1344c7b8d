// When a chain counts as stuck, for `exmc sample`'s warning and `exmc diagnose` alike: more than
// kStuckDraws draws in a row at the point of the draw before (the same lp__), each transition's
// acceptance statistic below kStuckAcceptStat. A healthy chain at Stan's target acceptance (0.8)
// practically never rejects every proposal of 20 transitions in a row; a chain whose step size
// is far too large for where it stopped (a funnel's neck) does so for hundreds.
#pragma once

#include <cstddef>

namespace exmc {

inline constexpr std::size_t kStuckDraws = 20;
inline constexpr double kStuckAcceptStat = 0.01;

}  // namespace exmc
