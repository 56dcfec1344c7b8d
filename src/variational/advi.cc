#include "exmc/variational/advi.hpp"

#include "exmc/core/init_remedy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "exmc/core/rng.hpp"
#include "exmc/variational/internal/family.hpp"

namespace exmc::variational {
namespace {

using internal::NormalFamily;

// Stream numbers (documented in advi.hpp).
constexpr uint64_t kStreamInit = 0;
constexpr uint64_t kStreamAdaptGrad = 1;
constexpr uint64_t kStreamAdaptElbo = 2;
constexpr uint64_t kStreamGrad = 3;
constexpr uint64_t kStreamElbo = 4;
constexpr uint64_t kStreamOutput = 5;

constexpr int kMaxInitTries = 100;  // Stan's limit on random initialisations
constexpr int kMaxRedraws = 10;     // attempts per gradient draw before it is dropped
constexpr double kEtaGrid[] = {100, 10, 1, 0.1, 0.01};
constexpr double kInf = std::numeric_limits<double>::infinity();

// Evaluates the target and estimates ELBO and gradient; owns the scratch vectors.
class Estimator {
 public:
  explicit Estimator(const LogDensity& ld)
      : ld_(ld), eta_(ld.dim()), z_(ld.dim()), g_(ld.dim()) {}

  uint64_t evals() const { return evals_; }
  uint64_t rejected() const { return rejected_; }

  // log p at z_ (gradient into g_); false (counted as a rejection) when the value, or with
  // need_grad the gradient, is not finite, or logp_grad throws.
  bool eval(bool need_grad, double* lp) {
    ++evals_;
    double v;
    try {
      v = ld_.logp_grad(z_.data(), g_.data());
    } catch (...) {
      ++rejected_;
      return false;
    }
    bool ok = std::isfinite(v);
    if (ok && need_grad)
      for (double gi : g_) ok = ok && std::isfinite(gi);
    if (!ok) {
      ++rejected_;
      return false;
    }
    *lp = v;
    return true;
  }

  // Reparameterised Monte Carlo ELBO gradient into grad. Returns false (grad zero) when no
  // draw could be used.
  bool elbo_grad(const NormalFamily& q, int n, Rng& rng, std::vector<double>& grad) {
    std::fill(grad.begin(), grad.end(), 0.0);
    int used = 0;
    for (int s = 0; s < n; ++s) {
      for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
        draw(q, rng);
        double lp;
        if (!eval(true, &lp)) continue;
        q.add_logp_grad(g_.data(), eta_.data(), grad.data());
        ++used;
        break;
      }
    }
    if (used == 0) return false;
    for (double& v : grad) v /= used;
    q.add_entropy_grad(grad.data());
    for (double v : grad) {
      if (!std::isfinite(v)) {
        std::fill(grad.begin(), grad.end(), 0.0);
        return false;
      }
    }
    return true;
  }

  // Mean of log p over the draws where it is finite, plus the entropy; -inf when none is.
  double elbo(const NormalFamily& q, int n, Rng& rng) {
    double sum = 0;
    int used = 0;
    for (int s = 0; s < n; ++s) {
      draw(q, rng);
      double lp;
      if (!eval(false, &lp)) continue;
      sum += lp;
      ++used;
    }
    if (used == 0) return -kInf;
    const double e = sum / used + q.entropy();
    return std::isfinite(e) ? e : -kInf;
  }

 private:
  void draw(const NormalFamily& q, Rng& rng) {
    for (double& e : eta_) e = rng.normal();
    q.transform(eta_.data(), z_.data());
  }

