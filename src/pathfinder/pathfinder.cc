// Single-path Pathfinder (the paper's Algorithm 1) and multi-path pooling by PSIS resampling.
#include "exmc/pathfinder/pathfinder.hpp"

#include "exmc/core/init_remedy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>
#include <thread>
#include <utility>

#include "exmc/analysis/psis.hpp"
#include "exmc/core/rng.hpp"
#include "exmc/pathfinder/lbfgs_normal.hpp"

namespace exmc::pathfinder {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int kInitTries = 100;  // as Stan's random initialisation
// Log importance ratios spread over less than this are constant up to rounding.
constexpr double kConstantRatios = 1e-9;

// The caller's density with every failure mode folded into -inf, and a count of evaluations.
// One per path: the count is touched by one thread only.
class GuardedDensity final : public LogDensity {
 public:
  explicit GuardedDensity(const LogDensity& ld) : ld_(ld) {}
  size_t dim() const override { return ld_.dim(); }
  double logp_grad(const double* x, double* g) const override {
    ++evals_;
    double v;
    try {
      v = ld_.logp_grad(x, g);
    } catch (...) {
      return kNegInf;
    }
    if (!std::isfinite(v)) return kNegInf;
    for (size_t i = 0, d = ld_.dim(); i < d; ++i)
      if (!std::isfinite(g[i])) return kNegInf;
    return v;
  }
  double logp(const double* x) const override {
    ++evals_;
    double v;
    try {
      v = ld_.logp(x);
    } catch (...) {
      return kNegInf;
    }
    return std::isfinite(v) ? v : kNegInf;
  }
  uint64_t evals() const { return evals_; }

 private:
  const LogDensity& ld_;
  mutable uint64_t evals_ = 0;
};

void require(bool ok, const char* name, const char* range, double value) {
  if (!ok)
    throw std::invalid_argument(
        fmt::format("pathfinder option {} = {} is out of range: must be {}", name, value, range));
}

}  // namespace

void PathfinderOptions::validate() const {
  require(num_paths >= 1, "num_paths", ">= 1", num_paths);
  require(history_size >= 1, "history_size", ">= 1", history_size);
  require(max_lbfgs_iters >= 1, "max_lbfgs_iters", ">= 1", max_lbfgs_iters);
  require(num_draws >= 1, "num_draws", ">= 1", num_draws);
  require(num_elbo_draws >= 1, "num_elbo_draws", ">= 1", num_elbo_draws);
  require(num_psis_draws >= 1, "num_psis_draws", ">= 1", num_psis_draws);
  require(std::isfinite(init_radius) && init_radius >= 0, "init_radius", "finite and >= 0",
          init_radius);
  for (double v : init)
    if (!std::isfinite(v))
      throw std::invalid_argument("pathfinder option init has a non-finite value");
  lbfgs_options().validate();
}

optimize::LbfgsOptions PathfinderOptions::lbfgs_options() const {
  optimize::LbfgsOptions o;
  o.history = history_size;
  o.max_iterations = max_lbfgs_iters;
  o.init_alpha = init_alpha;
  static_cast<optimize::ConvergenceTolerances&>(o) = *this;
  return o;
}

