// L-BFGS ascent with a strong-Wolfe line search (bracketing + zoom with cubic interpolation).
// Internally everything is phrased as minimising f = -log p, the way the textbooks state it.
#include "exmc/optimize/lbfgs.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <deque>
#include <limits>
#include <stdexcept>
#include <string>

#include "convergence.hpp"
#include "evaluate.hpp"

namespace exmc::optimize {

namespace {

using Vec = Eigen::VectorXd;

void require(bool ok, const char* field, const std::string& range) {
  if (!ok) throw std::invalid_argument(std::string("LbfgsOptions.") + field + " must be " + range);
}

// Line-search constants (Nocedal & Wright's usual choice for quasi-Newton directions).
constexpr double kC1 = 1e-4;
constexpr double kC2 = 0.9;
constexpr int kMaxLineSearchEvals = 60;

// A trial point of the line search along x0 + alpha p: phi = f(x), dphi = grad f . p.
struct Trial {
  double alpha = 0;
  double phi = 0;
  double dphi = 0;
  bool ok = false;
};

// Minimiser of the cubic through (a, fa, da), (b, fb, db), kept well inside [a, b] so the
// bracket always shrinks; bisection when the cubic has no usable minimum.
double cubic_min(double a, double fa, double da, double b, double fb, double db) {
  const double lo = std::min(a, b), hi = std::max(a, b), w = hi - lo;
  const double d1 = da + db - 3 * (fa - fb) / (a - b);
  const double disc = d1 * d1 - da * db;
  double t = 0.5 * (a + b);
  if (disc >= 0 && std::isfinite(disc)) {
    double d2 = std::sqrt(disc);
    if (b < a) d2 = -d2;
    const double denom = db - da + 2 * d2;
    if (denom != 0) t = b - (b - a) * (db + d2 - d1) / denom;
  }
  if (!std::isfinite(t) || t < lo + 0.05 * w || t > hi - 0.05 * w) t = 0.5 * (a + b);
  return t;
}

class LineSearch {
 public:
  LineSearch(Evaluator& eval, const Vec& x0, double f0, const Vec& p, double dphi0)
      : eval_(eval), x0_(x0), f0_(f0), p_(p), dphi0_(dphi0), x_(x0.size()), g_(x0.size()),
        best_x_(x0.size()), best_g_(x0.size()) {}

  // Finds alpha meeting the strong Wolfe conditions, starting from alpha1, and writes the
  // accepted point. When the conditions cannot be met but some trial gave sufficient
  // decrease, that trial is accepted instead (progress beats giving up).
  bool run(double alpha1, Vec* x, Vec* g, double* f) {
    if (!search(alpha1)) return false;
    x->swap(best_x_);
    g->swap(best_g_);
    *f = best_f_;
    return true;
  }

 private:
  bool search(double alpha1) {
    Trial prev{0, f0_, dphi0_, true};
    double alpha = alpha1;
    for (int i = 0; i < kMaxLineSearchEvals; ++i) {
      Trial t = evaluate(alpha);
      if (!t.ok) {
        // Too far: back off towards the last finite point.
        alpha = prev.alpha + 0.5 * (alpha - prev.alpha);
        if (alpha - prev.alpha <= 1e-16 * std::max(1.0, alpha)) break;
        continue;
      }
      if (t.phi > f0_ + kC1 * t.alpha * dphi0_ || (i > 0 && prev.alpha > 0 && t.phi >= prev.phi))
        return zoom(prev, t);
      if (std::fabs(t.dphi) <= -kC2 * dphi0_) {
        keep(t);
        return true;
      }
      if (t.dphi >= 0) return zoom(t, prev);
      prev = t;
      alpha *= 4;
    }
    return accept_best();
  }

  Trial evaluate(double alpha) {
    Trial t;
    t.alpha = alpha;
    x_ = x0_ + alpha * p_;
    t.ok = eval_(x_, &t.phi, &g_);
    if (!t.ok) return t;
    t.dphi = g_.dot(p_);
    // Remember the best point with sufficient decrease as a fallback.
    if (t.phi <= f0_ + kC1 * alpha * dphi0_ && t.phi < best_f_) keep(t);
    return t;
  }

  void keep(const Trial& t) {
    best_x_ = x_;
    best_g_ = g_;
    best_f_ = t.phi;
    best_alpha_ = t.alpha;
    have_best_ = true;
  }

