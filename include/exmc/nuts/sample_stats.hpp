// Per-iteration sampler statistics, named as Stan names them.
#pragma once

#include <array>
#include <string>

namespace exmc::nuts {

struct SampleStats {
  double lp = 0;           // lp__: log density (unconstrained, with Jacobian) at the draw
  double accept_stat = 0;  // accept_stat__
  double step_size = 0;    // stepsize__
  int tree_depth = 0;      // treedepth__
  int n_leapfrog = 0;      // n_leapfrog__
  bool divergent = false;  // divergent__
  double energy = 0;       // energy__: Hamiltonian at the draw

  static constexpr size_t kCount = 7;
  static const std::array<std::string, kCount>& names();
  std::array<double, kCount> as_array() const {
    return {lp, accept_stat, step_size, double(tree_depth), double(n_leapfrog),
            divergent ? 1.0 : 0.0, energy};
  }
};

}  // namespace exmc::nuts
