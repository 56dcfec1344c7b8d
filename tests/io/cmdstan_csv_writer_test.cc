// CmdStan CSV writer: layout as CmdStan writes it, and no complete-looking partial files.
#include "exmc/io/cmdstan_csv_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace exmc::io {
namespace {

const std::vector<std::string> kStats = {"lp__",        "accept_stat__", "stepsize__",
                                         "treedepth__", "n_leapfrog__",  "divergent__",
                                         "energy__"};

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

size_t find_line(const std::vector<std::string>& lines, const std::string& l) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i] == l) return i;
  return std::string::npos;
}

TEST(CmdStanCsvWriter, WritesHeaderAdaptationDrawsAndTimingThenRenames) {
  const std::string path = ::testing::TempDir() + "exmc_writer_test.csv";
  std::filesystem::remove(path);
  CmdStanCsvHeader h;
  h.model = "bernoulli_model";
  h.seed = 1234;
  h.num_warmup = 2;
  h.save_warmup = true;
  h.data_file = "bernoulli.data.json";
  {
    CmdStanCsvWriter w(path, h, kStats, {"theta", "beta.1", "beta.2"});
    const double warm[7] = {-7.1, 0.5, 2, 1, 1, 0, 7.5};
    const double wv[3] = {0.1, 1, 2};
    w.write_draw(warm, wv);
    w.write_draw(warm, wv);
    w.write_adaptation(0.908648123, false, {0.534531234, 1.0 / 3, 2}, 3);
    const double st[7] = {-6.80946123, 0.876555, 0.908648, 1, 3, 0, 7.19498};
    const double v[3] = {0.25463, -1e-7, 123456789.0};
    w.write_draw(st, v);
    w.flush();
    EXPECT_TRUE(std::filesystem::exists(w.temp_path()));
    EXPECT_FALSE(std::filesystem::exists(path)) << "a running file must not look complete";
    EXPECT_EQ(w.rows_written(), 3u);
    w.finish(0.005, 0.015);
    EXPECT_FALSE(std::filesystem::exists(w.temp_path()));
  }
  const auto lines = read_lines(path);
  ASSERT_GT(lines.size(), 20u);
  EXPECT_EQ(lines[0], "# stan_version_major = 2");
  EXPECT_NE(find_line(lines, "# model = bernoulli_model"), std::string::npos);
  EXPECT_NE(find_line(lines, "#     num_warmup = 2"), std::string::npos);
  EXPECT_NE(find_line(lines, "#     save_warmup = 1"), std::string::npos);
  EXPECT_NE(find_line(lines, "#       delta = 0.8 (Default)"), std::string::npos);
  EXPECT_NE(find_line(lines, "#             max_depth = 10 (Default)"), std::string::npos);
  EXPECT_NE(find_line(lines, "#   seed = 1234"), std::string::npos);
  const size_t hdr = find_line(
      lines,
      "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,theta,beta.1,"
      "beta.2");
  ASSERT_NE(hdr, std::string::npos);
  EXPECT_EQ(lines[hdr + 1], "-7.1,0.5,2,1,1,0,7.5,0.1,1,2");
  EXPECT_EQ(lines[hdr + 3], "# Adaptation terminated");
  EXPECT_EQ(lines[hdr + 4], "# Step size = 0.908648");
  EXPECT_EQ(lines[hdr + 5], "# Diagonal elements of inverse mass matrix:");
  EXPECT_EQ(lines[hdr + 6], "# 0.534531, 0.333333, 2");
  EXPECT_EQ(lines[hdr + 7], "-6.80946,0.876555,0.908648,1,3,0,7.19498,0.25463,-1e-07,1.23457e+08");
  EXPECT_EQ(lines[hdr + 8], "# ");
  EXPECT_EQ(lines[hdr + 9], "#  Elapsed Time: 0.005 seconds (Warm-up)");
  EXPECT_EQ(lines[hdr + 10], "#                0.015 seconds (Sampling)");
  EXPECT_EQ(lines[hdr + 11], "#                0.02 seconds (Total)");
  EXPECT_EQ(lines.size(), hdr + 13);
  std::filesystem::remove(path);
}

