// Issue 13, class 4.2: chains of different runs (a stale out_3.csv beside a fresh out_1.csv) must
// not be summarised together silently. exmc writes `# exmc_run_id = <hex>` in every file of a
// run; CmdStan's files have no such line and are read as before.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/analysis/cmdstan.hpp"

namespace exmc::analysis {
namespace {

std::string chain_file(const std::string& name, const std::string& run_id, double shift) {
  const std::string p = ::testing::TempDir() + "exmc_run_id_" + name + ".csv";
  std::ofstream f(p);
  f << "# model = m\n# method = sample (Default)\n";
  if (!run_id.empty()) f << "# exmc_run_id = " << run_id << "\n";
  f << "lp__,accept_stat__,divergent__,mu\n";
  for (int i = 0; i < 20; ++i) f << -i * 0.1 << ",0.9,0," << (shift + (i % 7) * 0.3) << "\n";
  return p;
}

std::string error_of(const std::vector<std::string>& paths) {
  try {
    read_cmdstan_run(paths);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(CmdStanRunId, FilesOfOneRunAreRead) {
  const auto a = chain_file("one_a", "00aa", 0), b = chain_file("one_b", "00aa", 1);
  EXPECT_EQ(read_cmdstan_run({a, b}).draws.num_chains, 2u);
}

TEST(CmdStanRunId, FilesWithoutRunIdAreReadAsBefore) {
  const auto a = chain_file("none_a", "", 0), b = chain_file("none_b", "", 1);
  EXPECT_EQ(read_cmdstan_run({a, b}).draws.num_chains, 2u);
}

TEST(CmdStanRunId, MixingRunsIsAnErrorNamingBothFiles) {
  const auto a = chain_file("mix_a", "00aa", 0), b = chain_file("mix_b", "00aa", 0.5),
             c = chain_file("mix_c", "00bb", 1);
  const std::string e = error_of({a, b, c});
  EXPECT_NE(e.find(a), std::string::npos) << e;
  EXPECT_NE(e.find(c), std::string::npos) << e;
  EXPECT_NE(e.find("--allow-mixed-runs"), std::string::npos) << e;
  // Asked for, the mix is read.
  EXPECT_EQ(read_cmdstan_run({a, b, c}, /*allow_mixed_runs=*/true).draws.num_chains, 3u);
}

TEST(CmdStanRunId, AFileWithoutRunIdBesideOneWithIsFromAnotherRun) {
  // One exmc run writes the line into every chain's file, so a file without it (a CmdStan file,
  // or an older exmc's) is from another run.
  const auto a = chain_file("half_a", "00aa", 0), b = chain_file("half_b", "", 1);
  const std::string e = error_of({a, b});
  EXPECT_NE(e.find(a), std::string::npos) << e;
  EXPECT_NE(e.find(b), std::string::npos) << e;
  EXPECT_EQ(read_cmdstan_run({a, b}, true).draws.num_chains, 2u);
}

}  // namespace
}  // namespace exmc::analysis
