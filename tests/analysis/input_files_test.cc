// read_cmdstan_run's checks of the files themselves: a file named twice, and a sampler file with
// fewer draws than its header promises.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/analysis/cmdstan.hpp"
#include "exmc/analysis/format.hpp"

namespace exmc::analysis {
namespace {

// A sampler file of `rows` draws whose header says num_samples = `promised` (and thin).
std::string sampler_file(const std::string& name, int rows, int promised, int thin = 1) {
  const std::string p = ::testing::TempDir() + "exmc_input_files_" + name + ".csv";
  std::ofstream f(p);
  f << "# model = m\n# method = sample (Default)\n#   sample\n#     num_samples = " << promised
    << "\n#     num_warmup = 10\n#     thin = " << thin << (thin == 1 ? " (Default)" : "") << "\n";
  f << "lp__,accept_stat__,divergent__,mu\n";
  for (int i = 0; i < rows; ++i) f << -i * 0.1 << ",0.9,0," << (i % 7) * 0.3 << "\n";
  return p;
}

std::string error_of(const std::vector<std::string>& paths) {
  try {
    read_cmdstan_run(paths, /*allow_mixed_runs=*/true);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// `exmc summary out_1.csv out_1.csv` summarised one chain as two that agree perfectly: R-hat
// about 1 and twice the effective sample size, exit 0.
TEST(CmdStanFiles, AFileGivenTwiceIsAnError) {
  const auto a = sampler_file("twice_a", 20, 20), b = sampler_file("twice_b", 20, 20);
  EXPECT_EQ(error_of({a, b, a}), a + " is given twice (files 1 and 3); each file is one chain, and a chain read "
                                         "twice makes R-hat and the effective sample size look better than they are");
  // Two names of one file: the same.
  const std::string dotted = ::testing::TempDir() + "./exmc_input_files_twice_b.csv";
  EXPECT_EQ(error_of({b, dotted}), b + " and " + dotted +
                                       " are one file (files 1 and 2); each file is one chain, and a chain read "
                                       "twice makes R-hat and the effective sample size look better than they are");
  EXPECT_EQ(read_cmdstan_run({a, b}).draws.num_chains, 2u);
}

// A CmdStan file still being written (or copied part-way) ends at a row boundary and was
// summarised without a word as if the run had ended there.
TEST(CmdStanFiles, AFileWithFewerDrawsThanItsHeaderPromisesIsWarnedOf) {
  const auto cut = sampler_file("cut", 28, 200);
  const auto run = read_cmdstan_run({cut});
  ASSERT_EQ(run.warnings.size(), 1u);
  EXPECT_EQ(run.warnings[0], cut + ": 28 draws, but its header says num_samples = 200, so 200 were to come: the "
                                   "file looks cut short (a run still writing it, or a copy stopped part-way); "
                                   "only the 28 draws it has are used");
  EXPECT_EQ(run.draws.num_draws, 28u);
  // Thinned: ceil(num_samples / thin) draws are due.
  const auto thinned_cut = sampler_file("thinned_cut", 3, 10, 3);
  const auto t = read_cmdstan_run({thinned_cut});
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_NE(t.warnings[0].find("num_samples = 10, thin = 3, so 4 were to come"), std::string::npos) << t.warnings[0];
  // Complete files, and files whose header says nothing of num_samples, pass quietly.
  EXPECT_TRUE(read_cmdstan_run({sampler_file("whole", 20, 20)}).warnings.empty());
  EXPECT_TRUE(read_cmdstan_run({sampler_file("thinned", 4, 10, 3)}).warnings.empty());
  const std::string bare = ::testing::TempDir() + "exmc_input_files_bare.csv";
  std::ofstream(bare) << "lp__,mu\n-1,0.5\n-2,0.7\n";
  EXPECT_TRUE(read_cmdstan_run({bare}).warnings.empty());
}

// A file of warmup rows only (save_warmup = 1, num_samples = 0) said "no draws", as an empty one.
TEST(CmdStanFiles, AFileOfWarmupRowsOnlySaysSo) {
  const std::string p = ::testing::TempDir() + "exmc_input_files_warmup_only.csv";
  std::ofstream(p) << "# method = sample (Default)\n#     save_warmup = 1\nlp__,mu\n-1,0.5\n-2,0.7\n"
                      "# Adaptation terminated\n# Step size = 0.9\n";
  EXPECT_EQ(error_of({p}), p + ": no draws after warmup (its 2 warmup rows are not draws of the posterior)");
}

TEST(CmdStanFiles, AFileOfSamplerColumnsOnlyHasNoQuantitiesToSummarise) {
  const std::string p = ::testing::TempDir() + "exmc_input_files_sampler_only.csv";
  std::ofstream(p) << "accept_stat__,divergent__\n0.9,0\n0.8,0\n0.7,0\n";
  EXPECT_EQ(error_of({p}), p + ": no quantities: every column is one of the sampler's (a name ending in __), so "
                               "there are no parameters or generated quantities to summarise");
}

// A chain without a step size (no adaptation block, no stepsize__ column) showed "nan" where
// every other missing statistic of the table shows NA.
TEST(CmdStanFiles, AMissingStepSizeShowsAsNA) {
  const std::string p = ::testing::TempDir() + "exmc_input_files_no_step.csv";
  std::ofstream(p) << "lp__,accept_stat__,divergent__,mu\n-1,0.9,0,0.1\n-2,0.8,0,0.3\n-1.5,0.7,0,0.2\n";
  const auto run = read_cmdstan_run({p});
  const std::string table = format_sampler_stats(run.stats, Format::Table);
  EXPECT_EQ(table.find("nan"), std::string::npos) << table;
  EXPECT_NE(table.find("NA"), std::string::npos) << table;
}

// variational --draws 0 writes the approximation's mean row only: "no draws", with no word of
// the row that is there.
TEST(CmdStanFiles, AVariationalFileOfItsMeanRowOnlySaysSo) {
  const std::string p = ::testing::TempDir() + "exmc_input_files_mean_only.csv";
  std::ofstream(p) << "# method = variational\nlp__,log_p__,log_g__,mu\n0,0,0,1.5\n";
  EXPECT_EQ(error_of({p}), p + ": no draws: only the variational approximation's mean (the first row), which is not "
                               "a draw");
}

// A NaN in divergent__ or treedepth__ (a hand-edited or damaged file) was counted as a
// divergence; the file is refused, naming the column and the draw.
TEST(CmdStanFiles, ANaNInTheSamplersCountsIsRefusedNamingColumnAndDraw) {
  const std::string p = ::testing::TempDir() + "exmc_input_files_nan_divergent.csv";
  const std::string header = "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu\n";
  std::ofstream(p) << header << "-1,0.9,0.5,2,3,0,1.2,0.1\n-2,0.8,0.5,2,3,nan,2.1,0.3\n-1.5,0.7,0.5,2,3,0,1.7,0.2\n";
  EXPECT_EQ(error_of({p}), p + ": divergent__ is not a number in draw 2 (the sampler writes numbers there: the file "
                               "was edited or damaged)");
  std::ofstream(p) << header << "-1,0.9,0.5,2,3,0,1.2,0.1\n-2,0.8,0.5,2,3,0,2.1,0.3\n-1.5,0.7,0.5,NaN,3,0,1.7,0.2\n";
  EXPECT_EQ(error_of({p}), p + ": treedepth__ is not a number in draw 3 (the sampler writes numbers there: the file "
                               "was edited or damaged)");
}

}  // namespace
}  // namespace exmc::analysis
