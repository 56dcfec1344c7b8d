// optimize and laplace services: the mode of the user's parameterisation (no automatic
// non-centring, all constants kept, Jacobian as asked), and normal draws around it.
#include <unistd.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "exmc/io/cmdstan_csv_reader.hpp"
#include "exmc/io/stan_json.hpp"
#include "exmc/optimize/laplace.hpp"
#include "exmc/optimize/newton.hpp"
#include "exmc/services/methods.hpp"
#include "timing.hpp"

namespace exmc::services {
using detail::Clock;
using detail::seconds_since;

namespace {

// The mode's density: Stan's log_prob<propto = false, jacobian>.
model::CompileOptions mode_compile_options(bool jacobian) { return detail::stan_scale(jacobian, false); }

void lbfgs_block(std::vector<std::string>& b, const optimize::LbfgsOptions& o, int depth) {
  const optimize::LbfgsOptions d;
  b.push_back(config_line(depth, "init_alpha", format_number(o.init_alpha), o.init_alpha == d.init_alpha));
  tolerance_lines(b, o, depth);
  b.push_back(config_line(depth, "history_size", std::to_string(o.history), o.history == d.history));
}

// Newton and the Laplace approximation hold d x d matrices of doubles (the Hessian, its negated
// copy and factor; the eigendecomposition when the factor fails). At 300,000 dimensions that is
// 720 GB a matrix, and the allocation surfaced as a bare std::bad_alloc (Python's MemoryError)
// after the mode search. Refused before any work where the matrices alone exceed the machine's
// memory, saying why and what fits.
void require_dense_matrices_fit(size_t dim, int matrices, const char* what, const char* instead) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return;
  const double memory = double(pages) * double(page);
  const double matrix = double(dim) * double(dim) * sizeof(double);
  if (matrices * matrix <= memory) return;
  const auto size = [](double bytes) {
    return bytes >= 1e9 ? fmt::format("{:.1f} GB", bytes / 1e9) : fmt::format("{:.0f} MB", bytes / 1e6);
  };
  throw std::invalid_argument(fmt::format(
      "{} with {} unconstrained dimensions needs at least {} matrices of {} x {} doubles ({} each, {} in all), but "
      "this machine has {} of memory: {}",
      what, dim, matrices, dim, dim, size(matrix), size(matrices * matrix), size(memory), instead));
}

struct Mode {
  optimize::OptimizeResult result;
  std::vector<std::string> notes, warnings;
};

// The constrained value of each unconstrained coordinate at x, where the coordinate is
// transformed (a bounded scalar or element); identity transforms (mu = 150 is no bound) and
// coordinates without a name of their own (a simplex's, a Cholesky factor's) give none.
class TransformedCoordinates {
 public:
  TransformedCoordinates(const LogDensity& ld, const std::vector<double>& x)
      : x_(x), names_(ld.unconstrained_names()) {
    if (names_.size() != x.size()) {
      names_.clear();
      return;
    }
    const auto vars = ld.output_vars();
    const auto flat = flat_names(vars);
    values_.resize(total_size(vars));
    ld.constrain(x.data(), values_.data());
    for (size_t k = 0; k < flat.size(); ++k) at_.emplace(flat[k], k);
  }
  bool known() const { return !names_.empty(); }
  const std::string& name(size_t i) const { return names_[i]; }
  // The constrained value of coordinate i, or nullptr where it is not a transformed one.
  const double* value(size_t i) const {
    const auto it = at_.find(names_[i]);
    if (it == at_.end() || values_[it->second] == x_[i]) return nullptr;
    return &values_[it->second];
  }

