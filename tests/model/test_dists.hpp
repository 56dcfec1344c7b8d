// Small distributions for the model-layer tests, written here so these tests do not depend
// on the distribution library: normal, half_normal, dirichlet, poisson and a flat density.
#pragma once

#include <cmath>
#include <limits>
#include <string>

#include "exmc/core/math.hpp"
#include "exmc/dist/kernel.hpp"

namespace exmc::model::testing {

constexpr double kHalfLog2Pi = 0.91893853320467274178;

inline size_t bsize(const dist::Arg<double>* a, int k) { return a[k].size; }

template <class T> double normal_lpdf(const dist::Arg<T>* a, bool propto) {
  size_t n = 1;
  for (int k = 0; k < 3; ++k) n = a[k].size > n ? a[k].size : n;
  auto at = [&](int k, size_t i) { return a[k].val[a[k].size == 1 ? 0 : i]; };
  for (size_t i = 0; i < a[2].size; ++i)
    if (!(a[2].val[i] > T(0))) return -std::numeric_limits<double>::infinity();
  double lp = 0;
  for (size_t i = 0; i < n; ++i) {
    const T s = at(2, i), z = (at(0, i) - at(1, i)) / s;
    lp += -0.5 * double(z) * z;
    if (!propto || a[2].is_param) lp -= std::log(double(s));
    if (!propto) lp -= kHalfLog2Pi;
    if (a[0].grad) a[0].grad[a[0].size == 1 ? 0 : i] += -z / s;
    if (a[1].grad) a[1].grad[a[1].size == 1 ? 0 : i] += z / s;
    if (a[2].grad) a[2].grad[a[2].size == 1 ? 0 : i] += (z * z - T(1)) / s;
  }
  return lp;
}

inline std::string positive_arg(const dist::Arg<double>* a, int k, const char* name) {
  if (a[k].is_param) return "";
  for (size_t i = 0; i < a[k].size; ++i)
    if (!(a[k].val[i] > 0))
      return std::string(name) + " must be positive, found " + std::to_string(a[k].val[i]) + " at index " +
             std::to_string(i);
  return "";
}

inline std::string normal_validate(const dist::Arg<double>* a) { return positive_arg(a, 2, "sigma"); }

// half_normal(y | sigma)
template <class T> double half_normal_lpdf(const dist::Arg<T>* a, bool propto) {
  size_t n = a[0].size > a[1].size ? a[0].size : a[1].size;
  auto at = [&](int k, size_t i) { return a[k].val[a[k].size == 1 ? 0 : i]; };
  double lp = 0;
  for (size_t i = 0; i < n; ++i) {
    const T y = at(0, i), s = at(1, i);
    if (y < T(0) || !(s > T(0))) return -std::numeric_limits<double>::infinity();
    const T z = y / s;
    lp += -0.5 * double(z) * z;
    if (!propto || a[1].is_param) lp -= std::log(double(s));
    if (!propto) lp += std::log(2.0) - kHalfLog2Pi;
    if (a[0].grad) a[0].grad[a[0].size == 1 ? 0 : i] += -z / s;
    if (a[1].grad) a[1].grad[a[1].size == 1 ? 0 : i] += (z * z - T(1)) / s;
  }
  return lp;
}
inline std::string half_normal_validate(const dist::Arg<double>* a) { return positive_arg(a, 1, "sigma"); }

// dirichlet(theta | alpha), alpha data of size 1 or K.
template <class T> double dirichlet_lpdf(const dist::Arg<T>* a, bool propto) {
  const size_t K = a[0].size;
  double lp = 0, asum = 0;
  for (size_t i = 0; i < K; ++i) {
    const T al = a[1].val[a[1].size == 1 ? 0 : i];
    asum += al;
    lp += (double(al) - 1) * std::log(double(a[0].val[i]));
    if (!propto) lp -= math::lgamma(double(al));
    if (a[0].grad) a[0].grad[i] += (al - T(1)) / a[0].val[i];
  }
  if (!propto) lp += math::lgamma(asum);
  return lp;
}

template <class T> double poisson_lpdf(const dist::Arg<T>* a, bool) {
  double lp = 0;
  for (size_t i = 0; i < a[0].size; ++i) {
    const T lam = a[1].val[a[1].size == 1 ? 0 : i];
    lp += a[0].val[i] * std::log(double(lam)) - lam - math::lgamma(double(a[0].val[i]) + 1);
    if (a[1].grad) a[1].grad[a[1].size == 1 ? 0 : i] += a[0].val[i] / lam - T(1);
  }
  return lp;
}

template <class T> double bernoulli_logit_lpdf(const dist::Arg<T>* a, bool) {
  double lp = 0;
  const size_t n = a[0].size > a[1].size ? a[0].size : a[1].size;
  for (size_t i = 0; i < n; ++i) {
    const double e = a[1].val[a[1].size == 1 ? 0 : i], y = a[0].val[a[0].size == 1 ? 0 : i];
    lp += y * e - (e > 0 ? e + std::log1p(std::exp(-e)) : std::log1p(std::exp(e)));
    if (a[1].grad) a[1].grad[a[1].size == 1 ? 0 : i] += T(y - 1 / (1 + std::exp(-e)));
  }
  return lp;
}

// flat: log density 0 on any shape (a test device for transforms' Jacobians).
template <class T> double flat_lpdf(const dist::Arg<T>*, bool) { return 0.0; }

inline const dist::DistInfo& normal() {
  static const dist::DistInfo d{"normal", {"y", "mu", "sigma"}, dist::Support::kReal, false, false,
                                normal_lpdf<double>, normal_lpdf<float>, nullptr, normal_validate};
  return d;
}
inline const dist::DistInfo& half_normal() {
  static const dist::DistInfo d{"half_normal", {"y", "sigma"}, dist::Support::kPositive, false, false,
                                half_normal_lpdf<double>, half_normal_lpdf<float>, nullptr, half_normal_validate};
  return d;
}
inline const dist::DistInfo& dirichlet() {
  static const dist::DistInfo d{"dirichlet", {"theta", "alpha"}, dist::Support::kSimplex, false, true,
                                dirichlet_lpdf<double>, dirichlet_lpdf<float>, nullptr, nullptr};
  return d;
}
inline const dist::DistInfo& poisson() {
  static const dist::DistInfo d{"poisson", {"n", "lambda"}, dist::Support::kNonNegInteger, true, false,
                                poisson_lpdf<double>, poisson_lpdf<float>, nullptr, nullptr};
  return d;
}
inline const dist::DistInfo& bernoulli_logit() {
  static const dist::DistInfo d{"bernoulli_logit", {"n", "alpha"}, dist::Support::kBinary, true, false,
                                bernoulli_logit_lpdf<double>, bernoulli_logit_lpdf<float>, nullptr, nullptr};
  return d;
}
inline const dist::DistInfo& flat() {
  static const dist::DistInfo d{"flat", {"y"}, dist::Support::kReal, false, true, flat_lpdf<double>,
                                flat_lpdf<float>, nullptr, nullptr};
  return d;
}

}  // namespace exmc::model::testing
