// The grading rules on made-up statistics, reference reading and name mapping, and the CI
// subset of posteriordb run for real (4 chains x 1000 + 1000, seed 1) that must pass.
#include "posteriordb.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace pdb = exmc::posteriordb;
namespace fs = std::filesystem;

namespace {

const fs::path kRoot = fs::path(EXMC_SHARED_DIR) / "posteriordb";

pdb::Reference one_quantity(double mean, double sd, double mcse_mean, double mcse_sd) {
  pdb::Reference ref;
  ref.quantities.push_back({"theta[1]", "theta.1", mean, sd, mcse_mean, mcse_sd});
  return ref;
}

pdb::VarStats good_theta() {
  // mean 1, sd 2, mcse_mean 0.05, mcse_sd 0.04; a well-mixed chain.
  return {"theta.1", 1.0, 2.0, 0.05, 0.04, 1.002, 1500};
}

pdb::Outcome graded(const std::vector<pdb::VarStats>& vars, const pdb::Reference& ref,
                    uint64_t divergences = 0, size_t draws = 4000) {
  pdb::Outcome out;
  pdb::grade(vars, ref, divergences, draws, {}, out);
  return out;
}

std::string failures(const pdb::Outcome& o) {
  std::string s;
  for (const auto& f : o.failures) s += f + " ";
  return s;
}

}  // namespace

TEST(PosteriordbNames, BracketsBecomeDots) {
  EXPECT_EQ(pdb::to_flat_name("mu"), "mu");
  EXPECT_EQ(pdb::to_flat_name("theta[1]"), "theta.1");
  EXPECT_EQ(pdb::to_flat_name("Sigma[2,1]"), "Sigma.2.1");
  EXPECT_EQ(pdb::to_flat_name("z[3, 12]"), "z.3.12");
}

TEST(PosteriordbNames, OnlyMatchesFolderOrModelName) {
  std::vector<std::string> all = {"kidiq-kidscore_momiq", "nes1972-nes", "nes1980-nes",
                                  "sblri-blr"};
  EXPECT_EQ(pdb::select_posteriors(all, "kidscore_momiq"),
            std::vector<std::string>{"kidiq-kidscore_momiq"});
  EXPECT_EQ(pdb::select_posteriors(all, "sblri-blr"), std::vector<std::string>{"sblri-blr"});
  EXPECT_EQ(pdb::select_posteriors(all, "nes").size(), 2u);
  EXPECT_TRUE(pdb::select_posteriors(all, "kidiq").empty());  // a prefix is not a name
}

TEST(PosteriordbGrade, AgreementPasses) {
  // 0.1 off with combined MCSE hypot(0.05, 0.02) ~ 0.054: z ~ 1.9.
  auto o = graded({good_theta()}, one_quantity(0.9, 2.0, 0.02, 0.014));
  EXPECT_EQ(o.status, pdb::Status::Pass) << failures(o);
  ASSERT_EQ(o.checks.size(), 1u);
  EXPECT_NEAR(o.checks[0].z_mean, 0.1 / std::hypot(0.05, 0.02), 1e-12);
  EXPECT_NEAR(o.checks[0].z_mean_exmc, 0.1 / 0.05, 1e-12);
  EXPECT_DOUBLE_EQ(o.worst_z_mean, o.checks[0].z_mean);
  EXPECT_EQ(o.worst_mean_quantity, "theta[1]");
}

TEST(PosteriordbGrade, MeanOffByMoreThanFourMcseFails) {
  // 0.25 off: z = 0.25 / hypot(0.05, 0.02) = 4.64.
  auto o = graded({good_theta()}, one_quantity(0.75, 2.0, 0.02, 0.014));
  EXPECT_EQ(o.status, pdb::Status::Fail);
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0], "mean(theta[1] z=4.6)");
  // The reference's error is what lets 0.2 off (z_exmc = 4) still pass: z = 3.71.
  EXPECT_EQ(graded({good_theta()}, one_quantity(0.8, 2.0, 0.02, 0.014)).status, pdb::Status::Pass);
}

TEST(PosteriordbGrade, SdOffFails) {
  auto o = graded({good_theta()}, one_quantity(1.0, 1.7, 0.02, 0.014));
  EXPECT_EQ(o.status, pdb::Status::Fail);
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0].rfind("sd(theta[1] z=", 0), 0u) << o.failures[0];
  EXPECT_GT(o.worst_z_sd, 4);
}

TEST(PosteriordbGrade, RhatEssAndDivergencesGate) {
  auto ref = one_quantity(1.0, 2.0, 0.02, 0.014);
  auto bad_rhat = good_theta();
  bad_rhat.rhat = 1.01;  // the bound is strict: R-hat < 1.01
  EXPECT_EQ(failures(graded({bad_rhat}, ref)), "rhat(theta.1=1.010) ");

  auto low_ess = good_theta();
  low_ess.ess_bulk = 399;
  EXPECT_EQ(failures(graded({low_ess}, ref)), "ess(theta.1=399) ");

  EXPECT_EQ(graded({good_theta()}, ref, 40, 4000).status, pdb::Status::Pass);  // 1.0% is allowed
  EXPECT_EQ(failures(graded({good_theta()}, ref, 41, 4000)), "divergent(1.0%) ");
}

