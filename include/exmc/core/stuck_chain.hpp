// When a chain counts as stuck, for `exmc sample`'s warning and `exmc diagnose` alike: more than
// kStuckDraws draws in a row at the point of the draw before (the same lp__), each transition's
// acceptance statistic below kStuckAcceptStat. A healthy chain at Stan's target acceptance (0.8)
// practically never rejects every proposal of 20 transitions in a row; a chain whose step size
// is far too large for where it stopped (a funnel's neck) does so for hundreds.
#pragma once

#include <cstddef>
#include <limits>

namespace exmc {

inline constexpr std::size_t kStuckDraws = 20;
inline constexpr double kStuckAcceptStat = 0.01;

// Follows one chain's draws in order and keeps its longest stuck run. A draw that stays is one
// with the previous draw's log density (a chain that moved has another, bit for bit) after a
// transition whose acceptance statistic is near zero.
struct StuckRun {
  double last_lp = std::numeric_limits<double>::quiet_NaN();
  std::size_t draws = 0;        // draws seen
  std::size_t run = 0;          // draws in a row that stayed, up to the last one
  std::size_t longest = 0;      // the longest such run ...
  std::size_t longest_end = 0;  // ... and the 0-based draw that ends it

  void add(double lp, double accept_stat) {
    run = lp == last_lp && accept_stat < kStuckAcceptStat ? run + 1 : 0;
    if (run > longest) longest = run, longest_end = draws;
    last_lp = lp;
    ++draws;
  }
  bool stuck() const { return longest >= kStuckDraws; }
};

}  // namespace exmc
