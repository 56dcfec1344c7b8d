#include "exmc/core/gaussian.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include <Eigen/Cholesky>
#include <Eigen/Core>

namespace exmc {
namespace {

constexpr double kLogTwoPi = 1.8378770664093454836;

void check_sizes(size_t d, size_t n, const char* what) {
  if (n != d)
    throw std::invalid_argument(std::string("Gaussian: ") + what + " has " + std::to_string(n) +
                                " values, expected " + std::to_string(d));
}

}  // namespace

Gaussian Gaussian::from_covariance(std::vector<double> mean, const std::vector<double>& cov) {
  const size_t d = mean.size();
  check_sizes(d * d, cov.size(), "the covariance");
  Eigen::Map<const Eigen::MatrixXd> c(cov.data(), Eigen::Index(d), Eigen::Index(d));
  Eigen::LLT<Eigen::MatrixXd> llt(0.5 * (c + c.transpose()));
  if (llt.info() != Eigen::Success)
    throw std::invalid_argument("Gaussian: the covariance is not positive definite");
  Eigen::MatrixXd l = llt.matrixL();
  return from_cholesky(std::move(mean), std::vector<double>(l.data(), l.data() + l.size()));
}

Gaussian Gaussian::from_cholesky(std::vector<double> mean, std::vector<double> chol) {
  const size_t d = mean.size();
  check_sizes(d * d, chol.size(), "the Cholesky factor");
  Gaussian g;
  g.diagonal_ = false;
  g.log_det_ = 0;
  for (size_t i = 0; i < d; ++i) {
    const double lii = chol[i * d + i];
    if (!(lii > 0) || !std::isfinite(lii))
      throw std::invalid_argument("Gaussian: Cholesky diagonal entry " + std::to_string(i + 1) +
                                  " is not positive and finite");
    g.log_det_ += 2 * std::log(lii);
    for (size_t r = 0; r < i; ++r) chol[i * d + r] = 0;  // keep only the lower triangle
  }
  g.mean_ = std::move(mean);
  g.scale_ = std::move(chol);
  return g;
}

Gaussian Gaussian::diagonal(std::vector<double> mean, std::vector<double> sd) {
  check_sizes(mean.size(), sd.size(), "the standard deviations");
  Gaussian g;
  g.diagonal_ = true;
  for (size_t i = 0; i < sd.size(); ++i) {
    if (!(sd[i] > 0) || !std::isfinite(sd[i]))
      throw std::invalid_argument("Gaussian: standard deviation " + std::to_string(i + 1) +
                                  " is not positive and finite");
    g.log_det_ += 2 * std::log(sd[i]);
  }
  g.mean_ = std::move(mean);
  g.scale_ = std::move(sd);
  return g;
}

std::vector<double> Gaussian::covariance() const {
  const size_t d = dim();
  std::vector<double> out(d * d, 0.0);
  if (diagonal_) {
    for (size_t i = 0; i < d; ++i) out[i * d + i] = scale_[i] * scale_[i];
    return out;
  }
  Eigen::Map<const Eigen::MatrixXd> l(scale_.data(), Eigen::Index(d), Eigen::Index(d));
  Eigen::Map<Eigen::MatrixXd>(out.data(), Eigen::Index(d), Eigen::Index(d)) = l * l.transpose();
  return out;
}

void Gaussian::transform(const double* z, double* out) const {
  const size_t d = dim();
  if (diagonal_) {
    for (size_t i = 0; i < d; ++i) out[i] = mean_[i] + scale_[i] * z[i];
    return;
  }
  // Column by column (scale_ is column-major: row by row strode d doubles a step, minutes of
  // cache misses for 1,000 draws at d = 4,000), each row summing in the order k = 0, 1, ...
  // as before; into a buffer, since out may alias z.
  thread_local std::vector<double> sum;
  sum.assign(d, 0.0);
  for (size_t k = 0; k < d; ++k) {
    const double zk = z[k];
    const double* column = scale_.data() + k * d;
    for (size_t r = k; r < d; ++r) sum[r] += column[r] * zk;
  }
  for (size_t r = 0; r < d; ++r) out[r] = mean_[r] + sum[r];
}

void Gaussian::transform_many(const double* z, double* out, size_t count) const {
  const size_t d = dim();
  if (diagonal_) {
    for (size_t k = 0; k < count; ++k) transform(z + k * d, out + k * d);
    return;
  }
  const auto n = Eigen::Index(d);
  Eigen::Map<const Eigen::MatrixXd> l(scale_.data(), n, n);
  Eigen::Map<Eigen::MatrixXd> x(out, n, Eigen::Index(count));
  x.noalias() = l.triangularView<Eigen::Lower>() * Eigen::Map<const Eigen::MatrixXd>(z, n, Eigen::Index(count));
  x.colwise() += Eigen::Map<const Eigen::VectorXd>(mean_.data(), n);
}

void Gaussian::sample(Rng& rng, double* out) const {
  const size_t d = dim();
  for (size_t i = 0; i < d; ++i) out[i] = rng.normal();
  transform(out, out);
}

double Gaussian::log_density(const double* x) const {
  const size_t d = dim();
  double q = 0;
  if (diagonal_) {
    for (size_t i = 0; i < d; ++i) {
      const double z = (x[i] - mean_[i]) / scale_[i];
      q += z * z;
    }
  } else {
    Eigen::VectorXd r(static_cast<Eigen::Index>(d));
    for (size_t i = 0; i < d; ++i) r[Eigen::Index(i)] = x[i] - mean_[i];
    Eigen::Map<const Eigen::MatrixXd> l(scale_.data(), Eigen::Index(d), Eigen::Index(d));
    l.triangularView<Eigen::Lower>().solveInPlace(r);
    q = r.squaredNorm();
  }
  return -0.5 * (double(d) * kLogTwoPi + log_det_ + q);
}

double Gaussian::log_density_from_z(const double* z) const {
  const size_t d = dim();
  double q = 0;
  for (size_t i = 0; i < d; ++i) q += z[i] * z[i];
  return -0.5 * (double(d) * kLogTwoPi + log_det_ + q);
}

}  // namespace exmc
