// exmc diagnose MODEL.stan: CmdStan's gradient test, at a point given by name, checked against
// the density and gradient written out by hand; its failure path; and its command line.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

constexpr const char* kNormal = kNormalProgram;  // cli_test_support.hpp
constexpr const char* kData = kNormalData;

// The table's rows: param idx, value, model, finite diff, error, variable.
struct Row {
  double value, model, finite_diff, error;
  std::string name;
};
std::vector<Row> rows(const std::string& out, double* log_prob) {
  std::istringstream in(out);
  std::string line;
  std::vector<Row> r;
  while (std::getline(in, line)) {
    if (line.rfind(" Log probability=", 0) == 0) *log_prob = std::stod(line.substr(17));
    std::istringstream l(line);
    size_t idx;
    Row row;
    if (l >> idx >> row.value >> row.model >> row.finite_diff >> row.error >> row.name) r.push_back(row);
  }
  return r;
}

// At mu = 1, sigma = 2 (u = log 2), with the log-Jacobian u, constants of ~ dropped:
// lp = -mu^2/200 - sigma - sum (y - mu)^2 / (2 sigma^2) - N log sigma + log sigma;
// d/dmu = -mu/100 + sum (y - mu) / sigma^2; d/du = sigma (-1 + ss / sigma^3 - N / sigma) + 1.
TEST_F(CliTest, GradientTestAtAGivenPointMatchesTheDensityWrittenOutByHand) {
  const auto model = write("n.stan", kNormal), data = write("n.json", kData);
  const auto point = write("p.json", R"({"mu": 1.0, "sigma": 2.0})");
  const auto r = exmc({"diagnose", model, "--data", data, "--init", point});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("TEST GRADIENT MODE\n\n Log probability=", 0), 0u) << r.out;
  double lp = NAN;
  const auto t = rows(r.out, &lp);
  ASSERT_EQ(t.size(), 2u) << r.out;
  const double ss = 0.0 + 2.25 + 0.49 + 0.49;
  EXPECT_NEAR(lp, -0.005 - 2.0 - ss / 8 - 4 * std::log(2.0) + std::log(2.0), 1e-5);  // printed to 6 digits
  EXPECT_EQ(t[0].name, "mu");
  EXPECT_EQ(t[1].name, "sigma");
  EXPECT_DOUBLE_EQ(t[0].value, 1.0);
  EXPECT_NEAR(t[1].value, std::log(2.0), 1e-5);
  EXPECT_NEAR(t[0].model, -0.01 + 1.5 / 4, 1e-5);
  EXPECT_NEAR(t[1].model, 2.0 * (-1 + ss / 8 - 4 / 2.0) + 1, 1e-5);
  for (const auto& row : t) {
    EXPECT_NEAR(row.finite_diff, row.model, 1e-5);
    EXPECT_LT(std::fabs(row.error), 1e-6);
  }
  EXPECT_EQ(r.out.find("fails"), std::string::npos) << r.out;
}

