// diagnose for approximations: the Pareto k of p/q, in the words of diagnose's other checks.
#include "exmc/analysis/approximation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "exmc/analysis/psis.hpp"

namespace exmc::analysis {

std::string cmdstan_method(const io::CmdStanCsv& file) {
  const auto it = file.config.find("method");
  return it == file.config.end() || it->second.empty() ? "sample" : it->second;
}

bool is_approximation_method(const std::string& method) {
  return method == "variational" || method == "laplace" || method == "pathfinder";
}

namespace {

struct KEstimate {
  double k = std::nan("");
  size_t draws = 0;
  size_t not_finite = 0;  // draws whose ratio is -inf or NaN: q puts mass where p has none
  bool exact = false;     // every ratio the same: q = p
  std::string source;
};

KEstimate k_of(const std::vector<io::CmdStanCsv>& files, const std::string& method) {
  const auto& first = files.front();
  KEstimate e;
  if (method == "pathfinder") {
    const auto it = first.config.find("exmc_pareto_k");
    if (it == first.config.end())
      throw std::runtime_error(first.path + ": method = pathfinder without the exmc_pareto_k line: its draws are "
                               "resampled, so their own importance ratios cannot tell how good the approximation "
                               "was (exmc pathfinder records the k of the draws before resampling)");
    char* end = nullptr;
    e.k = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0')
      throw std::runtime_error(first.path + ": exmc_pareto_k = '" + it->second + "' is not a number");
    e.draws = first.num_rows;
    e.source = "recorded by exmc pathfinder before resampling";
    return e;
  }
  std::vector<double> ratios;
  double magnitude = 1;  // of the numbers the ratios are differences of
  for (const auto& f : files) {
    const long p = f.column("log_p__"), g = f.column("log_g__");
    if (p < 0 || g < 0)
      throw std::runtime_error(f.path + ": method = " + method + " without log_p__ and log_g__ columns: the "
                               "approximation cannot be checked");
    for (size_t r = 0; r < f.num_rows; ++r) {
      const double ratio = f.at(r, size_t(p)) - f.at(r, size_t(g));
      magnitude = std::max({magnitude, std::fabs(f.at(r, size_t(p))), std::fabs(f.at(r, size_t(g)))});
      if (std::isfinite(ratio)) ratios.push_back(ratio);
      else ++e.not_finite;
    }
  }
  e.draws = ratios.size() + e.not_finite;
  e.source = "log_p__ - log_g__ of " + std::to_string(e.draws) + " draws";
  if (e.not_finite > 0 || ratios.size() < 2) return e;
  // Ratios equal but for the rounding of the numbers written (sig_figs, 6 by default): q is p up
  // to its normalising constant (a Laplace approximation of a normal posterior). PSIS would fit
  // a Pareto tail to the rounding noise.
  int digits = 6;
  if (const auto it = first.config.find("sig_figs"); it != first.config.end()) {
    const int d = std::atoi(it->second.c_str());
    if (d > 0) digits = std::min(d, 17);
  }
  const double rounding = magnitude * std::max(std::pow(10.0, 1 - digits), 1e-15);
  const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
  if (*hi - *lo <= 2 * rounding) {
    e.exact = true;
    return e;
  }
  e.k = psis(ratios).pareto_k;
  return e;
}

}  // namespace

std::string runaway_listing(const std::vector<io::CmdStanCsv>& files, double limit) {
  std::string listing;
  const auto& columns = files.front().columns;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].size() > 2 && columns[c].compare(columns[c].size() - 2, 2, "__") == 0) continue;
    double largest = 0;
    for (const auto& f : files)
      for (size_t r = 0; r < f.num_rows && c < f.columns.size(); ++r)
        if (std::isfinite(f.at(r, c))) largest = std::max(largest, std::fabs(f.at(r, c)));
    if (largest > limit) listing += fmt::format("  {}: largest magnitude {:.3g}\n", columns[c], largest);
  }
  return listing;
}

DiagnoseResult diagnose_approximation(const std::vector<io::CmdStanCsv>& files) {
  if (files.empty()) throw std::runtime_error("no CmdStan CSV files given");
  const std::string method = cmdstan_method(files.front());
  for (const auto& f : files)
    if (cmdstan_method(f) != method)
      throw std::runtime_error(f.path + " (method = " + cmdstan_method(f) + ") and " + files.front().path +
                               " (method = " + method + ") are outputs of different methods");
  if (method == "optimize")
    throw std::runtime_error(files.front().path + ": method = optimize: one point (the mode), not draws; diagnose "
                             "checks draws (exmc sample, or the approximations of variational, laplace and "
                             "pathfinder)");
  if (!is_approximation_method(method))
    throw std::runtime_error(files.front().path + ": method = " + method + " is not an approximation");
  const KEstimate e = k_of(files, method);
  DiagnoseResult r;
  std::string& out = r.report;
  out += "Processing CmdStan output.\n\n";
  out += fmt::format(
      "These are draws of an approximation (method = {}), independent by construction: R-hat and ESS "
      "cannot tell how close it is to the posterior. The Pareto k of the importance ratios p/q can "
      "(Yao et al. 2018).\n\n",
      method);
  // An unbounded density: every draw far out where p/q is flat, the ratios equal, k = -inf, and
  // "close to the posterior" said of draws at 3e32 (pathfinder of target += x).
  const double limit = DiagnoseThresholds{}.runaway;
  const std::string runaway = runaway_listing(files, limit);
  if (!runaway.empty()) {
    r.runaway = true;
    out += runaway_section(runaway, limit, "its draws run off");
  }
  out += "Checking the approximation with Pareto-smoothed importance sampling.\n";
  if (e.not_finite > 0) {
    r.approximation = true;
    out += fmt::format(
        "{} of {} draws have a log density (log_p__) of -inf or NaN: the approximation puts mass where the "
        "posterior has none, and is poor.\n",
        e.not_finite, e.draws);
  } else if (r.runaway) {
    out += fmt::format("The importance ratios ({}) say nothing of the approximation far out in an unbounded "
                       "density.\n",
                       e.source);
  } else if (e.exact) {
    out += fmt::format(
        "The importance ratios ({}) are equal within the rounding of the numbers written: the approximation is "
        "the posterior (up to its normalising constant).\n",
        e.source);
  } else if (std::isnan(e.k)) {
    r.approximation = true;
    out += fmt::format("Pareto k could not be estimated ({} draws).\n", e.draws);
  } else if (e.k > 0.7) {
    r.approximation = true;
    out += fmt::format(
        "Pareto k = {:.2f} ({}) is above 0.7: the approximation is poor, and its means, variances and "
        "quantiles may be far from the posterior's. Use exmc sample for the posterior{}.\n",
        e.k, e.source,
        // --init pathfinder runs Pathfinder again for the chains' starts: no use of these draws,
        // and none at all of laplace's or variational's.
        method == "pathfinder" ? " (--init pathfinder starts its chains at Pathfinder's draws)" : "");
  } else if (e.k > 0.5) {
    out += fmt::format(
        "Pareto k = {:.2f} ({}) is between 0.5 and 0.7: the approximation is rough; importance "
        "weighting can correct expectations, the raw draws' tails and variances less so. Compare with "
        "exmc sample before relying on them.\n",
        e.k, e.source);
  } else {
    out += fmt::format("Pareto k = {:.2f} ({}): the approximation is close to the posterior.\n", e.k, e.source);
  }
  out += r.ok() ? "\nProcessing complete, no problems detected.\n" : "\nProcessing complete.\n";
  return r;
}

}  // namespace exmc::analysis
