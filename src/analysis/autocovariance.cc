// Lagged sums by FFT and the lazily computed mean autocovariance (autocovariance.hpp).
#include "autocovariance.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

namespace exmc::analysis::detail {

namespace {

// In-place radix-2 FFT. Complex products are written out by hand: std::complex's operator*
// goes through the C99 NaN-recovery path (__muldc3), which made this the summary's hot spot.
void fft(std::vector<std::complex<double>>& a, bool inverse) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  // Twiddles from cos/sin of each angle (not by repeated multiplication) to keep rounding
  // small; cached per thread for the last size used.
  thread_local size_t tw_n = 0;
  thread_local std::vector<double> tw_re, tw_im;
  if (tw_n != n) {
    tw_n = n;
    tw_re.resize(n / 2);
    tw_im.resize(n / 2);
    for (size_t k = 0; k < n / 2; ++k) {
      const double ang = 2 * M_PI * static_cast<double>(k) / static_cast<double>(n);
      tw_re[k] = std::cos(ang);
      tw_im[k] = -std::sin(ang);
    }
  }
  const double sign = inverse ? -1 : 1;
  // Plain pointers: every access to a thread_local object goes through its TLS wrapper.
  const double* twr = tw_re.data();
  const double* twi = tw_im.data();
  std::complex<double>* d = a.data();
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t stride = n / len, half = len / 2;
    for (size_t i = 0; i < n; i += len) {
      for (size_t k = 0; k < half; ++k) {
        const double wr = twr[k * stride], wi = sign * twi[k * stride];
        const std::complex<double> b = d[i + k + half];
        const double vr = b.real() * wr - b.imag() * wi, vi = b.real() * wi + b.imag() * wr;
        const std::complex<double> u = d[i + k];
        d[i + k] = {u.real() + vr, u.imag() + vi};
        d[i + k + half] = {u.real() - vr, u.imag() - vi};
      }
    }
  }
}


// lagged_sums of two series of one length with one forward and one inverse transform instead of
// two each: x + i y is transformed; since both are real, X_k = (Z_k + conj Z_{p-k}) / 2 and
// Y_k = (Z_k - conj Z_{p-k}) / 2i, so |X_k|^2 + i |Y_k|^2 is formed from Z alone, and its inverse
// transform holds x's lagged sums in the real part and y's in the imaginary part (each is the
// transform of a real even sequence, hence real). The ESS of several chains takes them in pairs.
// The separation's rounding is relative to the larger series, which also dominates the sum over
// chains the ESS takes, so pairing costs no accuracy there. A constant or non-finite series is
// not paired (returns false): its sums stay exactly 0 alone, and a NaN cannot reach its partner.
bool lagged_sums_pair(const double* x, const double* y, size_t n, std::vector<double>& sx, std::vector<double>& sy) {
  const double mx = mean(x, n), my = mean(y, n);
  double ssx = 0, ssy = 0;
  for (size_t i = 0; i < n; ++i) {
    ssx += (x[i] - mx) * (x[i] - mx);
    ssy += (y[i] - my) * (y[i] - my);
  }
  if (!(ssx > 0) || !(ssy > 0) || !std::isfinite(ssx) || !std::isfinite(ssy)) return false;
  size_t p = 1;
  while (p < 2 * n) p <<= 1;
  std::vector<std::complex<double>> a(p);
  for (size_t i = 0; i < n; ++i) a[i] = {x[i] - mx, y[i] - my};
  fft(a, false);
  std::vector<std::complex<double>> b(p);
  for (size_t k = 0; k < p; ++k) {
    const std::complex<double> z = a[k], w = std::conj(a[(p - k) & (p - 1)]);
    const double xr = 0.5 * (z.real() + w.real()), xi = 0.5 * (z.imag() + w.imag());
    const double yr = 0.5 * (z.imag() - w.imag()), yi = -0.5 * (z.real() - w.real());
    b[k] = {xr * xr + xi * xi, yr * yr + yi * yi};
  }
  fft(b, true);
  sx.resize(n);
  sy.resize(n);
  const double dp = static_cast<double>(p);
  for (size_t t = 0; t < n; ++t) {
    sx[t] = b[t].real() / dp;
    sy[t] = b[t].imag() / dp;
  }
  return true;
}

// Smallest integer >= n whose only prime factors are 2, 3 and 5 (R's nextn, loo's
// fft_next_good_size which returns 2 for n <= 2).
size_t next_good_size(size_t n) {
  if (n <= 2) return 2;
  for (;; ++n) {
    size_t m = n;
    while (m % 2 == 0) m /= 2;
    while (m % 3 == 0) m /= 3;
    while (m % 5 == 0) m /= 5;
    if (m <= 1) return n;
  }
}

