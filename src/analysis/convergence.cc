// Rank-normalised R-hat, ESS and MCSE following r-cran-posterior 1.4.0 step by step.
#include "exmc/analysis/convergence.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numeric>
#include <utility>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/beta.hpp>

#include "autocovariance.hpp"
#include "exmc/core/math.hpp"

namespace exmc::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Matrix = std::vector<double>;  // chain-major, like ChainView

// posterior's should_return_NA: any non-finite value, or max - min below machine epsilon.
bool should_return_na(const double* x, size_t n) {
  if (n == 0) return true;
  double lo = x[0], hi = x[0];
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return true;
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  return std::abs(hi - lo) < std::numeric_limits<double>::epsilon();
}

// Splits every chain in two halves; an odd-length chain loses its middle draw.
Matrix split_chains(ChainView x, size_t* half_out) {
  if (x.num_draws == 1) {
    *half_out = 1;
    return Matrix(x.x, x.x + x.size());
  }
  const size_t half = x.num_draws / 2;
  const size_t second = x.num_draws - half;
  Matrix out;
  out.reserve(2 * half * x.num_chains);
  for (size_t c = 0; c < x.num_chains; ++c) {
    const double* ch = x.x + c * x.num_draws;
    out.insert(out.end(), ch, ch + half);
    out.insert(out.end(), ch + second, ch + x.num_draws);
  }
  *half_out = half;
  return out;
}

ChainView view(const Matrix& m, size_t draws) { return {m.data(), draws, m.size() / draws}; }

// Average ranks for ties (R's rank(ties.method = "average")), 1-based. Callers pass finite
// values. Sorted as (value, index) pairs, not indices compared through x: the indirect stable
// sort was a seventh of `exmc summary`'s time; tied values get one average whatever their order.
std::vector<double> ranks(const double* x, size_t n) {
  std::vector<std::pair<double, size_t>> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = {x[i], i};
  std::sort(v.begin(), v.end());
  std::vector<double> r(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && v[j + 1].first == v[i].first) ++j;
    const double avg = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;
    for (size_t k = i; k <= j; ++k) r[v[k].second] = avg;
    i = j + 1;
  }
  return r;
}

double qnorm(double p) {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  return boost::math::quantile(boost::math::normal_distribution<double, math::policy>(), p);
}

// Blom-offset normal scores of the pooled ranks. Ranks are multiples of 1/2 (averaged ties),
// so the scores for a given draw count are cached per thread: the normal quantile dominated
// the summary's run time when evaluated afresh for every variable.
Matrix z_scale(const Matrix& m) {
  if (should_return_na(m.data(), m.size())) return m;  // callers return NaN anyway
  const std::vector<double> r = ranks(m.data(), m.size());
  const double c = 3.0 / 8.0, s = static_cast<double>(m.size());
  thread_local size_t cached_size = 0;
  thread_local std::vector<double> cache;  // index 2r - 2, NaN until computed
  if (cached_size != m.size()) {
    cached_size = m.size();
    cache.assign(2 * m.size() - 1, kNaN);
  }
  Matrix z(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    double& slot = cache[static_cast<size_t>(2 * r[i]) - 2];
    if (std::isnan(slot)) slot = qnorm((r[i] - c) / (s - 2 * c + 1));
    z[i] = slot;
  }
  return z;
}

// R's var(): sample variance, two-pass.
double var(const double* x, size_t n) {
  if (n < 2) return kNaN;
  const double m = mean(x, n);
  long double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += (static_cast<long double>(x[i]) - m) * (x[i] - m);
  return static_cast<double>(ss / static_cast<long double>(n - 1));
}

double rhat_matrix(ChainView x) {
  if (should_return_na(x.x, x.size())) return kNaN;
  const size_t n = x.num_draws, m = x.num_chains;
  std::vector<double> cmean(m), cvar(m);
  for (size_t c = 0; c < m; ++c) {
    cmean[c] = mean(x.x + c * n, n);
    cvar[c] = var(x.x + c * n, n);
  }
  const double var_between = static_cast<double>(n) * var(cmean.data(), m);
  const double var_within = mean(cvar.data(), m);
  const double dn = static_cast<double>(n);
  return std::sqrt((var_between / var_within + dn - 1) / dn);
}

double ess_split(ChainView x) {
  size_t half;
  const Matrix s = split_chains(x, &half);
  return detail::ess_raw(view(s, half));
}

// |x - median(x)|; `med` when the caller has the median already (a summary row).
Matrix fold(ChainView x, const double* known_median = nullptr) {
  const double med = known_median ? *known_median : median(x.x, x.size());
  Matrix f(x.size());
  for (size_t i = 0; i < x.size(); ++i) f[i] = std::abs(x.x[i] - med);
  return f;
}

double rhat_ranked(ChainView x) {
  size_t half;
  const Matrix s = split_chains(x, &half);
  const Matrix z = z_scale(s);
  return rhat_matrix(view(z, half));
}

}  // namespace

