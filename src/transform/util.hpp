// Helpers private to the transform kernels: messages and validation tolerances.
#pragma once

#include <cstdio>
#include <string>

namespace exmc::transform::detail {

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// How far a given value may miss an equality constraint (sum to one, unit norm, symmetry):
// Stan's 1e-8 in double, a float-sized bound in float.
template <class T> constexpr double constraint_tol() { return 1e-8; }
template <> constexpr double constraint_tol<float>() { return 1e-4; }

}  // namespace exmc::transform::detail
