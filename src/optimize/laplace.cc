// Laplace approximation: the Hessian's eigendecomposition both checks negative definiteness
// (and says which coordinate is to blame) and gives the covariance.
#include "exmc/optimize/laplace.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "exmc/core/rng.hpp"
#include "exmc/optimize/hessian.hpp"

namespace exmc::optimize {

namespace {

std::string coordinate_name(const LogDensity& ld, Eigen::Index i) {
  std::string s = "coordinate " + std::to_string(i + 1);
  const std::vector<std::string> names = ld.unconstrained_names();
  if (names.size() == ld.dim()) s += " '" + names[static_cast<size_t>(i)] + "'";
  return s;
}

}  // namespace

Gaussian laplace_approximation(const LogDensity& ld, const std::vector<double>& mode) {
  const size_t d = ld.dim();
  if (mode.size() != d)
    throw std::invalid_argument("laplace_approximation: the mode has " + std::to_string(mode.size()) +
                                " values, the density has dim " + std::to_string(d));
  const std::vector<double> h = hessian(ld, mode.data());
  const Eigen::Index n = static_cast<Eigen::Index>(d);
  const Eigen::MatrixXd precision = -Eigen::Map<const Eigen::MatrixXd>(h.data(), n, n);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(precision);
  if (es.info() != Eigen::Success)
    throw std::runtime_error("laplace_approximation: the Hessian at the mode could not be decomposed");
  if (d > 0 && !(es.eigenvalues()[0] > 0)) {
    // The eigenvector of the smallest eigenvalue of -H is the direction in which log p is
    // not curved downwards; its largest component is the coordinate to suspect.
    Eigen::Index worst = 0;
    es.eigenvectors().col(0).cwiseAbs().maxCoeff(&worst);
    std::ostringstream msg;
    msg << "laplace_approximation: the Hessian at the mode is not negative definite (" << coordinate_name(ld, worst)
        << " dominates a direction of curvature " << -es.eigenvalues()[0]
        << " >= 0): the point is not a strict local maximum of the log density (not converged, a saddle, "
           "a flat direction or a mode at a boundary), so there is no normal approximation there";
    throw std::runtime_error(msg.str());
  }
  const Eigen::MatrixXd cov = es.eigenvectors() * es.eigenvalues().cwiseInverse().asDiagonal() *
                              es.eigenvectors().transpose();
  try {
    return Gaussian::from_covariance(mode, std::vector<double>(cov.data(), cov.data() + cov.size()));
  } catch (const std::invalid_argument&) {
    throw std::runtime_error(
        "laplace_approximation: the Hessian at the mode is numerically singular (condition number about " +
        std::to_string(es.eigenvalues()[n - 1] / es.eigenvalues()[0]) + "), so its inverse is not a usable covariance");
  }
}

ApproxDraws laplace_draws(const LogDensity& ld, const Gaussian& normal, size_t num_draws, uint64_t seed) {
  const size_t d = ld.dim();
  if (normal.dim() != d)
    throw std::invalid_argument("laplace_draws: the normal has dim " + std::to_string(normal.dim()) +
                                ", the density has dim " + std::to_string(d));
  ApproxDraws out;
  out.dim = d;
  out.x.resize(num_draws * d);
  out.log_p.resize(num_draws);
  out.log_q.resize(num_draws);
  Rng rng(seed, 0);  // stream 0: the draws themselves (the only randomness here)
  std::vector<double> grad(d);
  for (size_t k = 0; k < num_draws; ++k) {
    double* x = out.x.data() + k * d;
    normal.sample(rng, x);
    double lp = -std::numeric_limits<double>::infinity();
    try {
      lp = ld.logp_grad(x, grad.data());
    } catch (...) {  // outside the support: the draw stays, with log_p = -inf
    }
    out.log_p[k] = std::isfinite(lp) ? lp : -std::numeric_limits<double>::infinity();
    out.log_q[k] = normal.log_density(x);
  }
  return out;
}

}  // namespace exmc::optimize