SinglePathResult pathfinder_single(const LogDensity& ld, const PathfinderOptions& options,
                                   uint64_t seed, unsigned path, const double* x0) {
  options.validate();
  const size_t d = ld.dim();
  if (d == 0) throw std::invalid_argument("pathfinder: the log density has dimension 0");
  if (!x0 && !options.init.empty() && options.init.size() != d)
    throw std::invalid_argument(fmt::format(
        "pathfinder option init has {} values, the log density has dimension {}",
        options.init.size(), d));

  GuardedDensity gd(ld);
  SinglePathResult res;
  res.draws.dim = d;
  const uint64_t stream = 3 * uint64_t(path);

  std::vector<double> start(d), grad(d);
  if (x0) {
    start.assign(x0, x0 + d);
  } else if (!options.init.empty()) {
    start = options.init;
  } else {
    Rng rng(seed, stream);
    bool found = false;
    for (int t = 0; t < kInitTries && !found; ++t) {
      for (double& v : start) v = options.init_radius > 0 ? rng.uniform(-options.init_radius,
                                                                        options.init_radius)
                                                          : 0.0;
      found = std::isfinite(gd.logp_grad(start.data(), grad.data()));
    }
    if (!found) {
      res.grad_evals = gd.evals();
      res.error = fmt::format(
          "no initial point with a finite log density and gradient in {} tries of uniform({}, {}); {}",
          kInitTries, -options.init_radius, options.init_radius, kInitRemedy);
      return res;
    }
  }

  // The same K standard normals at every iterate (common random numbers): ELBO differences
  // between iterates then reflect the approximations, not the draws.
  const size_t K = size_t(options.num_elbo_draws);
  std::vector<double> elbo_u(K * d);
  {
    Rng rng(seed, stream + 1);
    for (double& v : elbo_u) v = rng.normal();
  }

  CurvatureHistory history(d, options.history_size);
  std::vector<double> prev_x(d), prev_g(d), draw(d);
  LbfgsNormal current, best;
  double best_elbo = kNegInf;
  int best_iteration = 0;

  auto estimate_elbo = [&](const LbfgsNormal& q) {
    double sum = 0;
    for (size_t k = 0; k < K; ++k) {
      const double* u = elbo_u.data() + k * d;
      q.transform(u, draw.data());
      const double lp = gd.logp(draw.data());
      // One draw where p vanishes makes KL(q || p) infinite.
      if (lp == kNegInf) return kNegInf;
      sum += lp - q.log_density_standard(u);
    }
    return sum / double(K);
  };

  const optimize::IterateObserver observer = [&](const optimize::Iterate& it) {
    if (it.iteration > 0) {
      history.update(prev_x.data(), prev_g.data(), it.x, it.grad);
      double elbo = kNegInf;
      if (LbfgsNormal::build(history, it.x, it.grad, &current)) elbo = estimate_elbo(current);
      res.elbo.push_back(elbo);
      if (elbo > best_elbo) {
        best_elbo = elbo;
        best_iteration = it.iteration;
        std::swap(best, current);
      }
    }
    std::copy(it.x, it.x + d, prev_x.begin());
    std::copy(it.grad, it.grad + d, prev_g.begin());
    return true;
  };
  const optimize::OptimizeResult opt = optimize::lbfgs(gd, start, options.lbfgs_options(), observer);
  res.lbfgs_termination = opt.termination;

  if (best_iteration == 0) {
    res.grad_evals = gd.evals();
    if (opt.termination == optimize::Termination::kError)
      res.error = "the log density or its gradient is not finite at the initial point";
    else if (res.elbo.empty())
      res.error = fmt::format("L-BFGS made no step from the initial point ({})",
                              optimize::describe(opt.termination));
    else
      res.error = fmt::format(
          "no iterate's ELBO was finite in {} L-BFGS iterations (every approximation had draws "
          "where the log density is -inf, not finite, or throws)",
          res.elbo.size());
    return res;
  }

  res.best_iteration = best_iteration;
  res.best_elbo = best_elbo;
  res.mean = best.mean();
  res.cov_diagonal = best.cov_diagonal();
  const size_t n = size_t(options.num_draws);
  res.draws.reserve(n);
  Rng rng(seed, stream + 2);
  std::vector<double> u(d);
  for (size_t i = 0; i < n; ++i) {
    for (double& v : u) v = rng.normal();
    best.transform(u.data(), draw.data());
    res.draws.x.insert(res.draws.x.end(), draw.begin(), draw.end());
    res.draws.log_p.push_back(gd.logp(draw.data()));
    res.draws.log_q.push_back(best.log_density_standard(u.data()));
  }
  res.grad_evals = gd.evals();
  return res;
}

PathfinderResult pathfinder(const LogDensity& ld, const PathfinderOptions& options, uint64_t seed) {
  options.validate();
  const size_t d = ld.dim();
  if (d == 0) throw std::invalid_argument("pathfinder: the log density has dimension 0");
  if (!options.init.empty() && options.init.size() != d)
    throw std::invalid_argument(fmt::format(
        "pathfinder option init has {} values, the log density has dimension {}",
        options.init.size(), d));

  const unsigned n = unsigned(options.num_paths);
  unsigned threads = options.num_threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, n);

  PathfinderResult out;
  out.paths.resize(n);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<unsigned> next{0};
  auto worker = [&] {
    for (unsigned p; (p = next.fetch_add(1)) < n;) {
      try {
        out.paths[p] = pathfinder_single(ld, options, seed, p);
      } catch (...) {
        errors[p] = std::current_exception();
      }
    }
  };
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);

  ApproxDraws pooled;
  pooled.dim = d;
  std::string reasons;
  for (unsigned p = 0; p < n; ++p) {
    const SinglePathResult& r = out.paths[p];
    out.grad_evals += r.grad_evals;
    if (!r.ok()) {
      reasons += fmt::format("{}path {}: {}", reasons.empty() ? "" : "; ", p + 1, r.error);
      continue;
    }
    pooled.x.insert(pooled.x.end(), r.draws.x.begin(), r.draws.x.end());
    pooled.log_p.insert(pooled.log_p.end(), r.draws.log_p.begin(), r.draws.log_p.end());
    pooled.log_q.insert(pooled.log_q.end(), r.draws.log_q.begin(), r.draws.log_q.end());
  }
  if (pooled.size() == 0)
    throw std::runtime_error("pathfinder: every path failed: " + reasons);

  // Draws where log p is -inf have importance weight 0: they take no part in the fit.
  std::vector<double> ratios;
  std::vector<size_t> index;
  for (size_t i = 0; i < pooled.size(); ++i) {
    const double r = pooled.log_p[i] - pooled.log_q[i];
    if (std::isfinite(r)) {
      ratios.push_back(r);
      index.push_back(i);
    }
  }
  out.pareto_k = std::numeric_limits<double>::quiet_NaN();
  analysis::PsisResult ps;
  if (ratios.size() >= 2) {
    const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
    if (*hi - *lo <= kConstantRatios) {
      // q equals p up to normalisation: uniform weights, no tail to fit (a fit would see only
      // rounding noise, and loo's rule for a constant tail says +inf).
      out.pareto_k = kNegInf;
      ps.log_weights = ratios;
    } else {
      ps = analysis::psis(ratios);
      // Too few draws for a tail: psis's +inf means "not estimated" here, not "poor".
      out.pareto_k = ps.tail_length < analysis::PsisResult::kMinTail ? std::numeric_limits<double>::quiet_NaN()
                                                                     : ps.pareto_k;
    }
  }

  if (!options.psis_resample || n == 1 || ratios.size() < 2) {
    out.draws = std::move(pooled);
    return out;
  }
  // A degenerate tail fit leaves NaN smoothed weights (as loo's qgpd does): the raw ratios
  // are then the best weights there are.
  std::vector<double>& lw = ps.log_weights;
  if (!std::all_of(lw.begin(), lw.end(), [](double v) { return std::isfinite(v); })) lw = ratios;
  const double top = *std::max_element(lw.begin(), lw.end());
  std::vector<double> cumulative(ratios.size());
  double total = 0;
  for (size_t i = 0; i < ratios.size(); ++i) cumulative[i] = total += std::exp(lw[i] - top);
  Rng rng(seed, kResampleStream);
  const size_t m = size_t(options.num_psis_draws);
  ApproxDraws& res = out.draws;
  res.dim = d;
  res.reserve(m);
  for (size_t j = 0; j < m; ++j) {
    const double u = rng.uniform() * total;
    size_t k = size_t(std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
    k = index[std::min(k, ratios.size() - 1)];
    const double* x = pooled.draw(k);
    res.x.insert(res.x.end(), x, x + d);
    res.log_p.push_back(pooled.log_p[k]);
    res.log_q.push_back(pooled.log_q[k]);
  }
  return out;
}

}  // namespace exmc::pathfinder
