// What `exmc sample` says at the end of a run that completed but should not be trusted as it
// stands (issue 13, class 5): an improper posterior, a stuck chain, failed density evaluations;
// and that diagnose flags the same from the files.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

// Issue 13, class 5: an improper posterior (a scale without a prior, a location under it) used
// to exit 0 with draws near 1e86 and nothing said. The run still completes (the draws are what
// they are), but it says so, and diagnose flags it; a proper model with large scales does not.
TEST_F(CliTest, ImproperPosteriorIsSaidAtTheEndAndFlaggedByDiagnose) {
  const auto model = write("improper.stan", "parameters { real<lower=0> s; real a; }\nmodel { a ~ normal(0, s); }\n");
  std::ostringstream out, err;
  ASSERT_EQ(run({"sample", model, "--seed", "1", "--no-progress", "--output", path("imp.csv")}, out, err), 0)
      << err.str();
  EXPECT_NE(err.str().find("warning: the draws run off toward the floating-point range"), std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find("in magnitude ('"), std::string::npos) << err.str();  // names the variable
  std::vector<std::string> files;
  for (int k = 1; k <= 4; ++k) files.push_back(path("imp_" + std::to_string(k) + ".csv"));
  std::ostringstream dout, derr;
  auto args = std::vector<std::string>{"diagnose"};
  args.insert(args.end(), files.begin(), files.end());
  run(args, dout, derr);
  EXPECT_NE(dout.str().find("probably improper"), std::string::npos) << dout.str() << derr.str();

  // A proper posterior whose values are large (3e6; Stan's step size search, like exmc's, calls
  // a step size past 1e7 improper) but real: nothing said.
  const auto big = write("big.stan", "parameters { real m; }\nmodel { m ~ normal(3e6, 1e5); }\n");
  std::ostringstream out2, err2;
  ASSERT_EQ(run({"sample", big, "--seed", "1", "--no-progress", "--output", path("big.csv")}, out2, err2), 0)
      << err2.str();
  EXPECT_EQ(err2.str().find("floating-point range"), std::string::npos) << err2.str();

  // A transformed parameter that is -inf in every draw by construction (posteriordb's Survey
  // keeps log(0) terms) is not a run-off: it was said to be one.
  const auto inf = write("inf.stan", "parameters { real m; }\ntransformed parameters { real l = negative_infinity(); }\n"
                                     "model { m ~ normal(0, 1); }\n");
  std::ostringstream out3, err3;
  ASSERT_EQ(run({"sample", inf, "--seed", "1", "--no-progress", "--output", path("inf.csv")}, out3, err3), 0)
      << err3.str();
  EXPECT_EQ(err3.str().find("floating-point range"), std::string::npos) << err3.str();
}

// Failed log density evaluations are counted over the whole run, divergences after warmup only:
// "344 numerical faults" beside "154 divergent transitions after warmup" read as a contradiction.
TEST_F(CliTest, FailedDensityEvaluationsAreSaidToIncludeWarmup) {
  const auto model = write("nan.stan", "parameters { real x; }\nmodel { real t = 0; if (x > 1.5) t = not_a_number(); "
                                       "x ~ normal(0, 1); target += t; }\n");
  std::ostringstream out, err;
  ASSERT_EQ(run({"sample", model, "--seed", "1", "--chains", "1", "--no-progress", "--output", path("nan.csv")}, out,
                err),
            0)
      << err.str();
  EXPECT_NE(err.str().find(" log density evaluations failed (NaN, Inf or an exception), initialisation and warmup "
                           "included: each ended its trajectory as a divergence, or was a rejected starting point\n"),
            std::string::npos)
      << err.str();
}

// A chain whose step size is far too large for where it is rejects every proposal and stays at
// one point: its draws then describe that point, and R-hat / ESS can be undefined or look fine (a
// funnel's neck after a short warmup does this: exmc's own f32 funnel runs showed it). The run
// says so and diagnose flags it; a healthy run says nothing.
TEST_F(CliTest, StuckChainIsSaidAtTheEndAndFlaggedByDiagnose) {
  const auto model = write("n3.stan", "parameters { vector[3] m; }\nmodel { m ~ normal(0, 1); }\n");
  const auto metric = write("big_step.json", R"({"inv_metric": [1, 1, 1], "metric": "diag_e", "stepsize": 40})");
  std::ostringstream out, err;
  ASSERT_EQ(run({"sample", model, "--chains", "2", "--warmup", "0", "--draws", "200", "--load-metric", metric,
                 "--seed", "3", "--no-progress", "--output", path("stuck.csv")},
                out, err),
            0)
      << err.str();
  EXPECT_NE(err.str().find("warning: chains got stuck"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("chain 1: 200 draws in a row at one point (draws 1-200 after warmup)"), std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find("chain 2: 200 draws in a row"), std::string::npos) << err.str();
  std::ostringstream dout, derr;
  run({"diagnose", path("stuck_1.csv"), path("stuck_2.csv")}, dout, derr);
  EXPECT_NE(dout.str().find("Chain 1: 200 draws in a row at one point (draws 1-200), step size 40"),
            std::string::npos)
      << dout.str() << derr.str();
  EXPECT_EQ(dout.str().find("no problems detected"), std::string::npos) << dout.str();

  // The same model adapted as usual: nothing said, nothing flagged.
  std::ostringstream out2, err2;
  ASSERT_EQ(run({"sample", model, "--chains", "2", "--seed", "3", "--no-progress", "--output", path("fine.csv")},
                out2, err2),
            0)
      << err2.str();
  EXPECT_EQ(err2.str().find("stuck"), std::string::npos) << err2.str();
  std::ostringstream dout2, derr2;
  run({"diagnose", path("fine_1.csv"), path("fine_2.csv")}, dout2, derr2);
  EXPECT_EQ(dout2.str().find("stuck"), std::string::npos) << dout2.str();
}

}  // namespace
}  // namespace exmc::cli