  const LogDensity& ld_;
  std::vector<double> eta_, z_, g_;
  uint64_t evals_ = 0, rejected_ = 0;
};

// Stan's adaptive step-size sequence: rho_k = eta k^(-1/2) / (tau + sqrt(s_k)) elementwise,
// s_1 = g_1^2, s_k = 0.1 g_k^2 + 0.9 s_{k-1}. (The paper's k^(-1/2 + 1e-16) differs from
// k^(-1/2) by a factor below 1 + 1e-14 for any feasible k, so Stan's form is used.) Since
// s_k >= 0.1 g_k^2, every coordinate moves by at most eta sqrt(10) per step.
class StepSequence {
 public:
  explicit StepSequence(size_t n) : s_(n, 0.0) {}
  void reset() {
    k_ = 0;
    std::fill(s_.begin(), s_.end(), 0.0);
  }
  void step(double eta, const std::vector<double>& grad, std::vector<double>& theta) {
    ++k_;
    const double rho = eta / std::sqrt(double(k_));
    for (size_t i = 0; i < s_.size(); ++i) {
      const double g2 = grad[i] * grad[i];
      s_[i] = k_ == 1 ? g2 : kPre * s_[i] + kPost * g2;
      theta[i] += rho * grad[i] / (kTau + std::sqrt(s_[i]));
    }
  }

