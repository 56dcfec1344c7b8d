// variational service: ADVI on the sampler's own density; CmdStan's variational rows (the mean
// first, then draws with lp__ = 0, log_p__, log_g__).

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "exmc/services/methods.hpp"
#include "timing.hpp"

namespace exmc::services {
using detail::Clock;
using detail::seconds_since;

namespace {

// The coordinates whose marginal sd is below the rounding of their mean (mean + sd == mean): every
// draw is the mean there, as if the scale were 0. ADVI's own check of the scale catches 0 and
// infinity only, and a step of eta 100 left posteriordb's GLM_Poisson_model at sds near 1e-49 (its
// bounded parameters pinned to their bounds): 1,000 identical draws, "converged", and a note that
// the constant importance ratios made the approximation the posterior, exit 0.
std::vector<size_t> collapsed_coordinates(const Gaussian& q, std::vector<double>& sd) {
  const size_t d = q.dim();
  const auto& m = q.mean();
  const auto& l = q.scale();
  sd.assign(d, 0.0);
  std::vector<size_t> at;
  for (size_t i = 0; i < d; ++i) {
    if (q.is_diagonal()) {
      sd[i] = l[i];
    } else {
      double ss = 0;  // row i of the column-major Cholesky factor
      for (size_t j = 0; j <= i; ++j) ss += l[i + j * d] * l[i + j * d];
      sd[i] = std::sqrt(ss);
    }
    if (m[i] + sd[i] == m[i]) at.push_back(i);
  }
  return at;
}

MethodRun run_method(const Program& program, const VariationalSettings& s, uint64_t seed) {
  MethodRun run;
  const auto density = detail::compile_timed(program, {}, run);
  detail::require_parameters(program, *density);
  const detail::CancellableDensity ld(*density, s.cancel);
  const auto t0 = Clock::now();
  const auto x0 = initial_point(ld, s.init, seed, 0, &run.warnings);
  const auto result = variational::advi(ld, s.options, seed, x0.data());
  detail::throw_if_cancelled(s.cancel);
  // As Stan: a diverged ADVI is an error, not draws from a broken approximation.
  if (result.diverged) throw std::runtime_error("ADVI diverged: " + result.message);
  std::vector<double> sd;
  if (const auto at = collapsed_coordinates(result.approximation, sd); !at.empty()) {
    const auto names = ld.unconstrained_names();
    const size_t i = at.front();
    throw std::runtime_error(fmt::format(
        "ADVI diverged: the approximation collapsed to a point: the sd of {} on the unconstrained scale is {:.3g} "
        "at a mean of {:.6g}, below the mean's rounding, so every draw is that one value{}; it describes no "
        "distribution, whatever its ELBO's relative change says. eta {} may be too large (try --no-adapt --eta "
        "with a smaller value, or another --seed)",
        i < names.size() ? "'" + names[i] + "'" : fmt::format("coordinate {}", i + 1), sd[i],
        result.approximation.mean()[i],
        at.size() > 1 ? fmt::format(" (and so at {} more coordinates)", at.size() - 1) : "", format_number(result.eta)));
  }
  run.seconds = seconds_since(t0);
  run.grad_evals = result.grad_evals;

  const auto& o = s.options;
  const variational::AdviOptions d;
  const bool fullrank = o.family == variational::AdviOptions::Family::kFullrank;
  auto& b = run.method_block;
  b.push_back("method = variational");
  b.push_back("  variational");
  b.push_back(config_line(2, "algorithm", fullrank ? "fullrank" : "meanfield", !fullrank));
  b.push_back(fullrank ? "      fullrank" : "      meanfield");
  b.push_back(config_line(2, "iter", std::to_string(o.iter), o.iter == d.iter));
  b.push_back(config_line(2, "grad_samples", std::to_string(o.grad_samples), o.grad_samples == d.grad_samples));
  b.push_back(config_line(2, "elbo_samples", std::to_string(o.elbo_samples), o.elbo_samples == d.elbo_samples));
  b.push_back(config_line(2, "eta", format_number(result.eta), result.eta == d.eta));
  b.push_back("    adapt");
  b.push_back(config_line(3, "engaged", o.adapt_engaged ? "1" : "0", o.adapt_engaged));
  b.push_back(config_line(3, "iter", std::to_string(o.adapt_iter), o.adapt_iter == d.adapt_iter));
  b.push_back(config_line(2, "tol_rel_obj", format_number(o.tol_rel_obj), o.tol_rel_obj == d.tol_rel_obj));
  b.push_back(config_line(2, "eval_elbo", std::to_string(o.eval_elbo), o.eval_elbo == d.eval_elbo));
  b.push_back(config_line(2, "output_samples", std::to_string(o.output_draws), o.output_draws == d.output_draws));

  if (!result.trace.empty()) {
    const auto& last = result.trace.back();
    run.notes.push_back("ELBO " + format_number(last.elbo) + " after " + std::to_string(result.iterations) +
                        " iterations (eta " + format_number(result.eta) + "; mean relative change " +
                        format_number(last.rel_mean) + ", median " + format_number(last.rel_median) + ")");
  }
  if (result.converged) run.notes.push_back("relative ELBO change below tol_rel_obj: converged");
  else run.warnings.push_back("did not converge" + (result.message.empty() ? "" : ": " + result.message));
  if (result.rejected_draws > 0)
    run.warnings.push_back(std::to_string(result.rejected_draws) + " of " + std::to_string(result.optimisation_draws) +
                           " Monte Carlo draws had a non-finite log density or gradient and were dropped");

  TableBuilder table(program, *density, {"lp__", "log_p__", "log_g__"}, seed);
  const double zeros[3] = {0, 0, 0};
  table.add(result.approximation.mean().data(), zeros);
  const auto& draws = result.draws;
  for (size_t i = 0; i < draws.size(); ++i) {
    detail::throw_if_cancelled(s.cancel);
    const double lp[3] = {0, draws.log_p[i], draws.log_q[i]};
    table.add(draws.draw(i), lp);
  }
  run.draws = table.take();
  detail::warn_of_runaway_values(run);
  detail::check_importance_ratios(run, draws);
  return run;
}

}  // namespace

MethodRun variational(const Program& program, const VariationalSettings& s, uint64_t seed) {
  return detail::cancellable(s.cancel, [&] { return run_method(program, s, seed); });
}

}  // namespace exmc::services
