// diagnose for SMC's particles: copies counted by lp__, the scale checked, the evidence repeated;
// and no R-hat or ESS along the particles' order (that report told a user with 100 copies of one
// point to "run the chains longer").
#include "exmc/analysis/particles.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::analysis {
namespace {

// n particles, `distinct` of them different (the rest copies of particle 0), x scaled by `scale`.
io::CmdStanCsv particles(size_t n, size_t distinct, double scale = 1, const std::string& extra = "",
                         const std::string& method = "smc") {
  std::string text = "# method = " + method + "\n" + extra + "lp__,x,y_rep\n";
  for (size_t i = 0; i < n; ++i) {
    const size_t k = i < distinct ? i : 0;
    // y_rep differs for every particle, copies included (a generated quantity draws anew).
    text += fmt::format("{},{},{}\n", -1.0 - 0.001 * double(k), scale * (0.5 + double(k)), double(i));
  }
  return io::parse_cmdstan_csv(text, "smc.csv");
}

TEST(Particles, MostlyDistinctParticlesAreNoProblem) {
  const auto r = diagnose_particles({particles(100, 60, 1, "# exmc_log_marginal_likelihood = -3.25\n")});
  EXPECT_TRUE(r.ok()) << r.report;
  EXPECT_NE(r.report.find("60 of the 100 particles are distinct (by lp__).\n"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("The run recorded a log marginal likelihood of -3.25 (one run: no standard error)"),
            std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("no problems detected"), std::string::npos);
  for (const char* mcmc : {"R-hat =", "ess_bulk", "Run longer", "chains"})
    EXPECT_EQ(r.report.find(mcmc), std::string::npos) << mcmc << " in\n" << r.report;
}

TEST(Particles, CopiesOfAFewPointsAreAProblem) {
  const auto r = diagnose_particles({particles(100, 49)});
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.copies);
  EXPECT_NE(r.report.find("Only 49 of the 100 particles are distinct: the mutations hardly moved them"),
            std::string::npos)
      << r.report;
  EXPECT_NE(diagnose_particles({particles(100, 1)}).report.find("Only 1 of the 100 particles is distinct"),
            std::string::npos);
  // Exactly half distinct is the edge exmc smc warns below.
  EXPECT_FALSE(diagnose_particles({particles(100, 50)}).copies);
}

TEST(Particles, EachFileIsCountedOnItsOwnAndNamed) {
  auto good = particles(10, 10, 1, "# exmc_log_marginal_likelihood = -1.5\n# exmc_log_marginal_likelihood_se = 0.25\n");
  good.path = "a.csv";
  auto bad = particles(10, 2);
  bad.path = "b.csv";
  const auto r = diagnose_particles({good, bad});
  EXPECT_TRUE(r.copies);
  EXPECT_NE(r.report.find("a.csv: 10 of the 10 particles are distinct (by lp__)."), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("a.csv: the run recorded a log marginal likelihood of -1.5 (se 0.25 over its runs)"),
            std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("b.csv: only 2 of the 10 particles are distinct"), std::string::npos) << r.report;
}

TEST(Particles, ParticlesRunningOffToTheFloatRangeAreAProblem) {
  const auto r = diagnose_particles({particles(20, 20, 1e35)});
  EXPECT_TRUE(r.runaway);
  EXPECT_NE(r.report.find("  x: largest magnitude"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("its particles run off"), std::string::npos) << r.report;
}

TEST(Particles, OtherMethodsAndFilesWithoutLpAreRefusedByName) {
  EXPECT_THROW(
      {
        try {
          diagnose_particles({particles(10, 10, 1, "", "sample")});
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "smc.csv: method = sample, not smc");
          throw;
        }
      },
      std::runtime_error);
  const auto no_lp = io::parse_cmdstan_csv("# method = smc\nx\n1\n2\n", "p.csv");
  EXPECT_THROW(
      {
        try {
          diagnose_particles({no_lp});
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "p.csv: no lp__ column: not a file exmc smc wrote");
          throw;
        }
      },
      std::runtime_error);
}

}  // namespace
}  // namespace exmc::analysis
