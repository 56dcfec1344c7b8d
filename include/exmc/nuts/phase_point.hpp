// A point in phase space: position, momentum, log density and its gradient.
#pragma once

#include <cstddef>
#include <vector>

namespace exmc::nuts {

struct PhasePoint {
  std::vector<double> q, p, g;  // g = gradient of log density at q
  // Dense metric only (kept by Leapfrog): v = M^{-1} p and mg = M^{-1} g, so that a step costs
  // one matrix-vector product instead of two.
  std::vector<double> v, mg;
  double logp = 0;

  PhasePoint() = default;
  explicit PhasePoint(size_t d) : q(d), p(d), g(d), v(d), mg(d) {}
  // Vector assignment between equal sizes reuses storage, so copies in the tree never allocate.
};

}  // namespace exmc::nuts