 private:
  static constexpr double kTau = 1.0, kPre = 0.9, kPost = 0.1;
  std::vector<double> s_;
  long long k_ = 0;
};

std::vector<double> initial_point(const LogDensity& ld, const AdviOptions& o, uint64_t seed,
                                  const double* x0, uint64_t& evals) {
  const size_t d = ld.dim();
  std::vector<double> x(d), g(d);
  auto finite_at = [&](const std::vector<double>& p) {
    ++evals;
    try {
      const double v = ld.logp_grad(p.data(), g.data());
      if (!std::isfinite(v)) return false;
      for (double gi : g)
        if (!std::isfinite(gi)) return false;
      return true;
    } catch (...) {
      return false;
    }
  };
  if (x0 != nullptr) {
    for (size_t i = 0; i < d; ++i) {
      if (!std::isfinite(x0[i]))
        throw std::invalid_argument(
            fmt::format("advi: initial value x0[{}] is not finite ({})", i, x0[i]));
      x[i] = x0[i];
    }
    if (!finite_at(x))
      throw AdviError("advi: the log density or its gradient is not finite at the given initial point");
    return x;
  }
  Rng rng(seed, kStreamInit);
  for (int t = 0; t < kMaxInitTries; ++t) {
    for (double& xi : x) xi = o.init_radius > 0 ? rng.uniform(-o.init_radius, o.init_radius) : 0.0;
    if (finite_at(x)) return x;
  }
  throw AdviError(fmt::format(
      "advi: no initial point with finite log density and gradient after {} draws from "
      "uniform(-{}, {}); {}", kMaxInitTries, o.init_radius, o.init_radius, kInitRemedy));
}

double finite_or_lowest(double e) {
  return std::isfinite(e) ? e : std::numeric_limits<double>::lowest();
}

// Stan's `advi::adapt_eta`: from the initial approximation run adapt_iter iterations with each
// eta of the grid; stop at the first eta whose ELBO is worse than the previous eta's, provided
// that one beat the initial ELBO, and return the previous eta. At the last eta, use it when it
// beat the initial ELBO, otherwise fail.
double adapt_eta(const NormalFamily& init, const AdviOptions& o, uint64_t seed, Estimator& est) {
  Rng init_rng(seed, kStreamAdaptElbo);
  const double elbo_init = est.elbo(init, o.elbo_samples, init_rng);
  if (!std::isfinite(elbo_init))
    throw AdviError(
        "advi: cannot compute the ELBO at the initial approximation (no draw had a finite log "
        "density); the model may be severely ill-conditioned or misspecified");
  std::vector<double> grad(init.size());
  StepSequence seq(init.size());
  double elbo_best = std::numeric_limits<double>::lowest();
  double eta_best = 0;
  const int n_grid = int(std::size(kEtaGrid));
  for (int idx = 0; idx < n_grid; ++idx) {
    const double eta = kEtaGrid[idx];
    NormalFamily q = init;
    seq.reset();
    Rng grng(seed, kStreamAdaptGrad);
    bool diverged = false;
    for (int it = 1; it <= o.adapt_iter && !diverged; ++it) {
      est.elbo_grad(q, o.grad_samples, grng, grad);  // a failed gradient is zero, as in Stan
      seq.step(eta, grad, q.theta());
      diverged = !q.usable();
    }
    double elbo = -kInf;
    if (!diverged) {
      Rng erng(seed, kStreamAdaptElbo);
      elbo = est.elbo(q, o.elbo_samples, erng);
    }
    elbo = finite_or_lowest(elbo);
    if (elbo < elbo_best && elbo_best > elbo_init) return eta_best;
    if (idx < n_grid - 1) {
      elbo_best = elbo;
      eta_best = eta;
    } else if (elbo > elbo_init) {
      return eta;
    }
  }
  throw AdviError(
      "advi: all proposed step sizes (eta = 100, 10, 1, 0.1, 0.01) failed; the model may be "
      "severely ill-conditioned or misspecified");
}

// Stan's `circ_buff_median`: the element at index n/2 after sorting (upper middle when even).
double stan_median(std::vector<double> v) {
  const auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

void AdviOptions::validate() const {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("AdviOptions." + what);
  };
  if (family != Family::kMeanfield && family != Family::kFullrank)
    fail("family must be kMeanfield or kFullrank");
  if (iter < 1) fail(fmt::format("iter must be >= 1, got {}", iter));
  if (grad_samples < 1) fail(fmt::format("grad_samples must be >= 1, got {}", grad_samples));
  if (elbo_samples < 1) fail(fmt::format("elbo_samples must be >= 1, got {}", elbo_samples));
  if (!(eta > 0) || !std::isfinite(eta))
    fail(fmt::format("eta must be positive and finite, got {}", eta));
  if (adapt_iter < 1) fail(fmt::format("adapt_iter must be >= 1, got {}", adapt_iter));
  if (!(tol_rel_obj > 0) || !std::isfinite(tol_rel_obj))
    fail(fmt::format("tol_rel_obj must be positive and finite, got {}", tol_rel_obj));
  if (eval_elbo < 1) fail(fmt::format("eval_elbo must be >= 1, got {}", eval_elbo));
  if (!(init_radius >= 0) || !std::isfinite(init_radius))
    fail(fmt::format("init_radius must be >= 0 and finite, got {}", init_radius));
}

AdviResult advi(const LogDensity& ld, const AdviOptions& o, uint64_t seed, const double* x0) {
  o.validate();
  const size_t d = ld.dim();
  if (d == 0) throw std::invalid_argument("advi: the log density has no parameters (dim() == 0)");
  Estimator est(ld);
  AdviResult res;

  uint64_t init_evals = 0;
  const std::vector<double> x_init = initial_point(ld, o, seed, x0, init_evals);
  const NormalFamily init(o.family == AdviOptions::Family::kFullrank, d, x_init.data());
  res.eta = o.adapt_engaged ? adapt_eta(init, o, seed, est) : o.eta;
  // Trying the grid's larger etas throws the approximation far out on purpose: the draws that
  // fail there say nothing about the fit.
  const uint64_t rejected_in_adaptation = est.rejected();
  const uint64_t evals_in_adaptation = est.evals();

  // Main loop: Stan's `advi::stochastic_gradient_ascent`.
  NormalFamily q = init;
  std::vector<double> grad(q.size()), before(q.size());
  StepSequence seq(q.size());
  Rng grng(seed, kStreamGrad), erng(seed, kStreamElbo);
  const size_t cb_size = size_t(std::max(0.1 * o.iter / o.eval_elbo, 2.0));
  std::vector<double> rel_buf;  // circular: the oldest entry is overwritten at `head`
  size_t head = 0;
  double elbo = 0;  // Stan starts from 0, so the first relative change is 1
  bool stopped = false;
  for (int k = 1; k <= o.iter && !stopped; ++k) {
    est.elbo_grad(q, o.grad_samples, grng, grad);
    before = q.theta();
    seq.step(res.eta, grad, q.theta());
    res.iterations = k;
    if (!q.usable()) {
      q.theta() = before;
      res.message = fmt::format(
          "stopped at iteration {}: the update made the approximation degenerate (a scale of 0 or "
          "infinity); eta {} may be too large (try --no-adapt --eta with a smaller value)", k, res.eta);
      stopped = true;
      res.diverged = true;
      break;
    }
    if (k % o.eval_elbo != 0) continue;
    const double elbo_prev = elbo;
    elbo = est.elbo(q, o.elbo_samples, erng);
    if (!std::isfinite(elbo)) {
      res.message = fmt::format(
          "stopped at iteration {}: no ELBO draw had a finite log density; the model may be "
          "severely ill-conditioned or misspecified", k);
      stopped = true;
      res.diverged = true;
      break;
    }
    double rel = std::fabs((elbo_prev - elbo) / elbo);
    if (std::isnan(rel)) rel = kInf;
    if (rel_buf.size() < cb_size) {
      rel_buf.push_back(rel);
    } else {
      rel_buf[head] = rel;
      head = (head + 1) % cb_size;
    }
    double sum = 0;
    for (double r : rel_buf) sum += r;
    AdviTracePoint tp;
    tp.iteration = k;
    tp.elbo = elbo;
    tp.rel = rel;
    tp.rel_mean = sum / double(rel_buf.size());
    tp.rel_median = stan_median(rel_buf);
    res.trace.push_back(tp);
    if (tp.rel_mean < o.tol_rel_obj || tp.rel_median < o.tol_rel_obj) {
      res.converged = true;
      res.message = fmt::format(
          "converged at iteration {}: relative ELBO change mean {:.3g}, median {:.3g} below "
          "tol_rel_obj {}", k, tp.rel_mean, tp.rel_median, o.tol_rel_obj);
      stopped = true;
    }
  }
  if (!stopped) {
    res.message = fmt::format("the maximum number of iterations ({}) was reached without convergence", o.iter);
    // Convergence is judged at ELBO estimates only: with none, say why it was never judged.
    if (o.eval_elbo > o.iter)
      res.message += fmt::format(
          " (the ELBO is estimated every {} iterations, more than the {} run, so convergence was never checked: "
          "--eval-elbo at most --iter)",
          o.eval_elbo, o.iter);
    // Stan's relative change |change| / |ELBO| is large whatever the fit when the ELBO is near 0
    // (the log normalising constant, on the scale of the constants the program keeps, near 0):
    // an exact fit of a normal posterior ran all 10,000 iterations and was called unconverged.
    else if (!res.trace.empty() && std::fabs(res.trace.back().elbo) < 1)
      res.message += fmt::format(
          " (the ELBO, {:.3g}, is near 0, so its relative changes are large however close the fit: tol_rel_obj {} "
          "asks for changes below {:.2g}; judge the approximation by its Pareto k instead)",
          res.trace.back().elbo, o.tol_rel_obj, o.tol_rel_obj * std::fabs(res.trace.back().elbo));
  }

  try {
    res.approximation = q.to_gaussian();
  } catch (const std::invalid_argument& e) {
    throw AdviError(std::string("advi: the fitted approximation is degenerate: ") + e.what());
  }

  ApproxDraws& out = res.draws;
  out.dim = d;
  out.reserve(o.output_draws);
  Rng orng(seed, kStreamOutput);
  std::vector<double> x(d);
  uint64_t out_evals = 0;
  for (size_t n = 0; n < o.output_draws; ++n) {
    res.approximation.sample(orng, x.data());
    double lp = -kInf;
    ++out_evals;
    try {
      lp = ld.logp(x.data());
    } catch (...) {
    }
    out.x.insert(out.x.end(), x.begin(), x.end());
    out.log_p.push_back(std::isfinite(lp) ? lp : -kInf);
    out.log_q.push_back(res.approximation.log_density(x.data()));
  }
  res.grad_evals = init_evals + est.evals() + out_evals;
  res.rejected_draws = est.rejected() - rejected_in_adaptation;
  res.optimisation_draws = est.evals() - evals_in_adaptation;
  return res;
}

}  // namespace exmc::variational