// autocovariance's scaling of one series' lagged sums s (of x).
void scale_autocovariance(const double* x, size_t n, std::vector<double>& s) {
  const double varx = sample_variance(x, n);
  if (!(varx != 0)) {
    s.assign(n, 0.0);
    return;
  }
  const double s0 = s[0];
  const double dn = static_cast<double>(n);
  for (double& v : s) v = v / s0 * varx * (dn - 1) / dn;
}

size_t padded_size(size_t n) {
  size_t p = 1;
  while (p < 2 * n) p <<= 1;
  return p;
}

// Sum_i a_i b_i in a fixed order: four running sums (the loop's adds overlap instead of
// waiting on one another), added pairwise at the end.
double dot(const double* a, const double* b, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

std::vector<double> lagged_sums(const double* x, size_t n) {
  const double m = mean(x, n);
  const size_t p = padded_size(n);
  std::vector<std::complex<double>> a(p);
  for (size_t i = 0; i < n; ++i) a[i] = x[i] - m;
  fft(a, false);
  for (auto& v : a) v = std::norm(v);
  fft(a, true);
  std::vector<double> s(n);
  for (size_t t = 0; t < n; ++t) s[t] = a[t].real() / static_cast<double>(p);
  return s;
}

std::vector<double> autocovariance(const double* x, size_t n) {
  std::vector<double> s = lagged_sums(x, n);
  scale_autocovariance(x, n, s);
  return s;
}

MeanAutocovariance::MeanAutocovariance(ChainView x, bool loo_scaling)
    : x_(x), loo_scaling_(loo_scaling), centred_(x.size()), factor_(x.num_chains) {
  const size_t n = x.num_draws;
  const double dn = static_cast<double>(n);
  for (size_t c = 0; c < x.num_chains; ++c) {
    const double* ch = x.x + c * n;
    double* y = centred_.data() + c * n;
    const double m = mean(ch, n);
    for (size_t i = 0; i < n; ++i) y[i] = ch[i] - m;
    if (loo_scaling) {
      factor_[c] = static_cast<double>(next_good_size(n)) / (dn * dn);
    } else {
      // scale_autocovariance's v / s0 * var * (n - 1) / n as one factor of v.
      const double varx = sample_variance(ch, n), s0 = dot(y, y, n);
      factor_[c] = varx != 0 ? varx * (dn - 1) / dn / s0 : 0;
    }
  }
  // Direct sums cost about n per lag and chain; the two FFTs about 10 p log2(p) per chain (a
  // pair of chains shares them): equal near 20 log2(p) lags.
  const size_t p = padded_size(n);
  lag_cap_ = 20 * static_cast<size_t>(std::log2(static_cast<double>(p)));
}

void MeanAutocovariance::extend(size_t lags) {
  const size_t n = x_.num_draws, m = x_.num_chains;
  lags = std::min(lags, n);
  if (lags > lag_cap_) return extend_by_fft();
  // Eight lags at a time: Geyer's sequence asks for two at a time.
  const size_t end = std::min(n, std::max(lags, acm_.size() + 8));
  for (size_t t = acm_.size(); t < end; ++t) {
    double sum = 0;
    for (size_t c = 0; c < m; ++c) {
      const double* y = centred_.data() + c * n;
      sum += dot(y, y + t, n - t) * factor_[c];
    }
    acm_.push_back(sum / static_cast<double>(m));
  }
}

// Every lag not yet computed, from the chains' FFTs (in pairs, as lagged_sums_pair explains).
void MeanAutocovariance::extend_by_fft() {
  const size_t n = x_.num_draws, m = x_.num_chains, from = acm_.size();
  std::vector<double> sum(n, 0.0), ac, ac_next;
  bool paired = false;
  for (size_t c = 0; c < m; ++c) {
    const double* ch = x_.x + c * n;
    if (c % 2 == 0) paired = c + 1 < m && lagged_sums_pair(ch, ch + n, n, ac, ac_next);
    if (c % 2 == 1 && paired) ac.swap(ac_next);
    else if (!paired) ac = lagged_sums(ch, n);
    if (loo_scaling_) {
      for (double& v : ac) v *= factor_[c];
    } else {
      scale_autocovariance(ch, n, ac);
    }
    for (size_t t = from; t < n; ++t) sum[t] += ac[t];
  }
  for (size_t t = from; t < n; ++t) acm_.push_back(sum[t] / static_cast<double>(m));
}

}  // namespace exmc::analysis::detail