double mean(const double* x, size_t n) {
  // R's mean: long double sum, then one refinement pass.
  long double s = 0;
  for (size_t i = 0; i < n; ++i) s += x[i];
  long double m = s / static_cast<long double>(n);
  long double t = 0;
  for (size_t i = 0; i < n; ++i) t += x[i] - m;
  m += t / static_cast<long double>(n);
  return static_cast<double>(m);
}

double sd(const double* x, size_t n) { return std::sqrt(var(x, n)); }

double quantile(const double* x, size_t n, double prob) {
  if (n == 0) return kNaN;
  for (size_t i = 0; i < n; ++i)
    if (std::isnan(x[i])) return kNaN;
  std::vector<double> s(x, x + n);
  const double index = static_cast<double>(n - 1) * prob;  // 0-based
  const size_t lo = static_cast<size_t>(std::floor(index));
  const size_t hi = static_cast<size_t>(std::ceil(index));
  std::nth_element(s.begin(), s.begin() + static_cast<long>(lo), s.end());
  double q = s[lo];
  // The next order statistic is the smallest value above position lo.
  const double next = hi > lo ? *std::min_element(s.begin() + static_cast<long>(lo) + 1, s.end()) : q;
  const double h = index - static_cast<double>(lo);
  if (index > static_cast<double>(lo) && next != q) q = (1 - h) * q + h * next;
  return q;
}

double median(const double* x, size_t n) {
  if (n == 0) return kNaN;
  for (size_t i = 0; i < n; ++i)
    if (std::isnan(x[i])) return kNaN;  // R: NA; also keeps NaN out of nth_element's ordering
  std::vector<double> s(x, x + n);
  std::nth_element(s.begin(), s.begin() + static_cast<long>(n / 2), s.end());
  const double upper = s[n / 2];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(s.begin(), s.begin() + static_cast<long>(n / 2));
  return static_cast<double>((static_cast<long double>(lower) + upper) / 2);
}

double mad(const double* x, size_t n) { return detail::mad_about(x, n, median(x, n)); }

double detail::mad_about(const double* x, size_t n, double med) {
  std::vector<double> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = std::abs(x[i] - med);
  return 1.4826 * median(d.data(), n);
}

namespace detail {

double sample_variance(const double* x, size_t n) { return var(x, n); }

double ess_raw(ChainView x, bool loo_scaling) {
  const size_t n = x.num_draws, m = x.num_chains;
  if (!loo_scaling && (n < 3 || should_return_na(x.x, x.size()))) return kNaN;
  MeanAutocovariance acm(x, loo_scaling);
  std::vector<double> cmean(m);
  for (size_t c = 0; c < m; ++c) cmean[c] = mean(x.x + c * n, n);
  const double dn = static_cast<double>(n);
  const double mean_var = acm(0) * dn / (dn - 1);
  double var_plus = mean_var * (dn - 1) / dn;
  if (m > 1) var_plus += var(cmean.data(), m);

  std::vector<double> rho(n, 0.0);
  long t = 0;
  double rho_even = 1;
  rho[0] = rho_even;
  double rho_odd = 1 - (mean_var - acm(1)) / var_plus;
  rho[1] = rho_odd;
  const long ln = static_cast<long>(n);
  while (t < ln - 5 && !std::isnan(rho_even + rho_odd) && rho_even + rho_odd > 0) {
    t += 2;
    rho_even = 1 - (mean_var - acm(size_t(t))) / var_plus;
    rho_odd = 1 - (mean_var - acm(size_t(t) + 1)) / var_plus;
    if (rho_even + rho_odd >= 0) {
      rho[t] = rho_even;
      rho[t + 1] = rho_odd;
    }
  }
  const long max_t = t;
  if (rho_even > 0) rho[max_t] = rho_even;
  // Geyer's initial monotone sequence.
  t = 0;
  while (t <= max_t - 4) {
    t += 2;
    if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
      rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
      rho[t + 1] = rho[t];
    }
  }
  const double total = static_cast<double>(n * m);
  // R's sum(rho[1:max_t]) with max_t == 0 is 1:0, which picks rho[1] (the lag-0 value).
  double sum = 0;
  if (max_t == 0) {
    sum = rho[0];
  } else {
    for (long i = 0; i < max_t; ++i) sum += rho[i];
  }
  double tau = -1 + 2 * sum + rho[max_t];
  tau = std::max(tau, 1 / std::log10(total));
  return total / tau;
}

}  // namespace detail

namespace {

// x's split chains, rank-normalised (bulk R-hat and bulk ESS both start from them).
Matrix ranked_split(ChainView x, size_t* half) { return z_scale(split_chains(x, half)); }

// The larger of the bulk R-hat (from z = ranked_split(x)) and the folded draws' (tail).
double rhat_given_ranked(ChainView x, const Matrix& z, size_t half, const double* known_median = nullptr) {
  const double bulk = rhat_matrix(view(z, half));
  const Matrix f = fold(x, known_median);
  const double tail = rhat_ranked(view(f, x.num_draws));
  if (std::isnan(bulk) || std::isnan(tail)) return kNaN;
  return std::max(bulk, tail);
}

}  // namespace