// The metric block is formatted by format_g, not fprintf: the same text, value for value, at
// every precision (values of every magnitude, negative ones, zeros, subnormals).
TEST(CmdStanCsvWriter, MetricBlockIsPrintfsText) {
  const std::string path = ::testing::TempDir() + "exmc_writer_metric_text.csv";
  constexpr size_t d = 7;
  std::vector<double> inv(d * d);
  for (size_t i = 0; i < inv.size(); ++i)
    inv[i] = (i % 3 == 0 ? -1.0 : 1.0) * std::ldexp(0.7071067811865476 + double(i) / 97, int(i * 37 % 200) - 100);
  inv[5] = 0;
  inv[11] = 4.9e-324;
  inv[12] = 1e300;
  for (const int sig : {-1, 1, 3, 9, 17, 18}) {
    for (const bool dense : {false, true}) {
      CmdStanCsvHeader h;
      h.sig_figs = sig;
      {
        CmdStanCsvWriter w(path, h, kStats, {"a"});
        w.write_adaptation(0.5, dense, inv, d);
        w.finish(1, 2);
      }
      const auto lines = read_lines(path);
      const size_t a = find_line(lines, dense ? "# Elements of inverse mass matrix:"
                                              : "# Diagonal elements of inverse mass matrix:");
      ASSERT_NE(a, std::string::npos);
      const int p = sig < 0 ? 6 : std::max(sig, 1);
      for (size_t r = 0; r < (dense ? d : 1); ++r) {
        std::string want = "# ";
        for (size_t k = 0; k < d; ++k) {
          char b[64];
          std::snprintf(b, sizeof b, "%.*g", p, dense ? inv[k * d + r] : inv[k]);
          want += (k ? ", " : "") + std::string(b);
        }
        EXPECT_EQ(lines[a + 1 + r], want) << "sig_figs " << sig << " row " << r;
      }
    }
  }
  std::filesystem::remove(path);
}

TEST(CmdStanCsvWriter, DenseMetricBlockAndSigFigs) {
  const std::string path = ::testing::TempDir() + "exmc_writer_dense.csv";
  CmdStanCsvHeader h;
  h.metric = "dense_e";
  h.sig_figs = 9;
  {
    CmdStanCsvWriter w(path, h, kStats, {"a", "b"});
    w.write_adaptation(0.5, true, {1, 0.25, 0.25, 2}, 2);
    const double st[7] = {1.23456789012, 0, 0, 0, 0, 0, 0};
    const double v[2] = {1, 2};
    w.write_draw(st, v);
    w.finish(1, 2);
  }
  const auto lines = read_lines(path);
  EXPECT_NE(find_line(lines, "#         metric = dense_e"), std::string::npos);
  const size_t a = find_line(lines, "# Elements of inverse mass matrix:");
  ASSERT_NE(a, std::string::npos);
  EXPECT_EQ(lines[a + 1], "# 1, 0.25");
  EXPECT_EQ(lines[a + 2], "# 0.25, 2");
  EXPECT_EQ(lines[a + 3], "1.23456789,0,0,0,0,0,0,1,2");
  std::filesystem::remove(path);
}

