// Newton ascent: direction -(H_-)^-1 g with H_- the Hessian with its spectrum forced negative.
#include "exmc/optimize/newton.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "convergence.hpp"
#include "evaluate.hpp"
#include "hessian_impl.hpp"

namespace exmc::optimize {

namespace {

using Vec = Eigen::VectorXd;

void require(bool ok, const char* field, const std::string& range) {
  if (!ok) throw std::invalid_argument(std::string("NewtonOptions.") + field + " must be " + range);
}

constexpr int kMaxHalvings = 60;

// Ascent direction for gradient g (of log p) and Hessian h (of log p): (-H_-)^-1 g, where
// H_- keeps H's eigenvectors and uses -max(|lambda|, floor) as eigenvalues. A saddle or a
// minimum thus still yields an uphill step, and a flat direction cannot blow the step up.
// Near a maximum -H is positive definite and well conditioned, so nothing would be clamped: a
// Cholesky solve gives the same step for n^3 / 3 flops where the eigendecomposition costs ~9 n^3
// (77 s at n = 3,845). Only an indefinite or badly conditioned -H takes the eigenvalue route.
constexpr double kCholeskyMinReciprocalCondition = 1e-6;

Vec ascent_direction(const std::vector<double>& h, const Vec& g) {
  const Eigen::Index d = g.size();
  const Eigen::Map<const Eigen::MatrixXd> hm(h.data(), d, d);
  const Eigen::LLT<Eigen::MatrixXd> llt(-hm);
  if (llt.info() == Eigen::Success && llt.rcond() > kCholeskyMinReciprocalCondition) {
    Vec step = llt.solve(g);
    if (step.allFinite()) return step;
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(hm);
  const Vec lam = es.eigenvalues().cwiseAbs();
  const double floor = std::max(1e-8 * lam.maxCoeff(), 1e-300);
  const Vec inv = lam.cwiseMax(floor).cwiseInverse();
  return es.eigenvectors() * (inv.asDiagonal() * (es.eigenvectors().transpose() * g));
}

}  // namespace

void NewtonOptions::validate() const {
  require(max_iterations >= 0, "max_iterations", ">= 0");
  ConvergenceTolerances::validate("NewtonOptions");
}

OptimizeResult newton(const LogDensity& ld, const std::vector<double>& x0, const NewtonOptions& options,
                      const IterateObserver& observer) {
  options.validate();
  const size_t d = ld.dim();
  if (x0.size() != d)
    throw std::invalid_argument("newton: x0 has " + std::to_string(x0.size()) + " values, the density has dim " +
                                std::to_string(d));
  Evaluator eval(ld);
  uint64_t hess_evals = 0;
  OptimizeResult res;
  Vec x = Eigen::Map<const Vec>(x0.data(), d), g(d), gf(d), x_new(d);
  double lp = -std::numeric_limits<double>::infinity(), f_new = 0;
  g.setZero();
  auto finish = [&](Termination why) {
    res.x.assign(x.data(), x.data() + d);
    res.grad.assign(g.data(), g.data() + d);
    res.logp = lp;
    res.grad_evals = eval.count() + hess_evals;
    res.termination = why;
    return res;
  };
  auto notify = [&](int iteration) {
    if (!observer) return true;
    Iterate it{iteration, d, x.data(), g.data(), lp};
    return observer(it);
  };
  std::vector<double> h;
  size_t bad = 0;
  // Gradient and Hessian at x; false when either is unusable.
  auto curvature = [&]() {
    if (!internal::fd_hessian(ld, x.data(), h, &lp, &hess_evals, &bad)) return false;
    double f = 0;
    if (!eval(x, &f, &gf)) return false;
    g = -gf;
    return true;
  };
  if (!curvature()) {
    g.setZero();
    lp = -std::numeric_limits<double>::infinity();
    return finish(Termination::kError);
  }
  if (!notify(0)) return finish(Termination::kObserver);

  Vec dir = ascent_direction(h, g);
  for (res.iterations = 0; res.iterations < options.max_iterations;) {
    // Halve the full Newton step until log p increases (Stan's rule).
    double t = 1.0;
    bool ok = false;
    for (int k = 0; k < kMaxHalvings && !ok; ++k, t *= 0.5) {
      x_new = x + t * dir;
      ok = eval(x_new, &f_new, &gf) && -f_new > lp;
    }
    if (!ok) {
      if (g.norm() < options.tol_grad) return finish(Termination::kGradient);
      return finish(Termination::kLineSearchFailed);
    }
    const Vec s = x_new - x;
    const double lp_prev = lp;
    x.swap(x_new);
    ++res.iterations;
    if (!curvature()) {
      // Curvature unusable here (log p itself was fine): step along the gradient instead.
      h.assign(d * d, 0.0);
      for (size_t i = 0; i < d; ++i) h[i * d + i] = -1.0;
      lp = -f_new;
      g = -gf;
    }
    dir = ascent_direction(h, g);
    if (!notify(res.iterations)) return finish(Termination::kObserver);
    if (const auto t = detail::converged(options, lp, lp_prev, g.norm(), g.dot(dir), s.norm())) return finish(*t);
  }
  return finish(Termination::kMaxIterations);
}

}  // namespace exmc::optimize
