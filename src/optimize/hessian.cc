// Hessian by a fourth-order central difference of the gradient, one coordinate at a time.
#include "exmc/optimize/hessian.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <stdexcept>
#include <string>

#include "hessian_impl.hpp"

namespace exmc::optimize {

namespace internal {

namespace {

bool gradient_at(const LogDensity& ld, const double* x, double* g, double* lp, uint64_t* evals) {
  ++*evals;
  double v = 0;
  try {
    v = ld.logp_grad(x, g);
  } catch (...) {  // a throwing model means "no value here", as everywhere else
    return false;
  }
  if (!std::isfinite(v)) return false;
  for (size_t i = 0; i < ld.dim(); ++i)
    if (!std::isfinite(g[i])) return false;
  if (lp) *lp = v;
  return true;
}

}  // namespace

bool fd_hessian(const LogDensity& ld, const double* x, std::vector<double>& h, double* logp,
                uint64_t* evals, size_t* bad_coord) {
  const size_t d = ld.dim();
  h.assign(d * d, 0.0);
  std::vector<double> xp(x, x + d), g(d);
  std::vector<std::vector<double>> gk(4, std::vector<double>(d));
  *bad_coord = d;
  if (!gradient_at(ld, x, g.data(), logp, evals)) return false;
  const double base = std::cbrt(DBL_EPSILON);
  // Weights of f'(0) ~ (f(-2h) - 8 f(-h) + 8 f(h) - f(2h)) / 12h: error O(h^4), so rounding
  // (about eps |g| / h) dominates and the cube-root step keeps both small.
  const double offsets[4] = {-2, -1, 1, 2};
  const double weights[4] = {1, -8, 8, -1};
  for (size_t i = 0; i < d; ++i) {
    // Use the step actually representable at x_i so the divisor matches the displacement.
    const volatile double up = x[i] + base * std::max(1.0, std::fabs(x[i]));
    const double step = up - x[i];
    for (int k = 0; k < 4; ++k) {
      xp[i] = x[i] + offsets[k] * step;
      if (!gradient_at(ld, xp.data(), gk[k].data(), nullptr, evals)) {
        *bad_coord = i;
        return false;
      }
    }
    xp[i] = x[i];
    for (size_t j = 0; j < d; ++j) {
      double s = 0;
      for (int k = 0; k < 4; ++k) s += weights[k] * gk[k][j];
      h[i * d + j] = s / (12 * step);
    }
  }
  for (size_t i = 0; i < d; ++i)
    for (size_t j = i + 1; j < d; ++j) {
      const double m = 0.5 * (h[i * d + j] + h[j * d + i]);
      h[i * d + j] = h[j * d + i] = m;
    }
  return true;
}

}  // namespace internal

std::vector<double> hessian(const LogDensity& ld, const double* x, double* logp_out, uint64_t* grad_evals) {
  std::vector<double> h;
  uint64_t evals = 0;
  size_t bad = 0;
  double lp = 0;
  const bool ok = internal::fd_hessian(ld, x, h, &lp, &evals, &bad);
  if (grad_evals) *grad_evals = evals;
  if (!ok) {
    const size_t d = ld.dim();
    if (bad == d)
      throw std::runtime_error("the log density or its gradient is not finite at the point");
    std::string who = "coordinate " + std::to_string(bad + 1);
    const std::vector<std::string> names = ld.unconstrained_names();
    if (names.size() == d) who += " ('" + names[bad] + "')";
    throw std::runtime_error("the log density or its gradient is not finite near the point when " +
                             who + " is displaced by a finite-difference step");
  }
  if (logp_out) *logp_out = lp;
  return h;
}

}  // namespace exmc::optimize
