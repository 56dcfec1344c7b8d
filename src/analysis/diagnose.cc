// Plain-words checks of a run: divergences, tree depth, E-BFMI, R-hat and ESS, with remedies.
#include "exmc/analysis/diagnose.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "exmc/core/stuck_chain.hpp"

namespace exmc::analysis {

std::string runaway_section(const std::string& listing, double threshold, const std::string& what_drifts) {
  return fmt::format(
      "Checking the scale of the draws.\n"
      "These quantities have draws beyond {:.0e} in magnitude, toward the floating-point range:\n{}"
      "The posterior is probably improper: a parameter has no proper prior and the data do not "
      "identify it, so {} without bound and describe no distribution. Give every "
      "parameter a proper prior (or constrain it) and check the model.\n\n",
      threshold, listing, what_drifts);
}

DiagnoseResult diagnose(const Summary& summary, const SamplerStats& stats, size_t num_chains,
                        const DiagnoseThresholds& t) {
  DiagnoseResult r;
  std::string& out = r.report;
  size_t total = 0, div = 0, hits = 0;
  for (const auto& c : stats.chains) {
    total += c.draws;
    div += c.divergent;
    hits += c.treedepth_hits;
  }
  out += "Processing CmdStan output.\n\n";
  if (stats.fixed_param)
    out += "The fixed_param sampler: the parameters stayed at their initial values, so there are no sampler "
           "transitions to check; what follows checks the draws of the other quantities.\n\n";
  std::string runaway;
  for (const auto& row : summary.rows) {
    const double m = std::max({std::fabs(row.mean), std::fabs(row.q5), std::fabs(row.q95)});
    if (m > t.runaway || std::isinf(m))
      runaway += fmt::format("  {}: mean = {:.3g}, 5% = {:.3g}, 95% = {:.3g}\n", row.variable, row.mean, row.q5,
                             row.q95);
  }
  if (!runaway.empty()) {
    r.runaway = true;
    out += runaway_section(runaway, t.runaway, "the chains drift");
  }
  std::string stuck;
  for (size_t c = 0; c < stats.chains.size(); ++c) {
    const auto& cs = stats.chains[c];
    if (cs.stuck.stuck())
      stuck += fmt::format("  Chain {}: {} draws in a row at one point (draws {}-{}), step size {:.3g}\n", c + 1,
                           cs.stuck.longest + 1, cs.stuck.longest_end - cs.stuck.longest + 1,
                           cs.stuck.longest_end + 1, cs.step_size);
  }
  if (!stuck.empty()) {
    r.stuck = true;
    out += fmt::format(
        "Checking for stuck chains.\n"
        "These chains stayed at one point, rejecting every proposal (accept_stat__ below {}):\n{}"
        "A stuck chain's draws describe that point, not the posterior, and its R-hat and ESS can look "
        "fine or be undefined. The step size is too large for the region the chain stopped in, "
        "typically the neck of a funnel.\nTry increasing adapt delta closer to 1 (e.g. 0.95 or 0.99), a "
        "longer warmup, or reparameterize the model (for example a non-centred parameterisation of "
        "hierarchical scales).\n\n",
        kStuckAcceptStat, stuck);
  }
  if (stats.has_divergent) {
    out += "Checking sampler transitions for divergences.\n";
    if (div > 0) {
      r.divergences = true;
      out += fmt::format(
          "{} of {} ({:.2f}%) transitions ended with a divergence.\n"
          "These divergent transitions indicate that HMC is not fully able to explore the "
          "posterior distribution.\nTry increasing adapt delta closer to 1 (e.g. 0.95 or 0.99).\n"
          "If this doesn't remove all divergences, try to reparameterize the model (for "
          "example a non-centred parameterisation of hierarchical scales).\n\n",
          div, total, 100.0 * static_cast<double>(div) / static_cast<double>(total));
    } else {
      out += "No divergent transitions found.\n\n";
    }
  }
  if (stats.has_treedepth) {
    out += "Checking sampler transitions treedepth.\n";
    if (hits > 0) {
      r.treedepth = true;
      out += fmt::format(
          "{} of {} ({:.2f}%) transitions hit the maximum treedepth limit of {}.\n"
          "Trajectories were cut short, which makes sampling inefficient (not biased).\n"
          "Try increasing max_depth, or reparameterize the model so its posterior is less "
          "correlated or better scaled (a dense metric may help).\n\n",
          hits, total, 100.0 * static_cast<double>(hits) / static_cast<double>(total),
          stats.max_depth);
    } else {
      out += "Treedepth satisfactory for all transitions.\n\n";
    }
  }
  if (stats.has_energy) {
    out += "Checking E-BFMI - sampler transitions HMC potential energy.\n";
    std::string low, undefined_ebfmi;
    for (size_t c = 0; c < stats.chains.size(); ++c) {
      if (stats.chains[c].ebfmi < t.ebfmi)
        low += fmt::format("  Chain {}: E-BFMI = {:.3f}\n", c + 1, stats.chains[c].ebfmi);
      // NaN (fewer than 2 draws, or a constant energy) compares false: it is not "satisfactory".
      if (std::isnan(stats.chains[c].ebfmi)) undefined_ebfmi += fmt::format("  Chain {}\n", c + 1);
    }
    if (!low.empty()) {
      r.ebfmi = true;
      out += fmt::format(
          "The E-BFMI of these chains is below the threshold of {}:\n{}"
          "Momentum resampling explores the energy distribution poorly; the posterior likely "
          "has heavy tails or a funnel.\nTry reparameterizing the model (non-centred "
          "parameterisation, rescaling) or more informative priors.\n\n",
          t.ebfmi, low);
    } else if (undefined_ebfmi.empty()) {
      out += "E-BFMI satisfactory.\n\n";
    }
    if (!undefined_ebfmi.empty())
      out += "E-BFMI is undefined (fewer than 2 draws, or a constant energy) for:\n" + undefined_ebfmi + "\n";
  }
  // Split R-hat and ESS halve each chain and need 3 draws per half (posterior's rule): with fewer
  // every one is undefined, and "satisfactory where defined" would pass a run nothing was checked on.
  size_t min_draws = 0;
  for (size_t c = 0; c < stats.chains.size(); ++c)
    min_draws = c == 0 ? stats.chains[c].draws : std::min(min_draws, stats.chains[c].draws);
  if (!stats.chains.empty() && min_draws < kMinDrawsPerChain) {
    r.too_few_draws = true;
    out += fmt::format(
        "Checking the number of draws.\n"
        "{} draws per chain are too few: split R-hat and ESS need at least {} draws per chain, so "
        "convergence was not checked and the estimates are not to be trusted. Run more draws.\n\n",
        min_draws, kMinDrawsPerChain);
  }
  out += "Rank-normalized split effective sample size.\n";
  const double min_ess = t.ess_per_chain * static_cast<double>(num_chains);
  std::string low_ess, high_rhat, undefined;
  for (const auto& row : summary.rows) {
    if (std::isnan(row.rhat) || std::isnan(row.ess_bulk) || std::isnan(row.ess_tail)) {
      undefined += "  " + row.variable + "\n";
      continue;
    }
    if (row.ess_bulk < min_ess || row.ess_tail < min_ess)
      low_ess += fmt::format("  {}: ess_bulk = {:.0f}, ess_tail = {:.0f}\n", row.variable,
                             row.ess_bulk, row.ess_tail);
    if (row.rhat > t.rhat) high_rhat += fmt::format("  {}: R-hat = {:.3f}\n", row.variable, row.rhat);
  }
  if (!low_ess.empty()) {
    r.ess = true;
    out += fmt::format(
        "These parameters have an effective sample size below {:.0f} ({:.0f} per chain):\n{}"
        "Estimates of their means and quantiles are imprecise. Run the chains longer (more "
        "draws) or improve the parameterization to reduce autocorrelation.\n\n",
        min_ess, t.ess_per_chain, low_ess);
  } else {
    out += undefined.empty() ? "Effective sample size satisfactory.\n\n"
                             : "Effective sample size satisfactory where it is defined (see below).\n\n";
  }
  out += "Split R-hat values.\n";
  if (!high_rhat.empty()) {
    r.rhat = true;
    out += fmt::format(
        "These parameters have a rank-normalized split R-hat above {}:\n{}"
        "The chains have not mixed: they disagree with each other or drift. Run longer warmup "
        "and sampling, check for multimodality, and do not trust these draws yet.\n\n",
        t.rhat, high_rhat);
  } else {
    out += undefined.empty() ? "R-hat values satisfactory for all parameters.\n\n"
                             : "R-hat values satisfactory where they are defined (see below).\n\n";
  }
  if (!undefined.empty())
    out += r.too_few_draws ? "R-hat and ESS are undefined (too few draws) for:\n" + undefined + "\n"
                           : "R-hat and ESS are undefined (constant or non-finite draws) for:\n" + undefined +
                                 "That is expected for a fixed quantity; otherwise check the model.\n\n";
  out += r.ok() ? "Processing complete, no problems detected.\n" : "Processing complete.\n";
  return r;
}

std::string diagnose_report(const Summary& summary, const SamplerStats& stats,
                            size_t num_chains, const DiagnoseThresholds& t) {
  return diagnose(summary, stats, num_chains, t).report;
}

}  // namespace exmc::analysis