double rhat(ChainView x) {
  size_t half;
  const Matrix z = ranked_split(x, &half);
  return rhat_given_ranked(x, z, half);
}

double rhat_basic(ChainView x) {
  size_t half;
  const Matrix s = split_chains(x, &half);
  return rhat_matrix(view(s, half));
}

double ess_bulk(ChainView x) {
  size_t half;
  const Matrix z = ranked_split(x, &half);
  return detail::ess_raw(view(z, half));
}

void detail::rhat_and_ess_bulk(ChainView x, double* rhat, double* ess_bulk, const double* median_of_x) {
  size_t half;
  const Matrix z = ranked_split(x, &half);
  *rhat = rhat_given_ranked(x, z, half, median_of_x);
  *ess_bulk = detail::ess_raw(view(z, half));
}

double ess_basic(ChainView x) { return ess_split(x); }
double ess_mean(ChainView x) { return ess_split(x); }

double ess_sd(ChainView x) {
  const double m = mean(x.x, x.size());
  Matrix d(x.size());
  for (size_t i = 0; i < x.size(); ++i) d[i] = std::abs(x.x[i] - m);
  return ess_split(view(d, x.num_draws));
}

double ess_quantile(ChainView x, double prob) {
  if (should_return_na(x.x, x.size())) return kNaN;
  const size_t len = x.size();
  if (prob == 1) prob = (static_cast<double>(len) - 0.5) / static_cast<double>(len);
  return detail::ess_below(x, quantile(x.x, len, prob));
}

double detail::ess_below(ChainView x, double q) {
  if (should_return_na(x.x, x.size())) return kNaN;
  Matrix ind(x.size());
  for (size_t i = 0; i < x.size(); ++i) ind[i] = x.x[i] <= q ? 1.0 : 0.0;
  return ess_split(view(ind, x.num_draws));
}

double detail::quantile_sorted(const std::vector<double>& s, double prob) {
  // quantile()'s arithmetic, its nth_element and min_element read off the sorted draws.
  const size_t n = s.size();
  if (n == 0) return kNaN;
  const double index = static_cast<double>(n - 1) * prob;
  const size_t lo = static_cast<size_t>(std::floor(index));
  const size_t hi = static_cast<size_t>(std::ceil(index));
  double q = s[lo];
  const double next = hi > lo ? s[lo + 1] : q;
  const double h = index - static_cast<double>(lo);
  if (index > static_cast<double>(lo) && next != q) q = (1 - h) * q + h * next;
  return q;
}

double detail::median_sorted(const std::vector<double>& s) {
  const size_t n = s.size();
  if (n == 0) return kNaN;
  if (n % 2 == 1) return s[n / 2];
  return static_cast<double>((static_cast<long double>(s[n / 2 - 1]) + s[n / 2]) / 2);
}

double ess_median(ChainView x) { return ess_quantile(x, 0.5); }

double ess_tail(ChainView x) {
  const double a = ess_quantile(x, 0.05), b = ess_quantile(x, 0.95);
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return std::min(a, b);
}

double mcse_mean(ChainView x) { return sd(x.x, x.size()) / std::sqrt(ess_mean(x)); }

double mcse_sd(ChainView x) {
  const size_t n = x.size();
  const double m = mean(x.x, n);
  Matrix c2(n), c4(n);
  for (size_t i = 0; i < n; ++i) {
    const double c = x.x[i] - m;
    c2[i] = c * c;
    c4[i] = c2[i] * c2[i];
  }
  const double ess = ess_mean(view(c2, x.num_draws));
  const double evar = mean(c2.data(), n);
  const double varvar = (mean(c4.data(), n) - evar * evar) / ess;
  const double varsd = varvar / evar / 4;
  return std::sqrt(varsd);
}

double mcse_quantile(ChainView x, double prob) { return mcse_quantile(x, prob, ess_quantile(x, prob)); }

double mcse_quantile(ChainView x, double prob, double ess) {
  if (std::isnan(ess)) return kNaN;
  std::vector<double> s(x.x, x.x + x.size());
  std::sort(s.begin(), s.end());
  return detail::mcse_quantile_sorted(s, prob, ess);
}

double detail::mcse_quantile_sorted(const std::vector<double>& s, double prob, double ess) {
  if (std::isnan(ess)) return kNaN;
  const double a1 = boost::math::ibeta_inv(ess * prob + 1, ess * (1 - prob) + 1, 0.1586553,
                                           math::policy());
  const double a2 = boost::math::ibeta_inv(ess * prob + 1, ess * (1 - prob) + 1, 0.8413447,
                                           math::policy());
  const double dS = static_cast<double>(s.size());
  const size_t i1 = static_cast<size_t>(std::max(std::floor(a1 * dS), 1.0));
  const size_t i2 = static_cast<size_t>(std::min(std::ceil(a2 * dS), dS));
  return (s[i2 - 1] - s[i1 - 1]) / 2;
}

double mcse_median(ChainView x) { return mcse_quantile(x, 0.5); }

}  // namespace exmc::analysis
