// exmc batch --sbc: what a simulator must give for the ranks to mean anything.
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

constexpr const char* kModel = R"(data { int N; vector[N] y; }
parameters { real mu; real<lower=0> sigma; }
model { mu ~ normal(0, 1); sigma ~ exponential(1); y ~ normal(mu, sigma); }
)";

class SbcTest : public CliTest {
 protected:
  // Each into a folder of its own: a refused simulator's batch may be recorded in its --output.
  Ran sbc(const std::string& simulator, const std::string& output, const std::string& model = kModel) {
    return exmc({"batch", "--sbc", write("m.stan", model), "--simulator", write("sim.stan", simulator), "--data",
                 write("d.json", R"({"N": 5, "y": [0, 0, 0, 0, 0]})"), "--simulations", "4", "--warmup", "50",
                 "--draws", "50", "--rank-draws", "19", "--bins", "4", "--seed", "1", "--output", path(output)});
  }
};

// A simulator that left a parameter out (sigma fixed at 1 while the model fits it) ran, tested
// mu alone and exited 0; one that drew mu as a vector[1] for the model's real matched none of
// its columns, so mu was left out of the test without a word. Both are refused before anything
// runs, naming the parameter.
TEST_F(SbcTest, ASimulatorThatDoesNotDrawEveryParameterIsRefused) {
  auto r = sbc("generated quantities { real mu = normal_rng(0, 1); vector[5] y;\n"
               "  for (n in 1:5) y[n] = normal_rng(mu, 1); }\n",
          "a");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path("sim.stan") + ": it does not draw the model's parameter 'sigma'"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(path("a/ranks.csv")));
  r = sbc("generated quantities { vector[1] mu; mu[1] = normal_rng(0, 1); real sigma = exponential_rng(1);\n"
          "  vector[5] y; for (n in 1:5) y[n] = normal_rng(mu[1], sigma); }\n",
          "b");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path("sim.stan") + ": 'mu' has shape [1] here and is a scalar in the model"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(path("b/ranks.csv")));
  r = sbc("generated quantities { real mu = normal_rng(0, 1); real sigma = exponential_rng(1); vector[5] y;\n"
          "  for (n in 1:5) y[n] = normal_rng(mu, sigma); }\n",
          "c");
  EXPECT_EQ(r.code, 0) << r.err;
}

// A simulator refused when the batch set up (after batch.json had recorded it) left its record
// behind, so the corrected simulator was refused in the same --output as "a batch with other
// settings or inputs (... the --simulator program's content changed)". Checked before now.
TEST_F(SbcTest, ACorrectedSimulatorRunsInTheFolderOfTheRefusedOne) {
  auto r = sbc("generated quantities { real zz = normal_rng(0, 1); }\n", "out");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("it does not draw the model's parameter 'mu'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("out/batch.json")));
  r = sbc("generated quantities { real mu = normal_rng(0, 1); real sigma = exponential_rng(1); vector[5] y;\n"
          "  for (n in 1:5) y[n] = normal_rng(mu, sigma); }\n",
          "out");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("out/ranks.csv")));
}

// A simulator whose "true" sigma lay outside the model's support (sigma = -1 for the model's
// real<lower=0> sigma) was fitted anyway: every rank was 0 and the report blamed the model
// ("miscalibrated", exit 0). The simulation is refused before its fit, naming the parameter,
// the value drawn and the model's bound.
TEST_F(SbcTest, ADrawOutsideTheModelsSupportIsRefused) {
  auto r = sbc("generated quantities { real mu = normal_rng(0, 1); real sigma = -1; vector[5] y;\n"
               "  for (n in 1:5) y[n] = normal_rng(mu, 1); }\n",
               "out");
  EXPECT_EQ(r.code, 1) << r.err;
  for (const char* part : {"simulation 0: the simulator drew a parameter outside the model's support",
                           "variable 'sigma' (lower): value -1 at index 1 is not above the lower bound 0"})
    EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
  EXPECT_NE(r.err.find("no simulation completed"), std::string::npos) << r.err;
}

// docs/batch.md asks for a simulator without parameters; one with a parameters block ran (its
// generated quantities saw the parameter unset). Refused before anything runs.
TEST_F(SbcTest, ASimulatorWithParametersIsRefused) {
  auto r = sbc("parameters { real z; }\n"
               "generated quantities { real mu = normal_rng(0, 1); real sigma = exponential_rng(1); vector[5] y;\n"
               "  for (n in 1:5) y[n] = normal_rng(mu, sigma); }\n",
               "out");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find(path("sim.stan") + ": a simulator has no parameters (it declares 'z')"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(path("out/batch.json")));
}

