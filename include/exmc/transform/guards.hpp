// Numerical guards shared by the transforms: clamped exp inputs, floored scales, and stable
// softplus / log-sigmoid forms, each with the derivative of exactly what it computes.
#pragma once

#include <cmath>

namespace exmc::transform {

// Inputs to exp() in a log-type transform are clamped to [-log_clamp_floor, log_clamp_bound]
// so the constrained value and its Jacobian stay finite in the precision used (Exmc's guard).
// The floor is far lower than the bound in double: exp(-700) ~ 1e-304 is still a normal double
// whose log is -700 to rounding, and priors such as gamma(0.01, 1) put real mass far below the
// old floor exp(-200) (13.6% of it there).
template <class T> constexpr T log_clamp_bound() { return T(200); }
template <> constexpr float log_clamp_bound<float>() { return 20.0f; }
template <class T> constexpr T log_clamp_floor() { return T(700); }
template <> constexpr float log_clamp_floor<float>() { return 20.0f; }

template <class T> inline T clamp_log(T x) {
  const T b = log_clamp_bound<T>(), f = log_clamp_floor<T>();
  return x < -f ? -f : (x > b ? b : x);
}
// d clamp_log(x)/dx: 1 inside the clamp (bounds included), 0 outside.
template <class T> inline T clamp_log_deriv(T x) {
  return (x >= -log_clamp_floor<T>() && x <= log_clamp_bound<T>()) ? T(1) : T(0);
}
// The log-Jacobian of a log-type coordinate: x itself below the floor (only the upper bound
// clamps it). Below the floor the constrained value stays exp(-floor), so the rest of the
// density is constant there; a clamped Jacobian would make it flat, an improper tail the sampler
// drifts along for ever (gamma(0.01, 1) failed with "non-finite variance ... improper"), while
// exp(x) makes the tail decay and the posterior proper. In float the Jacobian is clamped as
// exp's input is: a posterior with real mass below exp(-20) (float's floor) cannot be computed
// there, and a flat tail fails loudly ("... improper") where a decaying one would give a wrong
// posterior without a word.
template <class T> constexpr bool log_jacobian_clamped() { return false; }
template <> constexpr bool log_jacobian_clamped<float>() { return true; }
template <class T> inline T clamp_log_jacobian(T x) {
  if constexpr (log_jacobian_clamped<T>()) return clamp_log(x);
  const T b = log_clamp_bound<T>();
  return x > b ? b : x;
}
template <class T> inline T clamp_log_jacobian_deriv(T x) {
  if constexpr (log_jacobian_clamped<T>()) return clamp_log_deriv(x);
  return x <= log_clamp_bound<T>() ? T(1) : T(0);
}

// Scale arguments (widths, multipliers) are floored so a log or a division never sees 0.
template <class T> constexpr T scale_floor() { return T(1e-30); }
template <class T> inline T floor_scale(T s) { return s < scale_floor<T>() ? scale_floor<T>() : s; }
template <class T> inline T floor_scale_deriv(T s) { return s < scale_floor<T>() ? T(0) : T(1); }

// log(1 + exp(x)) without overflow for large x or loss for very negative x.
template <class T> inline T log1p_exp(T x) {
  return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
// 1 / (1 + exp(-x)) without overflow in either tail.
template <class T> inline T inv_logit(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}
template <class T> inline T log_inv_logit(T x) { return -log1p_exp(-x); }
template <class T> inline T logit(T p) { return std::log(p / (T(1) - p)); }
// log(1 - tanh(x)^2) = 2 log sech(x), accurate where tanh(x) rounds to +-1.
template <class T> inline T log1m_tanh_sq(T x) {
  const T a = std::fabs(x);
  return T(2) * (T(0.693147180559945309417232121458176568) - a - std::log1p(std::exp(T(-2) * a)));
}

}  // namespace exmc::transform
