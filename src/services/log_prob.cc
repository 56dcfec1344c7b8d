// CmdStan's log_prob method: the log density and its gradient at given points.
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "exmc/services/methods.hpp"
#include "timing.hpp"

namespace exmc::services {
namespace {

// "g_" and a name per unconstrained coordinate, with an index where several share a name (a
// simplex's K - 1 coordinates are all 's'): g_s.1, g_s.2, as CmdStan numbers them.
std::vector<std::string> gradient_columns(const LogDensity& density) {
  std::vector<std::string> names = density.unconstrained_names();
  if (names.size() != density.dim()) {
    names.clear();
    for (size_t i = 0; i < density.dim(); ++i) names.push_back("x." + std::to_string(i + 1));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < names.size();) {
    size_t j = i;
    while (j < names.size() && names[j] == names[i]) ++j;
    for (size_t k = i; k < j; ++k)
      out.push_back("g_" + (j - i > 1 ? fmt::format("{}.{}", names[i], k - i + 1) : names[i]));
    i = j;
  }
  return out;
}

// The constrained values of each fitted draw, found by the variables' flat column names (those
// of transformed parameters too: unconstrain() takes the parameters among them).
void unconstrain_draws(const graph::CompiledDensity& density, const FittedDraws& f,
                       std::vector<std::vector<double>>& points) {
  const auto vars = density.output_vars();
  const auto where = detail::locate(f, vars);
  std::vector<std::pair<std::string, std::vector<double>>> given;
  for (size_t r = 0; r < f.num_rows; ++r) {
    const double* in = f.values.data() + r * f.columns.size();
    given.clear();
    for (size_t k = 0; k < vars.size(); ++k) {
      if (where[k].empty()) continue;
      std::vector<double> v;
      for (size_t i : where[k]) v.push_back(in[i]);
      given.emplace_back(vars[k].name, std::move(v));
    }
    std::vector<double> x(density.dim());
    std::string error;
    if (!density.unconstrain(given, x.data(), &error))
      throw std::runtime_error(fmt::format("{}, draw {}: {}", f.name, r + 1, error));
    points.push_back(std::move(x));
  }
}

}  // namespace

MethodRun log_prob(const Program& program, const LogProbSettings& settings) {
  MethodRun run;
  // Stan's parameterisation: the points are a user's (a fit's draws, CmdStan's params_r).
  const auto density = detail::compile_timed(program, detail::stan_scale(settings.jacobian, true), run);
  const auto t0 = detail::Clock::now();
  const size_t d = density->dim();

  std::vector<std::vector<double>> points;
  if (!settings.constrained_json.empty()) {
    const auto values = read_init_file(settings.constrained_json, density->output_vars());
    if (!values.ignored.empty()) run.warnings.push_back(describe_ignored(settings.constrained_json, values.ignored));
    std::vector<double> x(d);
    std::string error;
    if (!density->unconstrain(values.values, x.data(), &error))
      throw std::runtime_error(settings.constrained_json + ": " + error);
    points.push_back(std::move(x));
  }
  for (const auto& f : settings.constrained) unconstrain_draws(*density, f, points);
  for (size_t i = 0; i < settings.unconstrained.size(); ++i) {
    if (settings.unconstrained[i].size() != d)
      throw std::runtime_error(fmt::format("{}: point {} has {} values, but {} has {} unconstrained parameters",
                                           settings.source, i + 1, settings.unconstrained[i].size(),
                                           program.model_name(), d));
    points.push_back(settings.unconstrained[i]);
  }
  if (points.empty()) throw std::runtime_error(settings.source + ": no points to evaluate the log density at");

  DrawTable& t = run.draws;
  t.columns = {"lp__"};
  const auto g_names = gradient_columns(*density);
  t.columns.insert(t.columns.end(), g_names.begin(), g_names.end());
  t.num_method_columns = t.columns.size();
  t.values.reserve(points.size() * t.columns.size());
  std::vector<double> g(d);
  size_t not_finite = 0;
  for (const auto& x : points) {
    double lp;
    try {
      lp = density->logp_grad(x.data(), g.data());
    } catch (const std::exception& e) {
      // As the sampler reads a throwing density: no value there (CmdStan's log_prob stops).
      lp = -INFINITY;
      std::fill(g.begin(), g.end(), std::nan(""));
      if (not_finite == 0) run.warnings.push_back(std::string("the log density threw at a point: ") + e.what());
    }
    not_finite += !std::isfinite(lp);
    t.values.push_back(lp);
    t.values.insert(t.values.end(), g.begin(), g.end());
  }
  if (not_finite > 0)
    run.warnings.push_back(fmt::format("the log density is not finite at {} of the {} points", not_finite,
                                       points.size()));
  // The file named goes on the line of its kind; the other line is empty, CmdStan's default.
  const bool given_unconstrained = !settings.unconstrained.empty();
  run.method_block = {"method = log_prob", "  log_prob",
                      config_line(2, "jacobian", settings.jacobian ? "1" : "0", settings.jacobian),
                      config_line(2, "constrained_params", given_unconstrained ? "" : settings.source,
                                  given_unconstrained),
                      config_line(2, "unconstrained_params", given_unconstrained ? settings.source : "",
                                  !given_unconstrained)};
  run.seconds = detail::seconds_since(t0);
  run.notes.push_back(fmt::format("{} point{}, {} unconstrained parameter{}", points.size(),
                                  points.size() == 1 ? "" : "s", d, d == 1 ? "" : "s"));
  return run;
}

}  // namespace exmc::services