 private:
  const std::vector<double>& x_;
  std::vector<std::string> names_;
  std::vector<double> values_;
  std::map<std::string, size_t> at_;
};

// A mode with a transformed coordinate beyond +-100 on the unconstrained scale (a scale of
// e^-100 = 4e-44, a probability within 4e-44 of 1) is pressed against its variable's bound. Either
// the density grows toward the bound without end (one observation of normal(mu, s) and no prior
// on s gave s = 1.4e-87, lp__ 199, "converged") or it is highest at the bound itself, a finite
// maximum on the boundary (posteriordb's Mtbh: sigma ~ uniform(0, 3) ends at 3, unconstrained
// 219, which is the answer, as Stan gives it). Which one is measured, not guessed from the
// distance: log p with that coordinate moved back to +-kInside, every other coordinate kept.
// Growth without end gains ~|x| - kInside nats over that stretch (-log s per unit); a bounded
// density changes there by its slope times e^-kInside, nothing. Coordinates whose constrained
// value is their own (identity transforms: mu = 150 is no bound) are not looked at.
void warn_of_mode_at_bound(const LogDensity& ld, const std::vector<double>& x, std::vector<std::string>& notes,
                           std::vector<std::string>& warnings) {
  constexpr double kPressed = 100, kInside = 50, kGrowth = 1;
  const TransformedCoordinates coords(ld, x);
  if (!coords.known()) return;
  const double logp_here = ld.logp(x.data());
  std::vector<std::string> pressed, on_bound;
  std::vector<double> inside = x;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(std::fabs(x[i]) > kPressed)) continue;
    const double* value = coords.value(i);
    if (!value) continue;
    inside[i] = std::copysign(kInside, x[i]);
    const double logp_inside = ld.logp(inside.data());
    inside[i] = x[i];
    const std::string what = fmt::format("'{}' = {:.3g} (unconstrained {:.4g})", coords.name(i), *value, x[i]);
    if (std::isfinite(logp_here) && std::isfinite(logp_inside) && logp_here - logp_inside <= kGrowth)
      on_bound.push_back(what);
    else
      pressed.push_back(what);
  }
  if (!on_bound.empty())
    notes.push_back(fmt::format(
        "{} {} on {} bound: the density is highest at the edge of the support and finite there (log p changes by "
        "less than {} between it and e^-{:g} inside), a maximum on the boundary",
        fmt::join(on_bound, ", "), on_bound.size() == 1 ? "lies" : "lie", on_bound.size() == 1 ? "its" : "their",
        kGrowth, kInside));
  if (pressed.empty()) return;
  warnings.push_back(fmt::format(
      "{} {} pressed against {} bound: the density keeps growing toward it (an improper or degenerate "
      "posterior: a parameter without a proper prior that the data do not identify, such as a scale fitted to "
      "one observation), so this is no mode. Give every parameter a proper prior",
      fmt::join(pressed, ", "), pressed.size() == 1 ? "is" : "are", pressed.size() == 1 ? "its" : "their"));
}

// A "converged" ascent that stopped on a bounded coordinate still being driven toward its bound:
// beyond kFar on the unconstrained scale (a scale below e^-10 = 4.5e-5 of its own units, a
// probability within 4.5e-5 of 0 or 1) the log density still rises by more than kPush per unit
// of that coordinate toward the bound. At a mode the gradient is ~0, and a density bounded at its
// bound (5 successes of 5: the MLE p = 1) flattens there, its gradient fading like e^-x (5e-12
// when L-BFGS stops). The centred eight schools has no mode (theta = mu and tau -> 0 grows like
// -8 log tau): L-BFGS stopped at tau = 1.2e-16, lp__ 246, gradient -8 on log tau, because the
// theta directions' curvature 1/tau^2 made its steps too small to change log p by tol_obj, and it
// said "Convergence detected" with exit 0 (helper 41's finding). There the gradient itself is noise
// (theta - mu at its rounding floor over tau^2: a norm of 1e16, its log tau entry +0.7 on some seeds),
// so a norm beyond kStalled with such a coordinate counts as well: no mode has either.
// Returns the coordinates so found.
std::vector<std::string> still_driven_to_bound(const LogDensity& ld, const std::vector<double>& x,
                                               const std::vector<double>& grad) {
  constexpr double kFar = 10, kPush = 1, kStalled = 1e8;
  std::vector<std::string> driven;
  const TransformedCoordinates coords(ld, x);
  if (!coords.known() || grad.size() != x.size()) return driven;
  double norm = 0;
  for (double g : grad) norm += g * g;
  norm = std::sqrt(norm);
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(std::fabs(x[i]) > kFar)) continue;
    const bool pushed = std::copysign(1.0, x[i]) * grad[i] > kPush, stalled = !(norm < kStalled);
    if (!pushed && !stalled) continue;
    const double* value = coords.value(i);
    if (!value) continue;
    driven.push_back(pushed ? fmt::format("'{}' = {:.3g} (unconstrained {:.4g}, where log p still rises by {:.3g} per "
                                          "unit toward the bound)",
                                          coords.name(i), *value, x[i], std::fabs(grad[i]))
                            : fmt::format("'{}' = {:.3g} (unconstrained {:.4g}, where the gradient's norm is {:.3g}: "
                                          "the steps stopped at floating-point resolution, not at a mode)",
                                          coords.name(i), *value, x[i], norm));
  }
  return driven;
}

Mode find_mode(const LogDensity& ld, const OptimizeSettings& s, uint64_t seed) {
  Mode m;
  const auto x0 = initial_point(ld, s.init, seed, 0, &m.warnings);
  if (s.algorithm == OptimizeSettings::Algorithm::kNewton) {
    require_dense_matrices_fit(ld.dim(), 3, "the newton algorithm (a dense Hessian a step)",
                               "use the lbfgs algorithm (the default), which keeps a few vectors");
    optimize::NewtonOptions no;
    no.max_iterations = s.lbfgs.max_iterations;
    static_cast<optimize::ConvergenceTolerances&>(no) = s.lbfgs;  // --tol-* apply to Newton too
    m.result = optimize::newton(ld, x0, no);
  } else {
    m.result = optimize::lbfgs(ld, x0, s.lbfgs);
  }
  const auto& r = m.result;
  const std::string what = optimize::describe(r.termination);
  const std::vector<std::string> driven = r.converged() ? still_driven_to_bound(ld, r.x, r.grad)
                                                        : std::vector<std::string>{};
  if (!driven.empty()) {
    m.warnings.push_back(fmt::format(
        "did not converge: the optimizer stopped after {1} iterations (its test said: {0}) with {2} still driven toward {3} bound: "
        "the log density grows without end there (no mode: a hierarchical scale whose group effects can all "
        "equal their mean, or a parameter without a proper prior that the data do not identify), so this point "
        "is no mode and its lp__ means nothing. Sample instead, or reparameterise (non-centred) or give the "
        "parameter a prior that keeps it off the bound",
        what, r.iterations, fmt::join(driven, ", "), driven.size() == 1 ? "its" : "their"));
  } else if (r.converged()) {
    m.notes.push_back(what + " (" + std::to_string(r.iterations) + " iterations, " +
                      std::to_string(r.grad_evals) + " gradient evaluations)");
    warn_of_mode_at_bound(ld, r.x, m.notes, m.warnings);
  } else if (r.termination == optimize::Termination::kMaxIterations) {
    m.warnings.push_back(what + ": the result may not be a mode");
  } else {
    throw std::runtime_error("optimization did not converge: " + what + " (after " +
                             std::to_string(r.iterations) + " iterations; log density " +
                             format_number(r.logp) + ")");
  }
  return m;
}

// Constrained values of the mode from a Stan JSON file or an optimize CSV (its last row: CmdStan's
// save_iterations writes the path there, the optimum last).
std::vector<double> read_mode(const LogDensity& ld, const std::string& path, bool jacobian) {
  std::vector<std::pair<std::string, std::vector<double>>> values;
  const auto vars = ld.output_vars();
  const bool csv = path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  if (csv) {
    const auto f = io::read_cmdstan_csv(path);
    if (f.num_rows < 1) throw std::runtime_error(path + ": no rows (expected the mode)");
    // Any CmdStan CSV read: `exmc sample`'s output gave its first draw as "the mode", and an
    // `exmc optimize` run without --jacobian (its default, laplace's opposite) the penalised MLE,
    // not the mode of the density laplace approximates. Either made a confident wrong answer.
    const auto method = f.config.find("method");
    if (method != f.config.end() && method->second != "optimize")
      throw std::runtime_error("--mode " + path + ": the output of method " + method->second +
                               ", not of optimize: its rows are not the mode");
    if (method == f.config.end() && f.num_rows > 1)
      throw std::runtime_error("--mode " + path + ": " + std::to_string(f.num_rows) +
                               " rows and no '# method = optimize' line: which row is the mode is unknown");
    const auto jac = f.config.find("jacobian");
    if (jac != f.config.end() && (jac->second == "1" || jac->second == "true") != jacobian)
      throw std::runtime_error(
          "--mode " + path + ": optimized with jacobian = " + jac->second + ", but laplace " +
          (jacobian ? "keeps" : "leaves out") + " the Jacobian: that is the mode of another density. Run " +
          (jacobian ? "exmc optimize --jacobian, or laplace --no-jacobian" : "exmc optimize without --jacobian"));
    const size_t row = f.num_rows - 1;
    for (const auto& v : vars) {
      std::vector<double> vals;
      for (const auto& name : flat_names({v})) {
        const long c = f.column(name);
        if (c < 0) break;
        vals.push_back(f.at(row, size_t(c)));
      }
      if (vals.size() == v.size()) values.emplace_back(v.name, std::move(vals));
    }
  } else {
    const auto json = io::StanJsonData::from_file(path);
    for (const auto& name : json.names()) {
      const auto& v = json.at(name);
      values.emplace_back(name, io::to_column_major(v.values, v.dims));
    }
  }
  std::vector<double> x(ld.dim());
  std::string err;
  if (!ld.unconstrain(values, x.data(), &err)) throw std::runtime_error("--mode " + path + ": " + err);
  return x;
}

}  // namespace

