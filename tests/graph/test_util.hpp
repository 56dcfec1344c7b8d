// Shared helpers for graph tests: a tiny normal kernel (so tests need no exmc_dist) and a
// finite-difference gradient checker.
#pragma once

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "exmc/dist/kernel.hpp"
#include "exmc/graph/compile.hpp"
#include "exmc/graph/graph.hpp"

namespace exmc::graph::testing {

// normal(y | mu, sigma), broadcasting size-1 arguments; partials added to Arg::grad.
template <class T>
double test_normal_lpdf(const dist::Arg<T>* a, bool propto) {
  size_t n = 1;
  for (int k = 0; k < 3; ++k) n = std::max(n, a[k].size);
  for (size_t i = 0; i < a[2].size; ++i)
    if (!(a[2].val[i] > T(0))) return -INFINITY;
  const bool any_param = a[0].is_param || a[1].is_param || a[2].is_param;
  if (propto && !any_param) return 0.0;
  if (a[2].size == 1) {  // scalar sigma: one log, sums for scalar arguments (fast timing runs)
    const T inv = T(1) / a[2].val[0];
    const size_t sy = a[0].size == 1 ? 0 : 1, sm = a[1].size == 1 ? 0 : 1;
    T* gy = sy ? a[0].grad : nullptr;
    T* gm = sm ? a[1].grad : nullptr;
    double ss = 0, sz = 0;
    for (size_t i = 0; i < n; ++i) {
      const T z = (a[0].val[i * sy] - a[1].val[i * sm]) * inv;
      ss += double(z) * double(z);
      sz += double(z);
      if (gy) gy[i] -= z * inv;
      if (gm) gm[i] += z * inv;
    }
    if (!sy && a[0].grad) a[0].grad[0] -= T(sz) * inv;
    if (!sm && a[1].grad) a[1].grad[0] += T(sz) * inv;
    double lp = -0.5 * ss;
    if (!propto || a[2].is_param) lp -= double(n) * std::log(double(a[2].val[0]));
    if (!propto) lp -= 0.91893853320467274178 * double(n);
    if (a[2].grad) a[2].grad[0] += T((ss - double(n)) * double(inv));
    return lp;
  }
  double lp = 0;
  for (size_t i = 0; i < n; ++i) {
    const T y = a[0].val[a[0].size == 1 ? 0 : i];
    const T mu = a[1].val[a[1].size == 1 ? 0 : i];
    const T s = a[2].val[a[2].size == 1 ? 0 : i];
    const T z = (y - mu) / s;
    lp -= 0.5 * double(z) * double(z);
    if (!propto || a[2].is_param) lp -= std::log(double(s));
    if (!propto) lp -= 0.91893853320467274178;
    if (a[0].grad) a[0].grad[a[0].size == 1 ? 0 : i] -= z / s;
    if (a[1].grad) a[1].grad[a[1].size == 1 ? 0 : i] += z / s;
    if (a[2].grad) a[2].grad[a[2].size == 1 ? 0 : i] += (z * z - T(1)) / s;
  }
  return lp;
}

inline const dist::DistInfo& test_normal() {
  static const dist::DistInfo info = [] {
    dist::DistInfo d;
    d.name = "test_normal";
    d.arg_names = {"y", "mu", "sigma"};
    d.lpdf_f64 = &test_normal_lpdf<double>;
    d.lpdf_f32 = &test_normal_lpdf<float>;
    return d;
  }();
  return info;
}

// Fourth-order central difference of the density's value along each coordinate.
inline std::vector<double> fd_gradient(const LogDensity& ld, std::vector<double> x, double h = 1e-3) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    const double hi = h * std::max(1.0, std::fabs(x0));
    auto f = [&](double d) { x[i] = x0 + d; double v = ld.logp(x.data()); x[i] = x0; return v; };
    g[i] = (8.0 * (f(hi) - f(-hi)) - (f(2 * hi) - f(-2 * hi))) / (12.0 * hi);
  }
  return g;
}

// Relative error with the denominator floored at 1 (absolute error for small gradients).
inline double grad_err(double a, double b) { return std::fabs(a - b) / std::max(1.0, std::fabs(b)); }

}  // namespace exmc::graph::testing
