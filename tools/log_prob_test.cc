// exmc log_prob: CmdStan's log_prob method. Values checked against the density written out by
// hand, against the sampler's own lp__ at its draws, and against Stan's (golden values from
// rstan, bench/stan/log_prob_golden.R).
#include <cmath>
#include <string>
#include <vector>

#include "cli_test_support.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::cli {
namespace {

constexpr const char* kNormal = kNormalProgram;  // cli_test_support.hpp
constexpr const char* kData = kNormalData;

// At mu = 1, sigma = 2 (u = log 2), constants of ~ dropped as Stan's log_prob drops them:
// -mu^2/200 - sigma - sum (y - mu)^2 / (2 sigma^2) - N log sigma [+ log sigma, the Jacobian].
constexpr double kResidualSquares = 0.0 + 2.25 + 0.49 + 0.49;
double lp_without_jacobian() { return -0.005 - 2.0 - kResidualSquares / 8 - 4 * std::log(2.0); }
// d/dmu: -mu/100 + sum (y - mu) / sigma^2; d/du = sigma d/dsigma (+ 1 with the Jacobian).
constexpr double kGradMu = -0.01 + 1.5 / 4;
double grad_u_without_jacobian() { return 2.0 * (-1 + kResidualSquares / 8 - 4 / 2.0); }

io::CmdStanCsv read_ok(const Ran& r, const std::string& path) {
  EXPECT_EQ(r.code, 0) << r.err;
  return io::read_cmdstan_csv(path);
}

TEST_F(CliTest, LogProbAtConstrainedValuesIsTheDensityWrittenOutByHand) {
  const auto model = write("n.stan", kNormal), data = write("n.json", kData);
  const auto point = write("p.json", R"({"mu": 1.0, "sigma": 2.0})");
  for (bool jacobian : {true, false}) {
    std::vector<std::string> args = {"log_prob", model, "--data", data, "--constrained-params", point,
                                     "--sig-figs", "17", "--output", path("lp.csv")};
    if (!jacobian) args.push_back("--no-jacobian");
    const auto f = read_ok(exmc(args), path("lp.csv"));
    ASSERT_EQ(f.columns, (std::vector<std::string>{"lp__", "g_mu", "g_sigma"}));
    ASSERT_EQ(f.num_rows, 1u);
    EXPECT_EQ(f.config.at("method"), "log_prob");
    EXPECT_EQ(f.config.at("jacobian"), jacobian ? "1" : "0");
    const double j = jacobian ? 1 : 0;
    EXPECT_NEAR(f.at(0, 0), lp_without_jacobian() + j * std::log(2.0), 1e-13) << jacobian;
    EXPECT_NEAR(f.at(0, 1), kGradMu, 1e-14);
    EXPECT_NEAR(f.at(0, 2), grad_u_without_jacobian() + j, 1e-13) << jacobian;
  }
}

TEST_F(CliTest, LogProbAtUnconstrainedPointsTakesParamsRAsAVectorOrRows) {
  const auto model = write("n.stan", kNormal), data = write("n.json", kData);
  const std::string u = std::to_string(std::log(2.0));
  const auto one = write("u1.json", R"({"params_r": [1.0, )" + u + "]}");
  const auto rows = write("u2.json", R"({"params_r": [[1.0, )" + u + "], [0.5, 0.0]]}");
  auto f = read_ok(exmc({"log_prob", model, "--data", data, "--unconstrained-params", one, "--sig-figs", "17",
                         "--output", path("a.csv")}),
                   path("a.csv"));
  ASSERT_EQ(f.num_rows, 1u);
  EXPECT_NEAR(f.at(0, 0), lp_without_jacobian() + std::log(2.0), 1e-6);  // u printed with 6 decimals
  f = read_ok(exmc({"log_prob", model, "--data", data, "--unconstrained-params", rows, "--sig-figs", "17",
                    "--output", path("b.csv")}),
              path("b.csv"));
  ASSERT_EQ(f.num_rows, 2u);
  // mu = 0.5, sigma = 1: -0.00125 - 1 - sum (y - 0.5)^2 / 2 - 0, Jacobian log 1 = 0.
  const double squares = 0.25 + 4.0 + 0.04 + 1.44;
  EXPECT_NEAR(f.at(1, 0), -0.00125 - 1 - squares / 2, 1e-13);
  EXPECT_NEAR(f.at(1, 1), -0.005 + (0.5 + 2.0 - 0.2 + 1.2), 1e-13);

  const auto short_point = write("u3.json", R"({"params_r": [[1.0, 0.5], [1.0]]})");
  auto r = exmc({"log_prob", model, "--data", data, "--unconstrained-params", short_point, "--output", path("c.csv")});
  EXPECT_EQ(r.code, 1);  // ragged rows: the Stan JSON reader's error
  const auto three = write("u4.json", R"({"params_r": [1.0, 0.5, 2.0]})");
  r = exmc({"log_prob", model, "--data", data, "--unconstrained-params", three, "--output", path("d.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("point 1 has 3 values, but n has 2 unconstrained parameters"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("d.csv")));
}

// At a fit's draws (written with every digit) log_prob's lp__ is the sampler's lp__.
TEST_F(CliTest, LogProbAtAFitsDrawsIsItsLp) {
  const auto model = write("n.stan", kNormal), data = write("n.json", kData);
  ASSERT_EQ(exmc({"sample", model, "--data", data, "--chains", "2", "--warmup", "100", "--draws", "30", "--seed",
                  "4", "--sig-figs", "17", "--no-progress", "--output", path("fit.csv")})
                .code,
            0);
  const auto f = read_ok(exmc({"log_prob", model, "--data", data, "--constrained-params", path("fit_1.csv"),
                               path("fit_2.csv"), "--sig-figs", "17", "--output", path("lp.csv")}),
                         path("lp.csv"));
  ASSERT_EQ(f.num_rows, 60u);
  for (int chain = 1; chain <= 2; ++chain) {
    const auto fit = io::read_cmdstan_csv(path("fit_" + std::to_string(chain) + ".csv"));
    const size_t lp = size_t(fit.column("lp__"));
    for (size_t r = 0; r < fit.num_rows; ++r)
      EXPECT_NEAR(f.at((chain - 1) * 30 + r, 0), fit.at(r, lp), 1e-9 * std::fabs(fit.at(r, lp))) << chain << " " << r;
  }
}

TEST_F(CliTest, LogProbRefusalsNameWhatIsWrong) {
  const auto model = write("n.stan", kNormal), data = write("n.json", kData);
  const auto point = write("p.json", R"({"mu": 1.0, "sigma": 2.0})");
  auto r = exmc({"log_prob", model, "--data", data, "--output", path("x.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("give the points as --constrained-params or as --unconstrained-params (one of the two)"),
            std::string::npos)
      << r.err;
  r = exmc({"log_prob", model, "--data", data, "--constrained-params", point, "--unconstrained-params", point,
            "--output", path("x.csv")});
  EXPECT_EQ(r.code, 1);
  const auto outside = write("bad.json", R"({"mu": 1.0, "sigma": -2.0})");
  r = exmc({"log_prob", model, "--data", data, "--constrained-params", outside, "--output", path("x.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.json: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sigma"), std::string::npos) << r.err;
  const auto missing = write("miss.json", R"({"mu": 1.0, "tau": 3})");
  r = exmc({"log_prob", model, "--data", data, "--constrained-params", missing, "--output", path("x.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("sigma"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x.csv")));
  // Draws of another shape (more elements than the variable has), as generate_quantities refuses.
  const auto wider = write("wide.csv", "lp__,mu,sigma,sigma.2\n-1,1,2,3\n");
  r = exmc({"log_prob", model, "--data", data, "--constrained-params", wider, "--output", path("x.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("has column sigma.2, but 'sigma' is a scalar"), std::string::npos) << r.err;
  // The output may not overwrite an input.
  r = exmc({"log_prob", model, "--data", data, "--constrained-params", point, "--output", point});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(slurp(point).find("sigma"), std::string::npos);
}

// Stan's own numbers (rstan 2.21, bench/stan/log_prob_golden.R) for a program with every kind
// of transform (lower, lower-upper, simplex, ordered, cholesky_factor_corr): the same log
// density, gradient and unconstrained point, so exmc's transforms are Stan's.
TEST_F(CliTest, LogProbEqualsStansOnEveryKindOfTransform) {
  const std::string dir = std::string(EXMC_SOURCE_DIR) + "/bench/stan/log_prob/";
  const std::string model = dir + "transforms.stan", data = dir + "transforms.data.json";
  const std::vector<double> stan_gradient[2] = {
      {0.30499999999999994, -5.2339000000000002, 0.19374333333333318, -0.18488000000000004, 0.12500000000000006,
       -0.083333333333333315, -0.24305555555555552, -0.90000000000000002, 0.39999999999999997,
       -0.81649658092772615},
      {0.30499999999999994, -4.2339000000000002, 0.32707666666666646, 0.21512000000000003, 0.37500000000000011,
       -0.083333333333333315, 0.75694444444444442, -1.5, 1.0000000000000002, -1.6329931618554527}};
  const double stan_lp[2] = {-11.742767799971105, -14.640047729979745};
  const std::string stan_point =
      "[1, 0.69314718055994529, -0.26826398659467926, -0.69314718055994529, -0.51082562376599094, -0.5, "
      "0.55961578793542266, 0.30951960420311175, -0.20273255405408219, 0.43350736324528266]";
  const auto unconstrained = write("u.json", R"({"params_r": )" + stan_point + "}");
  for (int jacobian : {0, 1})
    for (const auto& input : {std::vector<std::string>{"--constrained-params", dir + "transforms.point.json"},
                              std::vector<std::string>{"--unconstrained-params", unconstrained}}) {
      std::vector<std::string> args = {"log_prob", model, "--data", data, "--sig-figs", "17", "--output", path("lp.csv")};
      args.insert(args.end(), input.begin(), input.end());
      if (!jacobian) args.push_back("--no-jacobian");
      const auto f = read_ok(exmc(args), path("lp.csv"));
      ASSERT_EQ(f.columns.size(), 11u);
      EXPECT_EQ(f.columns[4], "g_w.1");
      EXPECT_EQ(f.columns[10], "g_L.3");
      EXPECT_NEAR(f.at(0, 0), stan_lp[jacobian], 1e-12) << input[0] << " jacobian " << jacobian;
      for (size_t i = 0; i < 10; ++i)
        EXPECT_NEAR(f.at(0, i + 1), stan_gradient[jacobian][i], 1e-12) << f.columns[i + 1] << " " << input[0];
    }
}

}  // namespace
}  // namespace exmc::cli
