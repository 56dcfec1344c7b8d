// Bridges CmdStan CSV files (io layer) to the analysis layer: draws and sampler statistics.
#pragma once

#include <string>
#include <vector>

#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/summary.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::analysis {

// Parameters plus lp__ (the sampler's other "__" columns are left out, as cmdstanr's summary).
// All chains must have the same columns and draw count; throws std::runtime_error naming the
// file that differs.
Draws draws_from_cmdstan(const std::vector<io::CmdStanCsv>& chains);
SamplerStats sampler_stats_from_cmdstan(const std::vector<io::CmdStanCsv>& chains);

// Everything the CLI's `summary` and `diagnose` need from file names.
struct CmdStanRun {
  std::vector<io::CmdStanCsv> chains;
  Draws draws;
  SamplerStats stats;
};
CmdStanRun read_cmdstan_run(const std::vector<std::string>& paths);

}  // namespace exmc::analysis
