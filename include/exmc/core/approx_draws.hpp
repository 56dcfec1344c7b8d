// Draws from an approximation of a LogDensity (Laplace, Pathfinder, ADVI, SMC), on the
// unconstrained scale, with the two log densities CmdStan writes beside them.
#pragma once

#include <cstddef>
#include <vector>

namespace exmc {

struct ApproxDraws {
  size_t dim = 0;
  std::vector<double> x;      // row-major: size() rows of dim values
  std::vector<double> log_p;  // LogDensity::logp at each draw (-inf where it is not finite)
  std::vector<double> log_q;  // the approximation's normalised log density at each draw

  size_t size() const { return log_p.size(); }
  const double* draw(size_t i) const { return x.data() + i * dim; }
  void reserve(size_t n) {
    x.reserve(n * dim);
    log_p.reserve(n);
    log_q.reserve(n);
  }
};

}  // namespace exmc
