#include "exmc/smc/tempering.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace exmc::smc {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double max_finite(const std::vector<double>& lr) {
  double m = kNegInf;
  for (double v : lr)
    if (std::isfinite(v) && v > m) m = v;
  return m;
}

}  // namespace

double tempered_ess(const std::vector<double>& lr, double delta) {
  const double m = max_finite(lr);
  if (m == kNegInf) return 0;
  // Shifting by the maximum leaves the ratio unchanged and keeps every exp() <= 1.
  double s = 0, s2 = 0;
  for (double v : lr) {
    if (!std::isfinite(v)) continue;
    const double w = std::exp(delta * (v - m));
    s += w;
    s2 += w * w;
  }
  return s2 > 0 ? s * s / s2 : 0;
}

double log_mean_weight(const std::vector<double>& lr, double delta) {
  const double m = max_finite(lr);
  if (m == kNegInf || lr.empty()) return kNegInf;
  double s = 0;
  for (double v : lr)
    if (std::isfinite(v)) s += std::exp(delta * (v - m));
  return delta * m + std::log(s) - std::log(double(lr.size()));
}

double next_increment(const std::vector<double>& lr, double max_delta, double target_ess) {
  if (!(max_delta > 0)) throw std::invalid_argument("next_increment: max_delta must be positive");
  if (tempered_ess(lr, max_delta) >= target_ess) return max_delta;
  // ESS(0+) is the number of finite particles; callers aim below it, so a root exists in
  // (0, max_delta). Keep lo on the side where the ESS is still at least the target.
  double lo = 0, hi = max_delta;
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (tempered_ess(lr, mid) >= target_ess)
      lo = mid;
    else
      hi = mid;
  }
  // lo = 0 only when even the smallest increment tried loses the target (a target above the
  // finite count); move on by the smallest increment rather than stalling.
  return lo > 0 ? lo : hi;
}

std::vector<size_t> systematic_resample(const std::vector<double>& log_w, double u) {
  const size_t n = log_w.size();
  std::vector<size_t> out;
  if (n == 0) return out;
  const double m = max_finite(log_w);
  if (m == kNegInf) throw std::invalid_argument("systematic_resample: no weight is positive");
  std::vector<double> w(n);
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    w[i] = std::isfinite(log_w[i]) ? std::exp(log_w[i] - m) : 0.0;
    total += w[i];
  }
  out.reserve(n);
  // Pointer k sits at (u + k) / n on the cumulative normalised weights.
  double cum = 0;
  size_t i = 0;
  for (size_t k = 0; k < n; ++k) {
    const double pos = (u + double(k)) / double(n) * total;
    while (i + 1 < n && cum + w[i] <= pos) cum += w[i++];
    // Rounding may leave i on a zero-weight tail particle: step back to a positive one.
    size_t j = i;
    while (w[j] == 0 && j > 0) --j;
    out.push_back(w[j] > 0 ? j : i);
  }
  return out;
}

}  // namespace exmc::smc