// A transformed parameter the simulator also gives is ranked; one the simulator computed with
// another formula (s2 = sigma where the model has square(sigma)) was ranked against the model's
// and reported as the model's miscalibration. Refused, naming the element and both values; the
// same formula passes and is ranked.
TEST_F(SbcTest, ATransformedParameterComputedOtherwiseIsRefused) {
  const std::string model = R"(data { int N; vector[N] y; }
parameters { real mu; real<lower=0> sigma; }
transformed parameters { real<lower=0> s2 = square(sigma); }
model { mu ~ normal(0, 1); sigma ~ exponential(1); y ~ normal(mu, sigma); }
)";
  const std::string draw = "real mu = normal_rng(0, 1); real sigma = exponential_rng(1); vector[5] y;\n"
                           "  for (n in 1:5) y[n] = normal_rng(mu, sigma);";
  auto r = sbc("generated quantities { " + draw + " real s2 = sigma; }\n", "wrong", model);
  EXPECT_EQ(r.code, 1) << r.err;
  for (const char* part : {"simulation 0: the simulator's 's2' is ", "but the model's transformed parameter 's2' at "
                           "the drawn parameters is ", "compute it as the model does"})
    EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
  r = sbc("generated quantities { " + draw + " real s2 = square(sigma); }\n", "right", model);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(path("right/ranks.csv")).find("s2"), std::string::npos);
}

// A simulator that fails for some draws (here for mu < 0): the table ranked the others as if
// they were the prior's draws, and said nothing of the selection (only "1 failed" on the way and
// exit 1). Now a warning names the failed count and what it does to the p-values, and
// sbc_summary.json records it.
TEST_F(SbcTest, SimulationsThatFailAreSaidToBiasTheRanks) {
  auto r = exmc({"batch", "--sbc", write("m.stan", kModel), "--simulator",
                 write("sim.stan", "generated quantities { real mu = normal_rng(0, 1);\n"
                                   "  if (mu < 0) reject(\"mu \", mu);\n"
                                   "  real sigma = exponential_rng(1); vector[5] y;\n"
                                   "  for (n in 1:5) y[n] = normal_rng(mu, sigma); }\n"),
                 "--data", write("d.json", R"({"N": 5, "y": [0, 0, 0, 0, 0]})"), "--simulations", "8", "--warmup",
                 "50", "--draws", "50", "--rank-draws", "19", "--bins", "4", "--seed", "1", "--output", path("out")});
  EXPECT_EQ(r.code, 1) << r.err;
  const auto summary = nlohmann::json::parse(slurp(path("out/sbc_summary.json")));
  const size_t failed = summary.at("failed_simulations").get<size_t>(), done = summary.at("simulations").get<size_t>();
  ASSERT_GT(failed, 0u) << r.err;
  ASSERT_GT(done, 0u) << r.err;
  EXPECT_EQ(failed + done, 8u);
  EXPECT_NE(r.err.find(fmt::format("warning: {} of 8 simulations failed and are left out of the ranks", failed)),
            std::string::npos)
      << r.err;
}

// Simulation i is a function of (seed, i) and the settings: an SBC of 4 continued to 6 in the
// same --output fits simulations 4 and 5 only, and its ranks are those of a run of 6. It was
// refused ("--simulations: 4 then, 6 now"), so extending an SBC started it again from 0.
TEST_F(SbcTest, MoreSimulationsContinueTheSameBatch) {
  const std::string sim = "generated quantities { real mu = normal_rng(0, 1); real sigma = exponential_rng(1);\n"
                          "  vector[5] y; for (n in 1:5) y[n] = normal_rng(mu, sigma); }\n";
  auto run = [&](const char* n, const char* out) {
    return exmc({"batch", "--sbc", write("m.stan", kModel), "--simulator", write("sim.stan", sim), "--data",
                 write("d.json", R"({"N": 5, "y": [0, 0, 0, 0, 0]})"), "--simulations", n, "--warmup", "50", "--draws",
                 "50", "--rank-draws", "19", "--bins", "4", "--seed", "1", "--output", path(out)});
  };
  ASSERT_EQ(run("4", "more").code, 0);
  const auto r = run("6", "more");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("6 simulations (4 done earlier)"), std::string::npos) << r.err;
  ASSERT_EQ(run("6", "all_at_once").code, 0);
  EXPECT_EQ(slurp(path("more/ranks.csv")), slurp(path("all_at_once/ranks.csv")));
  // Other settings are still refused, naming the one that differs.
  const auto d = exmc({"batch", "--sbc", path("m.stan"), "--simulator", path("sim.stan"), "--data", path("d.json"),
                       "--simulations", "6", "--warmup", "50", "--draws", "60", "--rank-draws", "19", "--bins", "4",
                       "--seed", "1", "--output", path("more")});
  EXPECT_EQ(d.code, 1);
  EXPECT_NE(d.err.find("--draws: 50 then, 60 now"), std::string::npos) << d.err;
}

}  // namespace
}  // namespace exmc::cli
