// exmc sample with the fixed_param sampler, and what summary and diagnose make of its files.
#include <string>

#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

constexpr const char* kSimulate = R"(data { real mu; }
generated quantities { real y = normal_rng(mu, 1); }
)";

TEST_F(CliTest, AProgramWithoutParametersRunsTheFixedParamSampler) {
  const auto model = write("simulate.stan", kSimulate), data = write("d.json", R"({"mu": 2})");
  const auto out = path("out.csv");
  const auto r = exmc({"sample", model, "--data", data, "--output", out, "--chains", "2", "--draws", "200",
                       "--seed", "4", "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("the program has no parameters: the fixed_param sampler runs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 chains x 200 draws, seed 4, fixed_param sampler"), std::string::npos) << r.err;
  const auto csv = slurp(path("out_1.csv"));
  EXPECT_NE(csv.find("\n#     algorithm = fixed_param\n"), std::string::npos);
  EXPECT_EQ(csv.find("engine = nuts"), std::string::npos);
  EXPECT_EQ(csv.find("Adaptation terminated"), std::string::npos);  // CmdStan writes none without adaptation
  EXPECT_EQ(data_lines(path("out_1.csv")).substr(0, 22), "lp__,accept_stat__,y\n0");

  // summary: the draws of y, no lp__ (0 throughout, as cmdstanpy leaves it out) and no
  // sampler table; diagnose: nothing of the sampler's to check, R-hat and ESS of y.
  const auto s = exmc({"summary", path("out_1.csv"), path("out_2.csv")});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out.find("lp__"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\ny "), std::string::npos) << s.out;
  EXPECT_EQ(s.out.find("Sampler statistics"), std::string::npos) << s.out;
  const auto d = exmc({"diagnose", path("out_1.csv"), path("out_2.csv")});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("The fixed_param sampler: the parameters stayed at their initial values"), std::string::npos)
      << d.out;
  EXPECT_EQ(d.out.find("stuck"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("no problems detected"), std::string::npos) << d.out;
}

TEST_F(CliTest, FixedParamKeepsTheInitialValuesAndRefusesMetricFiles) {
  const auto init = write("init.json", R"({"mu": 1.25, "tau": 3.5, "theta_tilde": [0, 0, 0, 0, 0, 0, 0, 1]})");
  const auto out = path("fp.csv");
  const std::vector<std::string> base = {"sample", example("eight_schools.stan"), "--data",
                                         example("eight_schools.data.json"), "--fixed-param", "--init", init,
                                         "--chains", "1", "--draws", "20", "--seed", "2", "--no-progress"};
  auto args = base;
  args.insert(args.end(), {"--output", out});
  const auto r = exmc(args);
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream rows(data_lines(out));
  std::string line;
  std::getline(rows, line);
  EXPECT_EQ(line.substr(0, 26), "lp__,accept_stat__,mu,tau,");
  int n = 0;
  while (std::getline(rows, line)) {
    EXPECT_EQ(line.substr(0, 13), "0,0,1.25,3.5,") << line;
    ++n;
  }
  EXPECT_EQ(n, 20);

  args = base;
  args.insert(args.end(), {"--output", path("m.csv"), "--save-metric", path("metric.json")});
  const auto save = exmc(args);
  EXPECT_EQ(save.code, 1);
  EXPECT_EQ(save.err, "exmc sample: error: --save-metric: the fixed_param sampler adapts no metric\n");
  EXPECT_FALSE(fs::exists(path("m.csv")));
  EXPECT_FALSE(fs::exists(path("metric.json")));
}

}  // namespace
}  // namespace exmc::cli
