// exmc diagnose on the files of variational, laplace, pathfinder and optimize: the approximation's
// Pareto k, not R-hat and ESS of draws that are independent by construction.
#include <string>

#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

TEST_F(CliTest, DiagnoseChecksAnApproximationByItsParetoK) {
  // A normal posterior: its Laplace approximation is exact. Two coordinates correlated 0.999:
  // mean-field ADVI makes q 0.002 times as wide as p along the diagonal (k near 1 in theory),
  // and diagnose says so where R-hat and ESS of the draws said "no problems".
  const auto normal = write("normal.stan", "parameters { real mu; }\nmodel { mu ~ normal(1, 2); }\n");
  ASSERT_EQ(exmc({"optimize", normal, "--jacobian", "--output", path("mode.csv"), "--seed", "1"}).code, 0);
  ASSERT_EQ(exmc({"laplace", normal, "--mode", path("mode.csv"), "--output", path("laplace.csv"), "--seed", "1"}).code,
            0);
  const auto exact = exmc({"diagnose", path("laplace.csv")});
  ASSERT_EQ(exact.code, 0) << exact.err;
  EXPECT_NE(exact.out.find("draws of an approximation (method = laplace)"), std::string::npos) << exact.out;
  EXPECT_NE(exact.out.find("equal within the rounding of the numbers written"), std::string::npos) << exact.out;
  EXPECT_NE(exact.out.find("no problems detected"), std::string::npos) << exact.out;

  const auto corr = write("corr.stan", "data { matrix[2, 2] S; }\nparameters { vector[2] x; }\n"
                                       "model { x ~ multi_normal(rep_vector(0, 2), S); }\n");
  const auto data = write("corr.json", R"({"S": [[1, 0.999], [0.999, 1]]})");
  const auto vb = exmc({"variational", corr, "--data", data, "--output", path("vb.csv"), "--seed", "1", "--draws",
                        "4000"});
  ASSERT_EQ(vb.code, 0) << vb.err;
  const auto poor = exmc({"diagnose", path("vb.csv")});
  ASSERT_EQ(poor.code, 0) << poor.err;
  EXPECT_NE(poor.out.find("is above 0.7: the approximation is poor"), std::string::npos) << poor.out;
  EXPECT_EQ(poor.out.find("no problems detected"), std::string::npos) << poor.out;
  // summary leaves out variational's lp__, 0 in every row.
  const auto s = exmc({"summary", path("vb.csv")});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out.find("lp__"), std::string::npos) << s.out;

  const auto opt = exmc({"diagnose", path("mode.csv")});
  EXPECT_EQ(opt.code, 1);
  EXPECT_NE(opt.err.find("mode.csv: method = optimize: one point (the mode), not draws"), std::string::npos)
      << opt.err;
}

}  // namespace
}  // namespace exmc::cli
