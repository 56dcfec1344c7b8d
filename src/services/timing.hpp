// What every method service does first: compile the program's density for the method and time
// it into MethodRun::compile_ms; and the clock the services time their runs with.
#pragma once

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>

#include "exmc/core/approx_draws.hpp"
#include "exmc/services/methods.hpp"

namespace exmc::services::detail {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The density on Stan's unconstrained scale: its transforms, no automatic non-centring (a change
// of variables that would move a mode, the coordinates of a user's point and the Jacobian).
// What optimize, laplace, log_prob and the gradient test compile; propto keeps Stan's ~ rule.
inline model::CompileOptions stan_scale(bool jacobian, bool propto) {
  model::CompileOptions o;
  o.ncp = model::Ncp::kOff;
  o.jacobian = jacobian;
  o.propto = propto;
  return o;
}

inline std::unique_ptr<graph::CompiledDensity> compile_timed(const Program& program, const model::CompileOptions& options,
                                                             MethodRun& run) {
  const auto t = Clock::now();
  auto density = program.compile(options);
  run.compile_ms = seconds_since(t) * 1e3;
  return density;
}

// A method's density that gives NaN (value and gradient) once `cancel` is set: the engines (L-BFGS,
// Pathfinder, ADVI, SMC's mutations) have no cancellation of their own, and each takes NaN as
// "no value here" and stops or rejects at once, where without it a Ctrl-C waited for the whole
// run. With no token it is not used (the command's runs are ended by their signal handler).
class CancellableDensity final : public LogDensity {
 public:
  CancellableDensity(const LogDensity& inner, const runtime::CancelToken* cancel) : inner_(inner), cancel_(cancel) {}
  size_t dim() const override { return inner_.dim(); }
  double logp_grad(const double* x, double* g) const override {
    if (!cancelled()) return inner_.logp_grad(x, g);
    std::fill(g, g + inner_.dim(), std::numeric_limits<double>::quiet_NaN());
    return std::numeric_limits<double>::quiet_NaN();
  }
  double logp(const double* x) const override {
    return cancelled() ? std::numeric_limits<double>::quiet_NaN() : inner_.logp(x);
  }
  std::vector<VarInfo> output_vars() const override { return inner_.output_vars(); }
  void constrain(const double* x, double* out) const override { inner_.constrain(x, out); }
  std::vector<std::string> unconstrained_names() const override { return inner_.unconstrained_names(); }
  bool unconstrain(const std::vector<std::pair<std::string, std::vector<double>>>& values, double* x,
                   std::string* error) const override {
    return inner_.unconstrain(values, x, error);
  }

 private:
  bool cancelled() const { return cancel_ && cancel_->cancelled(); }
  const LogDensity& inner_;
  const runtime::CancelToken* cancel_;
};

inline void throw_if_cancelled(const runtime::CancelToken* cancel) {
  if (cancel && cancel->cancelled()) throw Cancelled();
}

// f() (the method's work), with whatever it throws after a cancellation (an engine's "no finite
// initial point" from the NaN above) turned into Cancelled, and a run that ends normally after
// one refused too: its results were computed on NaN.
template <class F>
MethodRun cancellable(const runtime::CancelToken* cancel, F&& f) {
  try {
    MethodRun run = f();
    throw_if_cancelled(cancel);
    return run;
  } catch (const Cancelled&) {
    throw;
  } catch (...) {
    throw_if_cancelled(cancel);
    throw;
  }
}

// laplace, pathfinder, variational and smc approximate a distribution over the parameters: a
// program without any has none (laplace crashed with SIGFPE inside Eigen; the others named their
// engine's internals: "advi: the log density has no parameters (dim() == 0)").
inline void require_parameters(const Program& program, const graph::CompiledDensity& density) {
  if (density.dim() == 0)
    throw std::runtime_error(program.model_name() + " has no parameters: there is nothing to approximate (its "
                             "generated quantities need no fit: sample runs them with the fixed_param sampler)");
}

// What every method service does last: a warning when the values it found run off toward the
// floating-point range (beyond analysis::DiagnoseThresholds::runaway, 1e30, as diagnose says of
// draws), where no real quantity lives and an unbounded density does: L-BFGS "converges" there by
// its relative tests (target += x: a mode at x = 3e32, exit 0), and pathfinder's draws all sit
// there with equal importance ratios (Pareto k = -inf, "close to the posterior").
void warn_of_runaway_values(MethodRun& run);

// What variational and laplace say of how close their approximation is (pathfinder records its
// own k): the Pareto k of the draws' importance ratios log_p - log_q (Yao et al. 2018), noted,
// and above 0.7 warned of, with diagnose's thresholds; draws where log_p is -inf or NaN are
// warned of (the approximation puts mass where the posterior has none); constant ratios are the
// posterior itself; too few draws give no k. Both exited 0 without a word before, e.g. meanfield
// on posteriordb's kidiq-kidscore_momiq with beta[2] 3.8 posterior sds off (k 1.12), laplace on
// eight_schools_noncentered with tau 13 sds off (k 1.28).
void check_importance_ratios(MethodRun& run, const ApproxDraws& draws);

// Where each variable's flat elements are among a fit's columns: one column index per element,
// or none when the fit has none of them (a transformed parameter an older program did not have).
// Throws std::runtime_error naming the fit for some but not all of a variable's columns, and for
// a column past the variable's shape (a fit with J = 8 read with data of J = 7): taking the
// first ones would pass off another model's draws as this one's. generate_quantities and
// log_prob read fits so.
std::vector<std::vector<size_t>> locate(const FittedDraws& f, const std::vector<VarInfo>& vars);

}  // namespace exmc::services::detail
