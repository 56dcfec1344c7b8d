// exmc sample --serve from the command line: refused beyond loopback unless asked, malformed
// addresses refused before anything runs, and the CSV files are the same with the dashboard on.
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include "cli.hpp"
#include "exmc/dashboard/dashboard.hpp"

namespace exmc::cli {
namespace {

namespace fs = std::filesystem;

struct Run {
  int code;
  std::string out, err;
};

Run exmc(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

class ServeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("exmc_serve_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> sample(const std::string& output) const {
    const std::string ex = std::string(EXMC_SOURCE_DIR) + "/examples/";
    return {"sample", ex + "eight_schools.stan", "--data", ex + "eight_schools.data.json", "--chains", "2",
            "--warmup", "200", "--draws", "300", "--seed", "11", "--no-progress", "--output", (dir_ / output).string()};
  }
  // The rows of a CSV file (comments, where timings and run ids live, left out).
  static std::string rows(const fs::path& p) {
    std::ifstream in(p);
    std::string line, all;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#') all += line + "\n";
    return all;
  }
  fs::path dir_;
};

TEST_F(ServeCli, NonLoopbackHostRefusedBeforeSampling) {
  for (const std::string host : {"0.0.0.0:0", "[::]:0"}) {
    auto args = sample("out.csv");
    args.insert(args.end(), {"--serve", host});
    const auto r = exmc(args);
    EXPECT_EQ(r.code, 1) << host;
    EXPECT_NE(r.err.find("not a loopback address"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--serve-allow-remote"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "out_1.csv"));
  }
}

TEST_F(ServeCli, MalformedOrLoneOptionsRefused) {
  for (const std::vector<std::string> extra :
       {std::vector<std::string>{"--serve", "localhost"}, {"--serve", "127.0.0.1:99999"}, {"--serve", "::1:80"},
        {"--serve-linger", "2"}, {"--serve-allow-remote"}}) {
    auto args = sample("out.csv");
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = exmc(args);
    EXPECT_EQ(r.code, 1) << extra[0];
    EXPECT_NE(r.err.find("--serve"), std::string::npos) << r.err;
  }
}

TEST_F(ServeCli, SameFilesWithTheDashboard) {
  if (!dashboard::available()) {
    auto args = sample("a.csv");
    args.insert(args.end(), {"--serve", "0"});
    const auto r = exmc(args);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("built without the dashboard (libcpp-httplib-dev)"), std::string::npos) << r.err;
    EXMC_SKIP_UNLESS_CI() << "built without cpp-httplib";
  }
  const auto plain = exmc(sample("a.csv"));
  ASSERT_EQ(plain.code, 0) << plain.err;
  auto args = sample("b.csv");
  args.insert(args.end(), {"--serve", "0", "--serve-linger", "0.2"});
  const auto served = exmc(args);
  ASSERT_EQ(served.code, 0) << served.err;
  EXPECT_NE(served.err.find("exmc: dashboard at http://127.0.0.1:"), std::string::npos) << served.err;
  for (const char* c : {"_1.csv", "_2.csv"}) {
    const auto a = rows(dir_ / ("a" + std::string(c))), b = rows(dir_ / ("b" + std::string(c)));
    EXPECT_GT(a.size(), 1000u);
    EXPECT_EQ(a, b);
  }
}

}  // namespace
}  // namespace exmc::cli
