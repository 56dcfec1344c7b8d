// Laplace approximation: a Cholesky factorisation of -H both checks negative definiteness and
// gives the covariance's factor; only when it fails is the Hessian decomposed further, to say
// which coordinate is to blame.
#include "exmc/optimize/laplace.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "exmc/core/rng.hpp"
#include "exmc/optimize/hessian.hpp"

namespace exmc::optimize {

namespace {

// Above this many coordinates a failed factorisation is diagnosed without an eigendecomposition.
constexpr Eigen::Index kEigenDiagnosisMaxDim = 1500;

std::string coordinate_name(const LogDensity& ld, Eigen::Index i) {
  std::string s = "coordinate " + std::to_string(i + 1);
  const std::vector<std::string> names = ld.unconstrained_names();
  if (names.size() == ld.dim()) s += " '" + names[static_cast<size_t>(i)] + "'";
  return s;
}

// Called when -H has no Cholesky factor. The eigenvector of the smallest eigenvalue of -H is
// the direction in which log p is not curved downwards; its largest component is the
// coordinate to suspect. Above a few thousand coordinates the decomposition would take
// minutes, so there the first pivot the factorisation could not take names the coordinate.
[[noreturn]] void throw_not_negative_definite(const LogDensity& ld, const Eigen::Map<const Eigen::MatrixXd>& h) {
  const Eigen::MatrixXd precision = -h;
  const Eigen::Index n = precision.rows();
  Eigen::Index worst = 0;
  double curvature = 0;
  if (n <= kEigenDiagnosisMaxDim) {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(precision);
    if (es.info() != Eigen::Success)
      throw std::runtime_error("the Hessian at the mode could not be decomposed");
    es.eigenvectors().col(0).cwiseAbs().maxCoeff(&worst);
    curvature = -es.eigenvalues()[0];
  } else {
    const Eigen::LDLT<Eigen::MatrixXd> ldlt(precision);
    const Eigen::VectorXd pivots = ldlt.vectorD();
    Eigen::Index k = 0;
    curvature = -pivots.minCoeff(&k);
    Eigen::VectorXi order = Eigen::VectorXi::LinSpaced(n, 0, int(n - 1));
    order = ldlt.transpositionsP() * order;
    worst = order[k];
  }
  std::ostringstream msg;
  msg << "the Hessian at the mode is not negative definite (" << coordinate_name(ld, worst)
      << " dominates a direction of curvature " << curvature
      << " >= 0): the point is not a strict local maximum of the log density (not converged, a saddle, "
         "a flat direction or a mode at a boundary), so there is no normal approximation there";
  throw std::runtime_error(msg.str());
}

// Inverts a lower-triangular matrix in place (its upper part must be zero), by halves:
// inv([A 0; B C]) = [A^-1 0; -C^-1 B A^-1  C^-1], so the work is matrix products, n^3 / 3
// flops; a triangular solve against the identity does n^3, blind to the identity's zeros.
void invert_lower_triangular(Eigen::Ref<Eigen::MatrixXd> m) {
  const Eigen::Index n = m.rows();
  if (n <= 64) {
    const Eigen::MatrixXd inverse = m.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(n, n));
    m = inverse;
    return;
  }
  const Eigen::Index h = n / 2;
  invert_lower_triangular(m.topLeftCorner(h, h));
  invert_lower_triangular(m.bottomRightCorner(n - h, n - h));
  const Eigen::MatrixXd b_times_a_inverse =
      m.bottomLeftCorner(n - h, h) * m.topLeftCorner(h, h).triangularView<Eigen::Lower>();
  m.bottomLeftCorner(n - h, h).noalias() =
      -(m.bottomRightCorner(n - h, n - h).triangularView<Eigen::Lower>() * b_times_a_inverse);
}

}  // namespace

Gaussian laplace_approximation(const LogDensity& ld, const std::vector<double>& mode, uint64_t* grad_evals) {
  const size_t d = ld.dim();
  if (mode.size() != d)
    throw std::invalid_argument("laplace_approximation: the mode has " + std::to_string(mode.size()) +
                                " values, the density has dim " + std::to_string(d));
  const std::vector<double> h = hessian(ld, mode.data(), nullptr, grad_evals);
  const Eigen::Index n = static_cast<Eigen::Index>(d);
  // The precision -H with its coordinates in reverse order (J (-H) J, J the reversal): its
  // Cholesky factor M gives the covariance's lower factor J M^-T J (J M^-T J J M^-1 J =
  // (-H)^-1): a factorisation and a triangular inverse, n^3 / 3 flops each. An
  // eigendecomposition (~9 n^3, then the covariance formed and factorised again) took minutes
  // at n = 3,845; this takes ~3 s.
  const Eigen::Map<const Eigen::MatrixXd> hm(h.data(), n, n);
  const Eigen::MatrixXd reversed_precision = -hm.reverse();
  const Eigen::LLT<Eigen::MatrixXd> llt(reversed_precision);
  if (llt.info() != Eigen::Success) throw_not_negative_definite(ld, hm);
  Eigen::MatrixXd inverse = llt.matrixL();
  invert_lower_triangular(inverse);
  const Eigen::MatrixXd factor = inverse.transpose().reverse();
  if (!factor.allFinite())
    throw std::runtime_error(
        "the Hessian at the mode is numerically singular (reciprocal condition number "
        "about " +
        std::to_string(llt.rcond()) + "), so its inverse is not a usable covariance");
  return Gaussian::from_cholesky(mode, std::vector<double>(factor.data(), factor.data() + factor.size()));
}

ApproxDraws laplace_draws(const LogDensity& ld, const Gaussian& normal, size_t num_draws, uint64_t seed,
                          const std::function<bool()>& stop) {
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
  // Blocks of draws: one pass over the d x d factor per block, not per draw (at d = 3,845 the
  // factor is 118 MB, and streaming it once a draw was a third of the run).
  constexpr size_t kBlock = 64;
  std::vector<double> grad(d), z(kBlock * d);
  for (size_t first = 0; first < num_draws; first += kBlock) {
    if (stop && stop()) {
      out.x.resize(first * d);
      out.log_p.resize(first);
      out.log_q.resize(first);
      break;
    }
    const size_t count = std::min(kBlock, num_draws - first);
    for (size_t i = 0; i < count * d; ++i) z[i] = rng.normal();  // draw by draw, as normal.sample draws them
    normal.transform_many(z.data(), out.x.data() + first * d, count);
    for (size_t k = first; k < first + count; ++k) {
      const double* x = out.x.data() + k * d;
      double lp = -std::numeric_limits<double>::infinity();
      try {
        lp = ld.logp_grad(x, grad.data());
      } catch (...) {  // outside the support: the draw stays, with log_p = -inf
      }
      out.log_p[k] = std::isfinite(lp) ? lp : -std::numeric_limits<double>::infinity();
      out.log_q[k] = normal.log_density_from_z(z.data() + (k - first) * d);
    }
  }
  return out;
}

}  // namespace exmc::optimize
