// A plain-words diagnosis of a run (like CmdStan's diagnose): what failed, and what to do.
#pragma once

#include <string>

#include "exmc/analysis/summary.hpp"

namespace exmc::analysis {

struct DiagnoseThresholds {
  double rhat = 1.01;
  double ebfmi = 0.3;
  double ess_per_chain = 100;  // bulk and tail ESS below 100 per chain is "low"
  // Draws beyond this magnitude (mean, 5% or 95% quantile) ran off toward the floating-point
  // range: no real quantity lives there, an improper posterior does.
  double runaway = 1e30;
};

// Split R-hat and ESS split each chain in two and need 3 draws per half (posterior's ess_basic).
inline constexpr size_t kMinDrawsPerChain = 6;

struct DiagnoseResult {
  bool divergences = false, treedepth = false, ebfmi = false, rhat = false, ess = false;
  bool runaway = false;
  bool stuck = false;  // a chain stayed at one point, rejecting every proposal (core/stuck_chain.hpp)
  bool too_few_draws = false;  // fewer than kMinDrawsPerChain: R-hat and ESS could not be computed
  bool approximation = false;  // an approximation's Pareto k above 0.7 (analysis/approximation.hpp)
  bool copies = false;  // SMC's particles mostly copies of a few points (analysis/particles.hpp)
  bool ok() const {
    return !(divergences || treedepth || ebfmi || rhat || ess || runaway || stuck || too_few_draws ||
             approximation || copies);
  }
  std::string report;
};

// diagnose's "Checking the scale of the draws." paragraph: `listing` is one "  name: ..." line per
// quantity beyond `threshold`; `what_drifts` says what ran off ("the chains drift").
std::string runaway_section(const std::string& listing, double threshold, const std::string& what_drifts);

DiagnoseResult diagnose(const Summary& summary, const SamplerStats& stats, size_t num_chains,
                        const DiagnoseThresholds& t = {});
// The report text alone.
std::string diagnose_report(const Summary& summary, const SamplerStats& stats,
                            size_t num_chains, const DiagnoseThresholds& t = {});

}  // namespace exmc::analysis