  bool accept_best() { return have_best_; }

  // lo satisfies sufficient decrease and has the lowest phi seen in the bracket; the
  // minimiser sought lies between lo and hi.
  bool zoom(Trial lo, Trial hi) {
    for (int i = 0; i < kMaxLineSearchEvals; ++i) {
      if (std::fabs(hi.alpha - lo.alpha) <= 1e-16 * std::max(1.0, std::fabs(lo.alpha))) break;
      const double a = hi.ok ? cubic_min(lo.alpha, lo.phi, lo.dphi, hi.alpha, hi.phi, hi.dphi)
                             : 0.5 * (lo.alpha + hi.alpha);
      Trial t = evaluate(a);
      if (!t.ok || t.phi > f0_ + kC1 * a * dphi0_ || t.phi >= lo.phi) {
        hi = t;
        continue;
      }
      if (std::fabs(t.dphi) <= -kC2 * dphi0_) {
        keep(t);
        return true;
      }
      if (t.dphi * (hi.alpha - lo.alpha) >= 0) hi = lo;
      lo = t;
    }
    return accept_best();
  }

  Evaluator& eval_;
  const Vec& x0_;
  double f0_;
  const Vec& p_;
  double dphi0_;
  Vec x_, g_;
  Vec best_x_, best_g_;
  double best_f_ = std::numeric_limits<double>::infinity();
  double best_alpha_ = 0;
  bool have_best_ = false;
};

// Two-loop recursion: d = -H g with H the L-BFGS inverse-Hessian approximation built from
// the kept (s, y) pairs, its initial scaling s'y / y'y taken from the newest pair.
struct History {
  std::deque<Vec> s, y;
  std::deque<double> rho;
  size_t capacity = 5;

