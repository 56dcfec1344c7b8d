// Helpers private to the transform kernels: messages and validation tolerances.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "exmc/transform/guards.hpp"

namespace exmc::transform::detail {

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// How far a given value may miss an equality constraint (sum to one, unit norm, symmetry).
// Values read back from a CmdStan CSV carry 6 significant digits by default (exmc's and
// CmdStan's --sig-figs), a relative error of at most 5e-6 per element, so a simplex's sum or a
// unit vector's norm can miss by 5e-6: the double tolerance is twice that (Stan's 1e-8 refuses
// most such draws). What is given is used up to scale (every unconstrain below is invariant to
// it), so the value used sums to 1 exactly. A float-sized bound in float.
template <class T> constexpr double constraint_tol() { return 1e-5; }
template <> constexpr double constraint_tol<float>() { return 1e-4; }

// log(v) for a distance v >= 0 to an edge of the support, as a log-type transform's
// unconstrained coordinate: clamped to the transform's clamp (guards.hpp), so a value on the
// edge itself (v = 0, which rounding in the forward map or in a printed draw produces) maps to
// -B, where constrain gives the edge back, and a value closer than exp(-B) or farther than
// exp(B) maps to where the clamp puts it, not to a flat region beyond it.
template <class T> T log_to_edge(T v) { return clamp_log(std::log(v)); }

// An unconstrained coordinate that is infinite because the value is on an edge of a
// logit/atanh-type support (no clamp there): the clamp's edge +-B, finite, where constrain gives
// the edge back to rounding.
template <class T> T finite_edge(T x) {
  if (std::isinf(x)) return x > T(0) ? log_clamp_bound<T>() : -log_clamp_bound<T>();
  return x;
}

// Under InteriorOnly (initial values): what is wrong with a value on an edge of the support,
// "value 0 at index 1 is on the lower bound 0: an initial value must lie strictly inside the
// support", or "" when not InteriorOnly.
std::string on_edge(const std::string& what);

inline std::string tol_str(double tol) { return " (tolerance " + num(tol) + ")"; }

}  // namespace exmc::transform::detail
