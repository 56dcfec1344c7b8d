// What every method service shares: header lines, number formatting, the CSV writer call.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "exmc/analysis/diagnose.hpp"
#include "exmc/analysis/psis.hpp"
#include "timing.hpp"

#include "exmc/io/cmdstan_csv_writer.hpp"
#include "exmc/services/methods.hpp"

namespace exmc::services {

std::string format_number(double v, int significant_digits) {
  char b[40];
  std::snprintf(b, sizeof b, "%.*g", significant_digits, v);
  return b;
}

std::string config_line(int depth, const std::string& name, const std::string& value, bool is_default) {
  return std::string(size_t(2 * depth), ' ') + name + " = " + value + (is_default ? " (Default)" : "");
}

void tolerance_lines(std::vector<std::string>& b, const optimize::ConvergenceTolerances& t, int depth) {
  const optimize::ConvergenceTolerances d;
  b.push_back(config_line(depth, "tol_obj", format_number(t.tol_obj), t.tol_obj == d.tol_obj));
  b.push_back(config_line(depth, "tol_rel_obj", format_number(t.tol_rel_obj), t.tol_rel_obj == d.tol_rel_obj));
  b.push_back(config_line(depth, "tol_grad", format_number(t.tol_grad), t.tol_grad == d.tol_grad));
  b.push_back(config_line(depth, "tol_rel_grad", format_number(t.tol_rel_grad), t.tol_rel_grad == d.tol_rel_grad));
  b.push_back(config_line(depth, "tol_param", format_number(t.tol_param), t.tol_param == d.tol_param));
}

void write_csv(const std::string& path, const Program& program, const MethodRun& run, uint64_t seed,
               const std::string& init_text, int sig_figs) {
  io::CmdStanCsvHeader h;
  h.model = program.model_name();
  h.data_file = program.data_path();
  h.init = init_text;
  h.seed = seed;
  h.sig_figs = sig_figs;
  h.run_id = run.run_id.empty() ? io::new_run_id() : run.run_id;  // `exmc summary` tells runs apart
  h.method_block = run.method_block;
  h.extra = run.extra;
  const auto& t = run.draws;
  const std::vector<std::string> method_cols(t.columns.begin(),
                                             t.columns.begin() + std::ptrdiff_t(t.num_method_columns));
  const std::vector<std::string> value_cols(t.columns.begin() + std::ptrdiff_t(t.num_method_columns),
                                            t.columns.end());
  io::CmdStanCsvWriter w(path, h, method_cols, value_cols);
  for (size_t r = 0; r < t.num_rows(); ++r) w.write_draw(t.row(r), t.row(r) + t.num_method_columns);
  w.finish(run.seconds);
}

namespace detail {

void warn_of_runaway_values(MethodRun& run) {
  const DrawTable& t = run.draws;
  const double limit = analysis::DiagnoseThresholds{}.runaway;
  std::vector<std::string> named;
  size_t count = 0;
  for (size_t c = t.num_method_columns; c < t.columns.size(); ++c) {
    double largest = 0;
    for (size_t r = 0; r < t.num_rows(); ++r)
      if (std::isfinite(t.row(r)[c])) largest = std::max(largest, std::fabs(t.row(r)[c]));
    if (largest <= limit) continue;
    if (named.size() < 3) named.push_back(fmt::format("{} ({:.3g})", t.columns[c], largest));
    ++count;
  }
  if (count == 0) return;
  run.warnings.push_back(fmt::format(
      "{}{} reach{} beyond {:.0e} in magnitude, toward the floating-point range: the density is probably "
      "unbounded (an improper posterior: a parameter without a proper prior that the data do not identify), and "
      "these values describe no mode or distribution. Give every parameter a proper prior (or constrain it)",
      fmt::join(named, ", "), count > named.size() ? fmt::format(" and {} more", count - named.size()) : "",
      count == 1 ? "es" : "", limit));
}

void check_importance_ratios(MethodRun& run, const ApproxDraws& draws) {
  std::vector<double> ratios;
  ratios.reserve(draws.size());
  size_t not_finite = 0;
  double magnitude = 1, lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t i = 0; i < draws.size(); ++i) {
    const double ratio = draws.log_p[i] - draws.log_q[i];
    if (!std::isfinite(ratio)) {
      ++not_finite;
      continue;
    }
    ratios.push_back(ratio);
    magnitude = std::max({magnitude, std::fabs(draws.log_p[i]), std::fabs(draws.log_q[i])});
    lo = std::min(lo, ratio);
    hi = std::max(hi, ratio);
  }
  if (not_finite > 0) {
    run.warnings.push_back(fmt::format("{} of {} draws have a log density of -inf or NaN: the approximation puts "
                                       "mass where the posterior has none, and is poor",
                                       not_finite, draws.size()));
    return;
  }
  if (ratios.size() < 2) return;  // one draw: nothing to compare
  if (hi - lo <= 1e-9 * magnitude) {
    run.notes.push_back("the importance ratios p/q are constant: the approximation is the posterior");
    return;
  }
  const auto fit = analysis::psis(ratios);
  const double k = fit.pareto_k;
  // psis's +inf is "not estimated" only for a tail too short to fit (under 25 draws). With one,
  // +inf is its estimate: a few draws outweigh the rest by far (laplace at a poor mode of
  // posteriordb's hmm_drive_1: ratios spread over 1,300 log units, phi[2] 729 posterior sds off)
  // and that was noted as "could not be estimated from 200 draws", exit 0 without a warning.
  const bool fitted = fit.tail_length >= analysis::PsisResult::kMinTail && fit.tail_length < ratios.size();
  if (!std::isfinite(k) && !(fitted && k > 0)) {
    run.notes.push_back(
        fmt::format("Pareto k of the importance ratios could not be estimated from {} draws", draws.size()));
    return;
  }
  run.notes.push_back("Pareto k of the importance ratios: " + format_number(k));
  if (k > 0.7)
    run.warnings.push_back("Pareto k = " + format_number(k) +
                           " > 0.7: the approximation is poor; its means, sds and quantiles may be far from the "
                           "posterior's (use exmc sample for the posterior)");
}

std::vector<std::vector<size_t>> locate(const FittedDraws& f, const std::vector<VarInfo>& vars) {
  std::vector<std::vector<size_t>> where;
  for (const auto& v : vars) {
    std::vector<size_t> at;
    std::string missing;
    for (const auto& flat : flat_names({v})) {
      size_t i = 0;
      while (i < f.columns.size() && f.columns[i] != flat) ++i;
      if (i < f.columns.size()) at.push_back(i);
      else if (missing.empty()) missing = flat;
    }
    if (!at.empty() && !missing.empty())
      throw std::runtime_error(fmt::format("{}: has columns of '{}' but not {}: the draws are of another shape",
                                           f.name, v.name, missing));
    // Elements past the variable's shape (a fit with J = 8, data with J = 7): taking the first
    // ones would pass off another model's draws as this one's.
    const std::string prefix = v.name + ".";
    for (size_t i = 0; i < f.columns.size(); ++i) {
      const std::string& c = f.columns[i];
      if (c.compare(0, prefix.size(), prefix) != 0 || std::find(at.begin(), at.end(), i) != at.end()) continue;
      throw std::runtime_error(
          v.shape.empty()
              ? fmt::format("{}: has column {}, but '{}' is a scalar: the draws are of another shape", f.name, c, v.name)
              : fmt::format("{}: has column {}, but '{}' has shape [{}] (with this data): the draws are of another "
                            "shape",
                            f.name, c, v.name, fmt::join(v.shape, ",")));
    }
    where.push_back(std::move(at));
  }
  return where;
}

}  // namespace detail
}  // namespace exmc::services
