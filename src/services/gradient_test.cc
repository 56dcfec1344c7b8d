// CmdStan's diagnose method: the gradient against central finite differences (gradient_test.hpp).
#include "exmc/services/gradient_test.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "timing.hpp"

namespace exmc::services {

GradientTest gradient_test(const Program& program, const GradientTestSettings& s, uint64_t seed) {
  if (!(s.epsilon > 0) || !std::isfinite(s.epsilon))
    throw std::invalid_argument(fmt::format("epsilon: {} is not a positive step", s.epsilon));
  if (!(s.error > 0) || !std::isfinite(s.error))
    throw std::invalid_argument(fmt::format("error: {} is not a positive tolerance", s.error));
  // The coordinates of Stan's transforms, with the log-Jacobians, as CmdStan tests them.
  const auto density = program.compile(detail::stan_scale(true, true));
  const size_t d = density->dim();
  GradientTest out;
  if (d == 0) throw std::runtime_error(program.model_name() + ": the program has no parameters: no gradient to test");
  std::vector<double> x = initial_point(*density, s.init, seed, 0, &out.warnings);
  std::vector<double> g(d), scratch(d);
  // A throw is a point where the density is not usable, as the sampler reads it.
  const auto logp = [&](double* grad) {
    try {
      return density->logp_grad(x.data(), grad);
    } catch (const std::exception&) {
      return std::nan("");
    }
  };
  out.log_prob = logp(g.data());
  if (!std::isfinite(out.log_prob))
    throw std::runtime_error(fmt::format("the log density is {} at the point", out.log_prob));
  // CmdStan's absolute --error alone failed most real programs at a random point: with
  // |log p| ~ 1e4 (thousands of observations) the differences' own rounding, about
  // 2^-52 |log p| / epsilon, is 1e-6 already. The tolerance is relative to the gradient, plus
  // 100 times that rounding; a wrong gradient (a term missing, a sign) is off by far more.
  const double rounding = 100 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::fabs(out.log_prob)) /
                          s.epsilon;
  const auto allowed = [&](double fd) { return s.error * std::max(1.0, std::fabs(fd)) + rounding; };
  std::vector<std::string> names = density->unconstrained_names();
  if (names.size() != d) names.assign(d, "");
  for (size_t i = 0; i < d; ++i) {
    // Central differences, as CmdStan's finite_diff_grad: truncation error of order epsilon^2,
    // rounding error of order 1e-16 |log p| / epsilon.
    const double xi = x[i];
    x[i] = xi + s.epsilon;
    const double plus = logp(scratch.data());
    x[i] = xi - s.epsilon;
    const double minus = logp(scratch.data());
    x[i] = xi;
    GradientTestRow r;
    r.name = names[i];
    r.value = xi;
    r.model = g[i];
    r.finite_diff = (plus - minus) / (2 * s.epsilon);
    r.error = r.model - r.finite_diff;
    r.fails = !(std::fabs(r.error) <= allowed(r.finite_diff));  // NaN fails
    out.failures += r.fails;
    out.rows.push_back(std::move(r));
  }
  return out;
}

std::string format_gradient_test(const GradientTest& t) {
  std::string s = fmt::format("TEST GRADIENT MODE\n\n Log probability={:g}\n\n", t.log_prob);
  s += fmt::format(" {:>9} {:>15} {:>15} {:>15} {:>15}  {}\n", "param idx", "value", "model", "finite diff",
                   "error", "variable");
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    s += fmt::format(" {:>9} {:>15g} {:>15g} {:>15g} {:>15g}  {}{}\n", i, r.value, r.model, r.finite_diff, r.error,
                     r.name, r.fails ? "  <- fails" : "");
  }
  return s;
}

}  // namespace exmc::services
