// Bridges CmdStan CSV files (io layer) to the analysis layer: draws and sampler statistics.
#pragma once

#include <string>
#include <vector>

#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/summary.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::analysis {

// Parameters plus lp__ (the sampler's other "__" columns are left out, as cmdstanr's summary;
// lp__ too for the fixed_param sampler and variational, whose lp__ is 0 throughout, as
// cmdstanpy's summary).
// All chains must have the same columns and draw count; throws std::runtime_error naming the
// file that differs.
Draws draws_from_cmdstan(const std::vector<io::CmdStanCsv>& chains);
SamplerStats sampler_stats_from_cmdstan(const std::vector<io::CmdStanCsv>& chains);

// Throws std::runtime_error naming two files that come from different runs: exmc writes
// "# exmc_run_id = <hex>" into every file of one run, so two different ids, or an id in one file
// and none in another, mean different runs. Files without the line (CmdStan's) pass as before.
void check_one_run(const std::vector<io::CmdStanCsv>& chains);

// One chain per file, except a file with a chain__ column holding several values (cmdstanpy's
// draws_pd() saved with to_csv: every chain in one table), which becomes one chain per value, in
// order of first appearance ("file (chain__ 2)" in messages).
std::vector<io::CmdStanCsv> split_chains(io::CmdStanCsv file);

// Throws std::runtime_error when two of `paths` are one file (the same path, or two names of one
// file): each file is one chain, and a chain read twice passes for two that agree.
void check_distinct_files(const std::vector<std::string>& paths);

// "f.csv: no draws", or, for a file of warmup rows only, a message that says so.
std::string no_draws_message(const io::CmdStanCsv& c);

// One line per sampler file with fewer draws than its header's num_samples (and thin) promise:
// a file cut short, e.g. by a run still writing it. A file of several chains (a chain__ column)
// and files that are not of method = sample are not checked.
std::vector<std::string> truncation_warnings(const std::vector<io::CmdStanCsv>& files);

// The chains of the files at `paths` (split_chains applied), each file read once: a file given
// twice is an error (check_distinct_files), and files that look cut short add their
// truncation_warnings to `warnings`. What summary, diagnose, loo and generate_quantities read.
std::vector<io::CmdStanCsv> read_cmdstan_chains(const std::vector<std::string>& paths,
                                                std::vector<std::string>& warnings);

// Everything the CLI's `summary` and `diagnose` need from file names (split_chains applied).
// Files of different runs are an error (check_one_run) unless allow_mixed_runs; so is a file
// given twice (the same path, or two names of one file).
struct CmdStanRun {
  std::vector<io::CmdStanCsv> chains;
  Draws draws;
  SamplerStats stats;
  std::vector<std::string> warnings;  // truncation_warnings of the files, for the caller to print
};
CmdStanRun read_cmdstan_run(const std::vector<std::string>& paths, bool allow_mixed_runs = false);

// Frees the rows as parsed of every file (chains[i].values and warmup_values), keeping the
// files' names, columns, config and adaptation: once draws and stats are built, what summary,
// loo and the sampler's diagnose need; their memory was otherwise held through the summary's
// own (720 MB beside the summary of 10^7 draws).
void release_parsed_rows(CmdStanRun& run);

}  // namespace exmc::analysis