  void push(const Vec& sk, const Vec& yk, double sy) {
    if (s.size() == capacity) {
      s.pop_front();
      y.pop_front();
      rho.pop_front();
    }
    s.push_back(sk);
    y.push_back(yk);
    rho.push_back(1.0 / sy);
  }
  void clear() {
    s.clear();
    y.clear();
    rho.clear();
  }
  Vec apply_inverse(const Vec& g, std::vector<double>& a) const {
    Vec q = g;
    const size_t m = s.size();
    a.assign(m, 0.0);
    for (size_t k = m; k-- > 0;) {
      a[k] = rho[k] * s[k].dot(q);
      q -= a[k] * y[k];
    }
    if (m > 0) q *= 1.0 / (rho[m - 1] * y[m - 1].squaredNorm());
    for (size_t k = 0; k < m; ++k) {
      const double b = rho[k] * y[k].dot(q);
      q += (a[k] - b) * s[k];
    }
    return q;
  }
};

}  // namespace

void ConvergenceTolerances::validate(const char* owner) const {
  auto require_tol = [owner](double v, const char* field) {
    if (!(std::isfinite(v) && v >= 0))
      throw std::invalid_argument(std::string(owner) + "." + field + " must be finite and >= 0");
  };
  require_tol(tol_obj, "tol_obj");
  require_tol(tol_rel_obj, "tol_rel_obj");
  require_tol(tol_grad, "tol_grad");
  require_tol(tol_rel_grad, "tol_rel_grad");
  require_tol(tol_param, "tol_param");
}

void LbfgsOptions::validate() const {
  require(history >= 1, "history", ">= 1");
  require(max_iterations >= 0, "max_iterations", ">= 0");
  require(std::isfinite(init_alpha) && init_alpha > 0, "init_alpha", "finite and > 0");
  ConvergenceTolerances::validate("LbfgsOptions");
}

std::string describe(Termination t) {
  switch (t) {
    case Termination::kObjective:
      return "Convergence detected: absolute change in objective function was below tolerance";
    case Termination::kRelativeObjective:
      return "Convergence detected: relative change in objective function was below tolerance";
    case Termination::kGradient:
      return "Convergence detected: gradient norm is below tolerance";
    case Termination::kRelativeGradient:
      return "Convergence detected: relative gradient magnitude is below tolerance";
    case Termination::kParameter:
      return "Convergence detected: absolute parameter change was below tolerance";
    case Termination::kMaxIterations:
      return "Maximum number of iterations hit, may not be at an optima";
    case Termination::kLineSearchFailed:
      return "Line search failed to achieve a sufficient decrease, no more progress can be made";
    case Termination::kObserver:
      return "Optimization stopped by the caller";
    case Termination::kError:
      return "Error evaluating model log probability: non-finite log density or gradient at the initial point";
  }
  return "unknown termination";
}

bool converged(Termination t) {
  switch (t) {
    case Termination::kObjective:
    case Termination::kRelativeObjective:
    case Termination::kGradient:
    case Termination::kRelativeGradient:
    case Termination::kParameter:
      return true;
    default:
      return false;
  }
}

OptimizeResult lbfgs(const LogDensity& ld, const std::vector<double>& x0, const LbfgsOptions& options,
                     const IterateObserver& observer) {
  options.validate();
  const size_t d = ld.dim();
  if (x0.size() != d)
    throw std::invalid_argument("lbfgs: x0 has " + std::to_string(x0.size()) + " values, the density has dim " +
                                std::to_string(d));
  Evaluator eval(ld);
  OptimizeResult res;
  Vec x = Eigen::Map<const Vec>(x0.data(), d);
  Vec gf(d);  // gradient of f = -log p
  double f = 0;
  auto finish = [&](Termination why) {
    res.x.assign(x.data(), x.data() + d);
    res.grad.resize(d);
    for (size_t i = 0; i < d; ++i) res.grad[i] = -gf[i];
    res.logp = -f;
    res.grad_evals = eval.count();
    res.termination = why;
    return res;
  };
  auto notify = [&](int iteration) {
    if (!observer) return true;
    Vec glp = -gf;
    Iterate it{iteration, d, x.data(), glp.data(), -f};
    return observer(it);
  };
  if (!eval(x, &f, &gf)) {
    gf.setZero();
    f = -std::numeric_limits<double>::infinity();
    return finish(Termination::kError);
  }
  if (!notify(0)) return finish(Termination::kObserver);

  History hist;
  hist.capacity = static_cast<size_t>(options.history);
  std::vector<double> scratch;
  Vec p = -gf, x_new(d), g_new(d);
  // A steepest-ascent trial step (no curvature known yet) is init_alpha as Stan's, but at most one
  // unconstrained unit long. A huge gradient (a poor random start) times init_alpha would
  // otherwise jump to where the transforms' guards clamp (|log-scale| > 200, see
  // transform/guards.hpp): there log p is finite, better than the start, and flat, so the
  // search accepts the plateau and the zero gradient reads as convergence. Stan, without the
  // clamp, meets an infinite log p there and shrinks.
  const auto steepest_alpha = [&](const Vec& dir) {
    const double n = dir.norm();
    return n > 0 ? std::min(options.init_alpha, 1.0 / n) : options.init_alpha;
  };
  double alpha0 = steepest_alpha(p);
  for (res.iterations = 0; res.iterations < options.max_iterations;) {
    double dphi0 = gf.dot(p);
    if (!(dphi0 < 0)) {
      // The approximation lost positive definiteness numerically: restart from steepest ascent.
      hist.clear();
      p = -gf;
      dphi0 = gf.dot(p);
      alpha0 = steepest_alpha(p);
    }
    double f_new = 0;
    bool ok = LineSearch(eval, x, f, p, dphi0).run(alpha0, &x_new, &g_new, &f_new);
    if (!ok && !hist.s.empty()) {
      // As Stan does: drop the curvature memory and retry along the gradient.
      hist.clear();
      p = -gf;
      dphi0 = gf.dot(p);
      ok = LineSearch(eval, x, f, p, dphi0).run(steepest_alpha(p), &x_new, &g_new, &f_new);
    }
    if (!ok) return finish(Termination::kLineSearchFailed);
    const Vec s = x_new - x;
    const Vec y = g_new - gf;
    const double f_prev = f;
    x.swap(x_new);
    gf.swap(g_new);
    f = f_new;
    ++res.iterations;
    const double sy = s.dot(y);
    if (sy > 0 && std::isfinite(sy)) hist.push(s, y, sy);
    p = -hist.apply_inverse(gf, scratch);
    alpha0 = hist.s.empty() ? steepest_alpha(p) : 1.0;

    if (!notify(res.iterations)) return finish(Termination::kObserver);
    // f is -log p: the tests read the same on either sign, and -g'p = g' H^-1 g.
    if (const auto t = detail::converged(options, f, f_prev, gf.norm(), -gf.dot(p), s.norm())) return finish(*t);
  }
  return finish(Termination::kMaxIterations);
}

}  // namespace exmc::optimize
