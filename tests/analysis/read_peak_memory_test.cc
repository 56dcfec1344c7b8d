// The heap that reading a run for `exmc summary` takes at its peak: the draws once as parsed, once
// as Draws, and little more. The binary's operator new and delete count live bytes for it.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "exmc/analysis/cmdstan.hpp"

#include "../support/heap_peak.hpp"

namespace exmc::analysis {
namespace {

// A sampler's file of n draws: the 7 sampler columns and 2 parameters.
std::string write_run(size_t n) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("exmc_peak_" + std::to_string(::getpid()) + ".csv")).string();
  std::ofstream out(path);
  out << "# method = sample (Default)\n#   num_samples = " << n
      << "\nlp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,sigma\n";
  for (size_t r = 0; r < n; ++r)
    out << -1.5 - double(r % 97) / 97 << ",0.9" << r % 10 << ",0.8,2,3,0," << 2.5 + double(r % 89) / 89 << ","
        << double(r % 101) / 101 << ",1." << r % 1000 << "\n";
  return path;
}

// Each file was held three times at once: as parsed, as the copy truncation_warnings({file})
// made, and as the copy split_chains' `return {std::move(file)}` made (720 MB each for 10^7
// draws: 2.1 GB at the peak of exmc summary). Now: the parsed rows, the Draws of lp__ and the
// parameters, the sampler statistics' energy and accept_stat__ columns and the 1 MB read buffer.
TEST(ReadPeakMemory, AFileIsHeldOnceBesideItsDraws) {
  const size_t n = 200000;
  const std::string path = write_run(n);
  const long long before = test_support::start_peak();
  size_t num_draws = 0;
  {
    const CmdStanRun run = read_cmdstan_run({path});
    num_draws = run.draws.num_draws;
  }
  const long long peak = test_support::peak_bytes() - before;
  std::remove(path.c_str());
  ASSERT_EQ(num_draws, n);
  const long long d = sizeof(double);
  const long long parsed = 9 * n * d, draws = 3 * n * d, stats = 2 * n * d, slack = 2 << 20;
  EXPECT_LE(peak, parsed + draws + stats + slack) << "peak " << peak << " bytes for " << parsed << " parsed";
}

// exmc summary's sequence: read, release the rows as parsed, summarise. The parsed rows were held
// through the summary's own work (its ranks and z-scores of each variable's draws), so that
// reading's peak was exceeded by that much.
TEST(ReadPeakMemory, TheSummaryRunsWithoutTheRowsAsParsed) {
  const size_t n = 200000;
  const std::string path = write_run(n);
  const long long before = test_support::start_peak();
  size_t rows = 0;
  {
    CmdStanRun run = read_cmdstan_run({path});
    release_parsed_rows(run);
    EXPECT_TRUE(run.chains.at(0).values.empty());
    EXPECT_EQ(run.chains.at(0).config.at("method"), "sample");  // what diagnose asks of the files
    EXPECT_EQ(run.chains.at(0).columns.size(), 9u);
    rows = summarise(run.draws).rows.size();
  }
  const long long peak = test_support::peak_bytes() - before;
  std::remove(path.c_str());
  ASSERT_EQ(rows, 3u);
  const long long d = sizeof(double);
  const long long parsed = 9 * n * d, draws = 3 * n * d, stats = 2 * n * d, slack = 2 << 20;
  EXPECT_LE(peak, parsed + draws + stats + slack) << "peak " << peak << " bytes for " << parsed << " parsed";
}

}  // namespace
}  // namespace exmc::analysis