// A step of 1: central differences are exact for mu (the log density is quadratic in it) and
// far off for log sigma (truncation error epsilon^2 times the third derivative over 6). That
// coordinate is marked, the command says how many and exits 1 (a script running it stops).
TEST_F(CliTest, GradientTestFailuresAreMarkedAndExitOne) {
  const auto model = write("n.stan", kNormal), data = write("n.json", kData);
  const auto point = write("p.json", R"({"mu": 1.0, "sigma": 2.0})");
  const auto r = exmc({"diagnose", model, "--data", data, "--init", point, "--epsilon", "1"});
  EXPECT_EQ(r.code, 1) << r.err;
  double lp = NAN;
  const auto t = rows(r.out, &lp);
  ASSERT_EQ(t.size(), 2u) << r.out;
  EXPECT_LT(std::fabs(t[0].error), 1e-9) << r.out;
  EXPECT_GT(std::fabs(t[1].error), 0.1) << r.out;
  EXPECT_EQ(r.out.find("<- fails"), r.out.rfind("<- fails")) << r.out;  // one mark
  EXPECT_NE(r.out.find("sigma  <- fails"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("exmc diagnose: the gradient differs from the finite differences by more than the tolerance "
                       "at 1 of 2 coordinates"),
            std::string::npos)
      << r.err;
  // A random point: the same seed gives the same one.
  const auto a = exmc({"diagnose", model, "--data", data, "--seed", "3"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(exmc({"diagnose", model, "--data", data, "--seed", "3"}).out, a.out);
  EXPECT_NE(exmc({"diagnose", model, "--data", data, "--seed", "4"}).out, a.out);
}

// 20,000 observations: |log p| near 1e5 at a random point, where the finite differences' own
// rounding (2^-52 |log p| / epsilon) is above CmdStan's absolute 1e-6. The correct gradient
// passes (the tolerance allows for that rounding), though some errors exceed 1e-6.
TEST_F(CliTest, GradientTestAllowsForTheFiniteDifferencesRoundingOnLargeData) {
  std::string y;
  for (int i = 0; i < 20000; ++i) y += (i ? "," : "") + std::to_string(3 * std::sin(i));
  const auto data = write("big.json", "{\"N\": 20000, \"y\": [" + y + "]}");
  const auto r = exmc({"diagnose", write("n.stan", kNormal), "--data", data, "--seed", "1"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  double lp = NAN;
  const auto t = rows(r.out, &lp);
  ASSERT_EQ(t.size(), 2u) << r.out;
  EXPECT_LT(lp, -1e4) << r.out;
  double largest = 0;
  for (const auto& row : t) largest = std::max(largest, std::fabs(row.error));
  EXPECT_GT(largest, 1e-6) << r.out;  // CmdStan's absolute test would have failed it
}

TEST_F(CliTest, GradientTestRefusals) {
  const auto model = write("n.stan", kNormal), data = write("n.json", kData);
  auto r = exmc({"diagnose", model, "--data", data, "--init", write("bad.json", R"({"sigma": -1})")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad initial values: variable 'sigma'"), std::string::npos) << r.err;
  r = exmc({"diagnose", model, "--data", data, "--epsilon", "0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("epsilon: 0 is not a positive step"), std::string::npos) << r.err;
  r = exmc({"diagnose", write("gq.stan", "generated quantities { real z = 1; }\n")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("the program has no parameters: no gradient to test"), std::string::npos) << r.err;
  // Options of one mode given to the other.
  const auto csv = write("x.csv", "lp__,mu\n0,1\n0,2\n");
  r = exmc({"diagnose", csv, "--data", data});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--data is for a program's gradient test"), std::string::npos) << r.err;
  r = exmc({"diagnose", model, "--data", data, "--allow-mixed-runs"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--allow-mixed-runs is for CSV files"), std::string::npos) << r.err;
}

// A program's or its data's error reads as in exmc optimize: its own "FILE:LINE:COL: error:" first,
// not behind "exmc diagnose: error: " (which made "... error: m.stan:2:21: error: ...").
TEST_F(CliTest, GradientTestStanErrorsReadAsTheMethodCommands) {
  const auto bad = write("bad.stan", "parameters { real mu; }\nmodel { mu ~ normal(nowhere, 1); }\n");
  auto r = exmc({"diagnose", bad});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind(bad + ":2:21: error: undeclared identifier 'nowhere'", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find("exmc diagnose: error:"), std::string::npos) << r.err;
  const auto model = write("n.stan", kNormal), data = write("short.json", R"({"N": 4})");
  r = exmc({"diagnose", model, "--data", data});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind(data + ": error: data variable 'y'", 0), 0u) << r.err;
  EXPECT_EQ(r.err, exmc({"optimize", model, "--data", data, "--output", path("o.csv")}).err);
}

}  // namespace
}  // namespace exmc::cli
