// Analytic targets shared by the optimize tests.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <memory>
#include <vector>

#include "exmc/core/log_density.hpp"

namespace exmc::optimize::testing {

// N(mu, Sigma) in 5-d with strong correlations and scales from 0.5 to 3.
struct CorrelatedGaussian {
  Eigen::VectorXd mu;
  Eigen::MatrixXd sigma, precision;
  CorrelatedGaussian() : mu(5), sigma(5, 5) {
    mu << 1.0, -2.0, 0.5, 3.0, -0.25;
    const double sd[5] = {0.5, 1.0, 2.0, 3.0, 1.5};
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) sigma(i, j) = sd[i] * sd[j] * std::pow(0.8, std::abs(i - j));
    precision = sigma.inverse();
  }
  std::unique_ptr<LogDensity> density() const {
    Eigen::VectorXd m = mu;
    Eigen::MatrixXd p = precision;
    return make_log_density(5, [m, p](const double* x, double* g) {
      const Eigen::VectorXd r = Eigen::Map<const Eigen::VectorXd>(x, 5) - m;
      const Eigen::VectorXd pr = p * r;
      Eigen::Map<Eigen::VectorXd>(g, 5) = -pr;
      return -0.5 * r.dot(pr);
    });
  }
};

// log p = -((1 - a)^2 + 100 (b - a^2)^2): Rosenbrock's banana, mode (1, 1).
inline std::unique_ptr<LogDensity> rosenbrock() {
  return make_log_density(2, [](const double* x, double* g) {
    const double a = x[0], b = x[1], r = b - a * a;
    g[0] = 2 * (1 - a) + 400 * r * a;
    g[1] = -200 * r;
    return -((1 - a) * (1 - a) + 100 * r * r);
  });
}

}  // namespace exmc::optimize::testing
