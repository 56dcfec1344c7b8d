// One normal transition y_t ~ normal(m, s) with partials in y_t, m and s: the step that
// gaussian_random_walk and ar1 chain along a series.
#pragma once

#include "univariate.hpp"

namespace exmc::dist::detail {

struct Step {
  double lp, dy, dm, ds;  // value (without the -0.5 log 2 pi constant) and partials
};
inline Step normal_step(double y, double m, double s, bool with_log_s) {
  const double z = (y - m) / s;
  return {-0.5 * z * z - (with_log_s ? std::log(s) : 0.0), -z / s, z / s, (z * z - 1.0) / s};
}

}  // namespace exmc::dist::detail
