// Samplers: Marsaglia-Tsang gamma, Hormann's PTRS Poisson and BTRS binomial (transformed
// rejection with squeeze), Best-Fisher von Mises.
#include "samplers.hpp"

#include <cmath>
#include <limits>

#include "exmc/core/math.hpp"
#include "univariate.hpp"

namespace exmc::dist::detail {

double draw_gamma(Rng& r, double a) {
  if (a < 1.0) {
    // Boost the shape by one, then scale by U^(1/a) (computed in logs: tiny a underflows).
    const double g = draw_gamma(r, a + 1.0);
    return std::exp(std::log(g) + std::log(r.uniform()) / a);
  }
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = r.normal();
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = r.uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double draw_beta(Rng& r, double a, double b) {
  if (a < 1 && b < 1) {
    // Both gammas may underflow; work with logs of the gamma variates.
    const double lx = std::log(draw_gamma(r, a + 1)) + std::log(r.uniform()) / a;
    const double ly = std::log(draw_gamma(r, b + 1)) + std::log(r.uniform()) / b;
    const double m = std::max(lx, ly);
    const double ex = std::exp(lx - m), ey = std::exp(ly - m);
    return ex / (ex + ey);
  }
  const double x = draw_gamma(r, a), y = draw_gamma(r, b);
  return x / (x + y);
}

double draw_chi_square(Rng& r, double nu) { return 2.0 * draw_gamma(r, 0.5 * nu); }

double draw_student_t(Rng& r, double nu) {
  if (std::isinf(nu)) return r.normal();
  return r.normal() / std::sqrt(draw_chi_square(r, nu) / nu);
}

double draw_poisson(Rng& r, double lam) {
  if (lam <= 0) return 0;
  if (lam < 10) {
    const double e = std::exp(-lam);
    double k = 0, p = r.uniform();
    while (p > e) {
      p *= r.uniform();
      k += 1;
    }
    return k;
  }
  const double slam = std::sqrt(lam), loglam = std::log(lam);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = r.uniform() - 0.5, v = r.uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -lam + k * loglam - exmc::math::lgamma(k + 1))
      return k;
  }
}

double draw_binomial(Rng& r, double n, double p) {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - draw_binomial(r, n, 1 - p);
  if (n * p < 10) {
    // Inversion by sequential search from 0.
    const double q = 1 - p, s = p / q;
    double f = std::pow(q, n), u = r.uniform(), k = 0;
    while (u > f && k < n) {
      u -= f;
      f *= s * (n - k) / (k + 1);
      k += 1;
    }
    return k;
  }
  const double q = 1 - p, spq = std::sqrt(n * p * q);
  const double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p, c = n * p + 0.5;
  const double vr = 0.92 - 4.2 / b, alpha = (2.83 + 5.1 / b) * spq, lpq = std::log(p / q);
  const double m = std::floor((n + 1) * p);
  const double h = exmc::math::lgamma(m + 1) + exmc::math::lgamma(n - m + 1);
  for (;;) {
    const double u = r.uniform() - 0.5, v0 = r.uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + c);
    if (k < 0 || k > n) continue;
    if (us >= 0.07 && v0 <= vr) return k;
    const double v = std::log(v0 * alpha / (a / (us * us) + b));
    if (v <= h - exmc::math::lgamma(k + 1) - exmc::math::lgamma(n - k + 1) + (k - m) * lpq) return k;
  }
}

double draw_von_mises(Rng& r, double mu, double kappa) {
  double th;
  if (kappa < 1e-8) {
    th = kPi * (2 * r.uniform() - 1);
  } else {
    const double tau = 1 + std::sqrt(1 + 4 * kappa * kappa);
    const double rho = (tau - std::sqrt(2 * tau)) / (2 * kappa);
    const double rr = (1 + rho * rho) / (2 * rho);
    double f;
    for (;;) {
      const double z = std::cos(kPi * r.uniform());
      f = (1 + rr * z) / (rr + z);
      const double c = kappa * (rr - f), u2 = r.uniform();
      if (c * (2 - c) - u2 > 0 || std::log(c / u2) + 1 - c >= 0) break;
    }
    th = (r.uniform() < 0.5 ? -1 : 1) * std::acos(std::fmax(-1.0, std::fmin(1.0, f)));
  }
  double y = mu + th;
  y = std::remainder(y, 2 * kPi);  // wrap into [-pi, pi]
  return y;
}

}  // namespace exmc::dist::detail