namespace {

MethodRun run_optimize(const Program& program, const OptimizeSettings& s, uint64_t seed) {
  MethodRun run;
  const auto density = detail::compile_timed(program, mode_compile_options(s.jacobian), run);
  const detail::CancellableDensity ld(*density, s.cancel);
  const auto t0 = Clock::now();
  Mode m = find_mode(ld, s, seed);
  run.seconds = seconds_since(t0);
  run.grad_evals = m.result.grad_evals;
  run.notes = std::move(m.notes);
  run.warnings = std::move(m.warnings);

  auto& b = run.method_block;
  const bool newton = s.algorithm == OptimizeSettings::Algorithm::kNewton;
  b.push_back("method = optimize");
  b.push_back("  optimize");
  b.push_back(config_line(2, "algorithm", newton ? "newton" : "lbfgs", !newton));
  if (newton) {
    b.push_back("      newton");
  } else {
    b.push_back("      lbfgs");
    lbfgs_block(b, s.lbfgs, 4);
  }
  b.push_back(config_line(2, "jacobian", s.jacobian ? "1" : "0", !s.jacobian));
  b.push_back(config_line(2, "iter", std::to_string(s.lbfgs.max_iterations), s.lbfgs.max_iterations == 2000));
  b.push_back(config_line(2, "save_iterations", "0", true));

  TableBuilder table(program, *density, {"lp__"}, seed);
  table.add(m.result.x.data(), &m.result.logp);
  run.draws = table.take();
  detail::warn_of_runaway_values(run);
  return run;
}

MethodRun run_laplace(const Program& program, const LaplaceSettings& s, uint64_t seed) {
  MethodRun run;
  const auto density = detail::compile_timed(program, mode_compile_options(s.jacobian), run);
  detail::require_parameters(program, *density);
  require_dense_matrices_fit(density->dim(), 2, "laplace (the Hessian at the mode and its factor)",
                             "use variational or pathfinder, which approximate without a dense Hessian, or sample");
  const runtime::CancelToken* cancel = s.optimize.cancel;
  const detail::CancellableDensity ld(*density, cancel);
  const auto t0 = Clock::now();
  std::vector<double> mode;
  if (!s.mode_file.empty()) {
    mode = read_mode(*density, s.mode_file, s.jacobian);
  } else {
    OptimizeSettings os = s.optimize;
    os.jacobian = s.jacobian;
    Mode m = find_mode(ld, os, seed);
    mode = m.result.x;
    run.grad_evals += m.result.grad_evals;
    for (auto& n : m.notes) run.notes.push_back("mode: " + n);
    for (auto& w : m.warnings) run.warnings.push_back("mode: " + w);
  }
  uint64_t hessian_evals = 0;
  Gaussian normal;
  try {
    detail::throw_if_cancelled(cancel);
    normal = optimize::laplace_approximation(ld, mode, &hessian_evals);
  } catch (const std::runtime_error& e) {
    // Which mode: the engine's words ("the Hessian at the mode is not negative definite") named
    // neither the file given nor that the mode was optimised here.
    throw std::runtime_error((s.mode_file.empty() ? std::string("the mode found by optimization")
                                                  : "--mode " + s.mode_file) +
                             ": " + e.what());
  }
  detail::throw_if_cancelled(cancel);
  const ApproxDraws draws =
      optimize::laplace_draws(ld, normal, s.draws, seed, [cancel] { return cancel && cancel->cancelled(); });
  detail::throw_if_cancelled(cancel);
  run.grad_evals += hessian_evals + draws.size();
  run.seconds = seconds_since(t0);

  auto& b = run.method_block;
  b.push_back("method = laplace");
  b.push_back("  laplace");
  b.push_back(config_line(2, "mode", s.mode_file.empty() ? "(optimized)" : s.mode_file, false));
  b.push_back(config_line(2, "jacobian", s.jacobian ? "1" : "0", s.jacobian));
  b.push_back(config_line(2, "draws", std::to_string(s.draws), s.draws == 1000));

  TableBuilder table(program, *density, {"log_p__", "log_g__"}, seed);
  for (size_t i = 0; i < draws.size(); ++i) {
    detail::throw_if_cancelled(cancel);
    const double lp[2] = {draws.log_p[i], draws.log_q[i]};
    table.add(draws.draw(i), lp);
  }
  run.draws = table.take();
  detail::warn_of_runaway_values(run);
  detail::check_importance_ratios(run, draws);
  return run;
}

}  // namespace

MethodRun optimize(const Program& program, const OptimizeSettings& s, uint64_t seed) {
  return detail::cancellable(s.cancel, [&] { return run_optimize(program, s, seed); });
}

MethodRun laplace(const Program& program, const LaplaceSettings& s, uint64_t seed) {
  return detail::cancellable(s.optimize.cancel, [&] { return run_laplace(program, s, seed); });
}

}  // namespace exmc::services
