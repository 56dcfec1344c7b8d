#include "exmc/variational/internal/family.hpp"

#include <cmath>

namespace exmc::variational::internal {
namespace {

constexpr double kLogTwoPi = 1.8378770664093454836;

}  // namespace

NormalFamily::NormalFamily(bool fullrank, size_t dim, const double* mu)
    : fullrank_(fullrank), dim_(dim) {
  theta_.assign(fullrank ? dim + dim * (dim + 1) / 2 : 2 * dim, 0.0);
  for (size_t i = 0; i < dim; ++i) theta_[i] = mu[i];
  if (fullrank) {
    double* l = theta_.data() + dim;
    for (size_t j = 0; j < dim; ++j) {
      *l = 1.0;  // the column's first packed entry is its diagonal
      l += dim - j;
    }
  }
}

void NormalFamily::transform(const double* eta, double* z) const {
  const size_t d = dim_;
  const double* mu = theta_.data();
  if (!fullrank_) {
    const double* omega = mu + d;
    for (size_t i = 0; i < d; ++i) z[i] = mu[i] + std::exp(omega[i]) * eta[i];
    return;
  }
  for (size_t i = 0; i < d; ++i) z[i] = mu[i];
  const double* l = mu + d;
  for (size_t j = 0; j < d; ++j) {
    const double e = eta[j];
    for (size_t i = j; i < d; ++i) z[i] += *l++ * e;
  }
}

double NormalFamily::entropy() const {
  const size_t d = dim_;
  double h = 0.5 * double(d) * (1.0 + kLogTwoPi);
  const double* s = theta_.data() + d;
  if (!fullrank_) {
    for (size_t i = 0; i < d; ++i) h += s[i];
    return h;
  }
  for (size_t j = 0; j < d; ++j) {
    h += std::log(std::fabs(*s));
    s += d - j;
  }
  return h;
}

void NormalFamily::add_logp_grad(const double* g, const double* eta, double* out) const {
  const size_t d = dim_;
  for (size_t i = 0; i < d; ++i) out[i] += g[i];
  double* o = out + d;
  if (!fullrank_) {
    const double* omega = theta_.data() + d;
    // dz_i / d omega_i = exp(omega_i) eta_i
    for (size_t i = 0; i < d; ++i) o[i] += g[i] * eta[i] * std::exp(omega[i]);
    return;
  }
  // dz_i / d L(i,j) = eta_j
  for (size_t j = 0; j < d; ++j) {
    const double e = eta[j];
    for (size_t i = j; i < d; ++i) *o++ += g[i] * e;
  }
}

void NormalFamily::add_entropy_grad(double* out) const {
  const size_t d = dim_;
  double* o = out + d;
  if (!fullrank_) {
    for (size_t i = 0; i < d; ++i) o[i] += 1.0;
    return;
  }
  const double* l = theta_.data() + d;
  for (size_t j = 0; j < d; ++j) {
    *o += 1.0 / *l;
    o += d - j;
    l += d - j;
  }
}

bool NormalFamily::usable() const {
  for (double v : theta_)
    if (!std::isfinite(v)) return false;
  const double* s = theta_.data() + dim_;
  if (!fullrank_) {
    for (size_t i = 0; i < dim_; ++i) {
      const double sd = std::exp(s[i]);
      if (!(sd > 0) || !std::isfinite(sd)) return false;
    }
    return true;
  }
  for (size_t j = 0; j < dim_; ++j) {
    if (*s == 0) return false;
    s += dim_ - j;
  }
  return true;
}

Gaussian NormalFamily::to_gaussian() const {
  const size_t d = dim_;
  std::vector<double> mean(theta_.begin(), theta_.begin() + std::ptrdiff_t(d));
  const double* s = theta_.data() + d;
  if (!fullrank_) {
    std::vector<double> sd(d);
    for (size_t i = 0; i < d; ++i) sd[i] = std::exp(s[i]);
    return Gaussian::diagonal(std::move(mean), std::move(sd));
  }
  std::vector<double> chol(d * d, 0.0);  // column-major
  for (size_t j = 0; j < d; ++j) {
    // Flipping a whole column keeps L L' and makes the diagonal positive, as Gaussian needs.
    const double sign = *s < 0 ? -1.0 : 1.0;
    for (size_t i = j; i < d; ++i) chol[j * d + i] = sign * *s++;
  }
  return Gaussian::from_cholesky(std::move(mean), std::move(chol));
}

}  // namespace exmc::variational::internal