// The rows are written without printf; the text must still be exactly "%.{sig_figs}g" of each
// value (what CmdStan writes and what readers expect), over magnitudes, signs, subnormals,
// integers, halfway cases and every precision the command allows.
TEST(CmdStanCsvWriter, NumbersAreExactlyPrintfsPercentG) {
  const std::string path = (std::filesystem::temp_directory_path() / "exmc_writer_g.csv").string();
  std::vector<double> values = {0.0, -0.0, 1.0, -1.0, 0.5, 1e-5, 1e-4, 123456.0, 1234567.0, 9.9999995,
                                0.1 + 0.2, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                                -3.0000005, 100000.5, 999999.5, 0.000123456789, 2.5, 3.5, 1e21, 42.0};
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 2000; ++i) {  // random bit patterns: every exponent, finite ones kept
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    double v;
    std::memcpy(&v, &state, sizeof v);
    if (std::isfinite(v)) values.push_back(v);
    values.push_back(double(int64_t(state % 2000001) - 1000000) / 64.0);
  }
  for (int sig : {-1, 0, 1, 3, 6, 9, 12, 15, 17, 18}) {
    CmdStanCsvHeader h;
    h.sig_figs = sig;
    {
      CmdStanCsvWriter w(path, h, {}, {"x"});
      for (double v : values) w.write_draw(nullptr, &v);
      w.finish(0.0);
    }
    const auto lines = read_lines(path);
    std::filesystem::remove(path);
    const size_t first = find_line(lines, "x") + 1;
    ASSERT_NE(first, std::string::npos + 1);
    ASSERT_GE(lines.size(), first + values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      char want[64];
      std::snprintf(want, sizeof want, "%.*g", sig >= 0 ? sig : 6, values[i]);  // %.0g: 1 digit
      ASSERT_EQ(lines[first + i], want) << "sig_figs " << sig << ", value " << i;
    }
  }
}

TEST(CmdStanCsvWriter, AbandonedWriterLeavesNoFile) {
  const std::string path = ::testing::TempDir() + "exmc_writer_abandoned.csv";
  std::string tmp;
  {
    CmdStanCsvWriter w(path, {}, kStats, {"x"});
    tmp = w.temp_path();
    const double st[7] = {0, 0, 0, 0, 0, 0, 0};
    const double v[1] = {1};
    w.write_draw(st, v);
  }  // e.g. an exception unwound past the writer
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(tmp));
  EXPECT_THROW(CmdStanCsvWriter("/nonexistent-dir/x.csv", {}, kStats, {"x"}), std::runtime_error);
}

// Issue 13, class 1: two runs with the same output used to share `path`.tmp, so the second
// run's writer truncated the first one's file, and after the first rename kept writing into the
// file under the final name. Each writer now owns a temporary of its own.
TEST(CmdStanCsvWriter, TwoWritersOfOnePathNeverShareATemporary) {
  const std::string path = ::testing::TempDir() + "exmc_writer_two_runs.csv";
  std::filesystem::remove(path);
  CmdStanCsvHeader h1, h2;
  h1.seed = 111;
  h2.seed = 222;
  CmdStanCsvWriter w1(path, h1, kStats, {"x"});
  CmdStanCsvWriter w2(path, h2, kStats, {"x"});
  EXPECT_NE(w1.temp_path(), w2.temp_path());
  // The temporary lies beside the output (same folder, so the final rename is atomic).
  EXPECT_EQ(w1.temp_path().rfind(path + ".", 0), 0u) << w1.temp_path();
  EXPECT_EQ(w1.temp_path().substr(w1.temp_path().size() - 4), ".tmp");
  const double st[7] = {0, 0, 0, 0, 0, 0, 0};
  const double one[1] = {1}, two[1] = {2};
  for (int i = 0; i < 3; ++i) w1.write_draw(st, one);
  for (int i = 0; i < 5; ++i) w2.write_draw(st, two);
  w1.finish(0.1, 0.2);
  auto lines = read_lines(path);
  EXPECT_NE(find_line(lines, "#   seed = 111"), std::string::npos);
  EXPECT_EQ(find_line(lines, "#   seed = 222"), std::string::npos);
  // The second run writing on must not change the finished file.
  for (int i = 0; i < 5; ++i) w2.write_draw(st, two);
  w2.flush();
  EXPECT_EQ(read_lines(path), lines);
  w2.finish(0.1, 0.2);
  lines = read_lines(path);
  EXPECT_NE(find_line(lines, "#   seed = 222"), std::string::npos);
  size_t rows = 0;
  for (const auto& l : lines) rows += l == "0,0,0,0,0,0,0,2";
  EXPECT_EQ(rows, 10u);
  EXPECT_FALSE(std::filesystem::exists(w1.temp_path()));
  EXPECT_FALSE(std::filesystem::exists(w2.temp_path()));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace exmc::io
