// A point in phase space: position, momentum, log density and its gradient.
#pragma once

#include <cstddef>
#include <vector>

namespace exmc::nuts {

struct PhasePoint {
  std::vector<double> q, p, g;  // g = gradient of log density at q
  double logp = 0;

  PhasePoint() = default;
  explicit PhasePoint(size_t d) : q(d), p(d), g(d) {}
  // Vector assignment between equal sizes reuses storage, so copies in the tree never allocate.
};

}  // namespace exmc::nuts