TEST(PosteriordbGrade, UnreportedVariablesStillMustMix) {
  auto other = good_theta();
  other.name = "theta_trans.1";
  other.rhat = 1.2;
  auto o = graded({good_theta(), other}, one_quantity(1.0, 2.0, 0.02, 0.014));
  EXPECT_EQ(failures(o), "rhat(theta_trans.1=1.200) ");
}

TEST(PosteriordbGrade, ConstantOutputsAreSkippedNanIsNot) {
  pdb::VarStats constant{"fixed", 3.0, 0.0, 0, 0, std::nan(""), std::nan("")};
  auto ref = one_quantity(1.0, 2.0, 0.02, 0.014);
  EXPECT_EQ(graded({good_theta(), constant}, ref).status, pdb::Status::Pass);

  auto stuck = good_theta();
  stuck.rhat = std::nan("");
  EXPECT_EQ(failures(graded({stuck}, ref)), "rhat(theta.1=NA) ");
}

TEST(PosteriordbGrade, MissingQuantityFails) {
  auto ref = one_quantity(1.0, 2.0, 0.02, 0.014);
  ref.quantities.push_back({"mu", "mu", 0, 1, 0.01, 0.007});
  auto o = graded({good_theta()}, ref);
  EXPECT_EQ(failures(o), "missing(mu) ");
}

TEST(PosteriordbReference, ReadsMeanSdAndReferenceError) {
  fs::path file = fs::temp_directory_path() / "exmc_posteriordb_test_reference.json";
  {
    std::ofstream out(file);
    out << R"({"reference_inference": {"method_arguments": {"control": {"adapt_delta": 0.95}}},
      "parameters": {
      "beta[2]": {"mean": 0.5, "sd": 0.2, "ref_ess_bulk": 400, "pdb_mcse_mean": 0.011},
      "sigma": {"mean": 3, "sd": 0.5, "q5": null, "n_draws": 10000}}})";
  }
  auto ref = pdb::read_reference(file);
  ASSERT_EQ(ref.quantities.size(), 2u);
  EXPECT_EQ(ref.quantities[0].flat_name, "beta.2");
  EXPECT_DOUBLE_EQ(ref.quantities[0].mcse_mean, 0.011);            // posteriordb's own
  EXPECT_DOUBLE_EQ(ref.quantities[0].mcse_sd, 0.2 / std::sqrt(800.0));
  EXPECT_DOUBLE_EQ(ref.quantities[1].mcse_mean, 0.5 / 100);         // sd / sqrt(n_draws)
  EXPECT_DOUBLE_EQ(ref.adapt_delta, 0.95);
  EXPECT_EQ(ref.max_treedepth, 0);  // not given: exmc's default

  {
    std::ofstream out(file);
    out << R"({"parameters": {"sigma": {"mean": "three", "sd": 0.5}}})";
  }
  try {
    pdb::read_reference(file);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("parameter 'sigma'"), std::string::npos) << e.what();
  }
  fs::remove(file);
}

TEST(PosteriordbReference, EveryReferenceInTheSharedSetReads) {
  auto all = pdb::list_posteriors(kRoot);
  ASSERT_GE(all.size(), 30u);
  for (const auto& p : all) EXPECT_NO_THROW(pdb::read_reference(kRoot / p / "reference.json")) << p;
}

TEST(PosteriordbHarness, ParseErrorIsReportedNotThrown) {
  fs::path root = fs::temp_directory_path() / "exmc_posteriordb_test_root";
  fs::create_directories(root / "broken-model");
  std::ofstream(root / "broken-model" / "model.stan") << "parameters { real x }\nmodel { }\n";
  std::ofstream(root / "broken-model" / "reference.json")
      << R"({"parameters": {"x": {"mean": 0, "sd": 1}}})";
  auto o = pdb::run_posterior(root, "broken-model", {});
  EXPECT_EQ(o.status, pdb::Status::Error);
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0], "parse");
  EXPECT_NE(o.message.find("model.stan:1:"), std::string::npos) << o.message;
  fs::remove_all(root);
}

// The CI subset: each posterior of fast_subset(), with the full-length run of the issue.
class PosteriordbFast : public ::testing::TestWithParam<std::string> {};

TEST_P(PosteriordbFast, Passes) {
  ASSERT_TRUE(pdb::is_gated(GetParam()));
  pdb::RunOptions options;  // 4 chains x 1000 warmup + 1000 draws, seed 1
  options.threads = 2;
  auto o = pdb::run_posterior(kRoot, GetParam(), options);
  std::string detail;
  for (const auto& c : o.checks)
    detail += "\n  " + c.name + ": z_mean " + std::to_string(c.z_mean) + ", z_sd " +
              std::to_string(c.z_sd);
  EXPECT_EQ(o.status, pdb::Status::Pass)
      << pdb::status_name(o.status) << ": " << failures(o) << o.message << detail;
}

INSTANTIATE_TEST_SUITE_P(CiSubset, PosteriordbFast, ::testing::ValuesIn(pdb::fast_subset()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });
