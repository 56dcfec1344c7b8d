// Shared by the command's tests: run `exmc` in-process, a scratch folder per test, file helpers.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"

namespace exmc::cli {

namespace fs = std::filesystem;

struct Ran {
  int code;
  std::string out, err;
};

inline Ran exmc(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

// A two-parameter program whose log density and gradient have a closed form (log_prob_test and
// gradient_test_command_test check the command against it): at mu = 1, sigma = 2 the residual
// squares sum to 3.23.
inline constexpr const char* kNormalProgram = R"(data { int N; vector[N] y; }
parameters { real mu; real<lower=0> sigma; }
model { mu ~ normal(0, 10); sigma ~ exponential(1); y ~ normal(mu, sigma); }
)";
inline constexpr const char* kNormalData = R"({"N": 4, "y": [1.0, 2.5, 0.3, 1.7]})";
// One real parameter with a normal(1, 2) density: every Gaussian approximation is exact.
inline constexpr const char* kGaussianProgram = "parameters {\n  real mu;\n}\nmodel {\n  mu ~ normal(1, 2);\n}\n";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The process id too: two runs of one test at once (two builds' ctest on one machine) shared
    // the folder, and one's TearDown removed the other's files mid-run.
    dir = fs::temp_directory_path() /
          ("exmc_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
           std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) {
    const auto p = dir / name;
    std::ofstream(p) << text;
    return p.string();
  }
  static std::string example(const std::string& f) { return std::string(EXMC_SOURCE_DIR) + "/examples/" + f; }
  std::string path(const std::string& f) const { return (dir / f).string(); }
  fs::path dir;
};

inline std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Data lines only (timing comments differ between runs).
inline std::string data_lines(const std::string& p) {
  std::istringstream in(slurp(p));
  std::string line, keep;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') keep += line + "\n";
  return keep;
}

}  // namespace exmc::cli
