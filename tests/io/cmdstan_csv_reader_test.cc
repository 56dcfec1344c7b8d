// CmdStan CSV reader: header, rows, config and adaptation comments, and errors with file:line.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "exmc/io/cmdstan_csv_reader.hpp"
#include "exmc/io/cmdstan_csv_writer.hpp"

namespace exmc::io {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_cmdstan_csv(text, "run.csv");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(CmdStanCsvReader, ParsesHeaderRowsConfigAndDiagonalMetric) {
  const std::string text =
      "# model = m\n"
      "#             max_depth = 12\n"
      "#         metric = diag_e (Default)\n"
      "lp__,accept_stat__,theta.1,theta.2\n"
      "# Adaptation terminated\n"
      "# Step size = 0.5\n"
      "# Diagonal elements of inverse mass matrix:\n"
      "# 1.5, 0.25\n"
      "-1.5,0.9,1e-3,-2\n"
      "-2,0.8,nan,inf\n"
      "# \n"
      "#  Elapsed Time: 0.01 seconds (Warm-up)\n";
  const CmdStanCsv c = parse_cmdstan_csv(text, "run.csv");
  ASSERT_EQ(c.columns.size(), 4u);
  EXPECT_EQ(c.columns[2], "theta.1");
  EXPECT_EQ(c.num_rows, 2u);
  EXPECT_EQ(c.at(0, 2), 1e-3);
  EXPECT_TRUE(std::isnan(c.at(1, 2)));
  EXPECT_TRUE(std::isinf(c.at(1, 3)));
  EXPECT_EQ(c.config.at("max_depth"), "12");
  EXPECT_EQ(c.config.at("metric"), "diag_e");
  EXPECT_TRUE(c.has_adaptation);
  EXPECT_EQ(c.step_size, 0.5);
  EXPECT_FALSE(c.dense_metric);
  EXPECT_EQ(c.inv_metric, (std::vector<double>{1.5, 0.25}));
  EXPECT_EQ(c.column("theta.2"), 3);
  EXPECT_EQ(c.column("nope"), -1);
}

TEST(CmdStanCsvReader, ParsesDenseMetric) {
  const std::string text =
      "lp__,a,b\n"
      "# Adaptation terminated\n"
      "# Step size = 0.25\n"
      "# Elements of inverse mass matrix:\n"
      "# 2, 0.5\n"
      "# 0.5, 3\n"
      "1,2,3\n";
  const CmdStanCsv c = parse_cmdstan_csv(text, "dense.csv");
  EXPECT_TRUE(c.dense_metric);
  EXPECT_EQ(c.inv_metric, (std::vector<double>{2, 0.5, 0.5, 3}));
  EXPECT_EQ(c.num_rows, 1u);
}

TEST(CmdStanCsvReader, SavedWarmupRowsAreKeptApart) {
  const std::string text =
      "#     save_warmup = 1\n"
      "lp__,a\n"
      "1,10\n"
      "2,20\n"
      "# Adaptation terminated\n"
      "# Step size = 0.25\n"
      "# Diagonal elements of inverse mass matrix:\n"
      "# 2\n"
      "3,30\n";
  const CmdStanCsv c = parse_cmdstan_csv(text, "warm.csv");
  EXPECT_EQ(c.num_warmup_rows, 2u);
  EXPECT_EQ(c.warmup_values, (std::vector<double>{1, 10, 2, 20}));
  EXPECT_EQ(c.num_rows, 1u);
  EXPECT_EQ(c.values, (std::vector<double>{3, 30}));
}

TEST(CmdStanCsvReader, ReadsWhatTheWriterWrites) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "exmc_reader_roundtrip.csv").string();
  CmdStanCsvHeader h;
  h.max_depth = 7;
  h.metric = "dense_e";
  h.sig_figs = 17;
  {
    CmdStanCsvWriter w(path, h, {"lp__", "accept_stat__"}, {"a", "b"});
    w.write_adaptation(0.375, true, {2.0, 0.5, 0.5, 3.0}, 2);
    const double stats[] = {-1.25, 0.875};
    const double values[] = {0.1, -2e-7};
    w.write_draw(stats, values);
    w.finish(0.1, 0.2);
  }
  const CmdStanCsv c = read_cmdstan_csv(path);
  std::remove(path.c_str());
  EXPECT_EQ(c.columns, (std::vector<std::string>{"lp__", "accept_stat__", "a", "b"}));
  ASSERT_EQ(c.num_rows, 1u);
  EXPECT_EQ(c.at(0, 0), -1.25);
  EXPECT_EQ(c.at(0, 2), 0.1);
  EXPECT_EQ(c.at(0, 3), -2e-7);
  EXPECT_EQ(c.config.at("max_depth"), "7");
  EXPECT_TRUE(c.has_adaptation);
  EXPECT_EQ(c.step_size, 0.375);
  EXPECT_TRUE(c.dense_metric);
  EXPECT_EQ(c.inv_metric, (std::vector<double>{2.0, 0.5, 0.5, 3.0}));
}

TEST(CmdStanCsvReader, AnotherMethodsBlockRoundTripsAndVariationalMeanIsNotADraw) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "exmc_reader_variational.csv").string();
  CmdStanCsvHeader h;
  h.method_block = {"method = variational", "  variational", "    algorithm = fullrank"};
  {
    CmdStanCsvWriter w(path, h, {"lp__", "log_p__", "log_g__"}, {"mu"});
    const double mean_stats[] = {0, 0, 0}, draw_stats[] = {0, -1.5, -0.5};
    const double mean[] = {2.5}, draw[] = {3.25};
    w.write_draw(mean_stats, mean);
    w.write_draw(draw_stats, draw);
    w.finish(0.5);
  }
  const CmdStanCsv c = read_cmdstan_csv(path);
  std::remove(path.c_str());
  EXPECT_EQ(c.config.at("method"), "variational");
  EXPECT_EQ(c.config.at("algorithm"), "fullrank");
  EXPECT_EQ(c.config.count("max_depth"), 0u);  // no sample block
  ASSERT_EQ(c.num_rows, 1u);
  EXPECT_EQ(c.at(0, 1), -1.5);
  EXPECT_EQ(c.at(0, 3), 3.25);
  EXPECT_EQ(c.approximation_mean, (std::vector<double>{0, 0, 0, 2.5}));
}

// A byte order mark is not part of the first column's name (it hid lp__ from every lookup).
TEST(CmdStanCsvReader, Utf8ByteOrderMarkIsSkipped) {
  const CmdStanCsv c = parse_cmdstan_csv("\xEF\xBB\xBFlp__,x\n1,2\n", "run.csv");
  EXPECT_EQ(c.columns[0], "lp__");
  EXPECT_EQ(c.column("lp__"), 0);
}

TEST(CmdStanCsvReader, ErrorsNameFileLineAndProblem) {
  EXPECT_EQ(error_of("a,b\n1,2\n3\n"), "run.csv:3: row has 1 fields, the header has 2");
  EXPECT_EQ(error_of("# only comments\n"), "run.csv:1: no header row (column names) found");
  EXPECT_EQ(error_of(""), "run.csv: the file is empty (a CmdStan CSV starts with its header)");
  EXPECT_EQ(error_of("a,b\n1,x2\n"), "run.csv:2: column 2 (b): 'x2' is not a number");
  EXPECT_EQ(error_of("a,,c\n"), "run.csv:1: header column 2 has no name");
  EXPECT_EQ(error_of("a,b,a\n1,2,3\n"), "run.csv:1: header columns 1 and 3 are both named 'a'");
  EXPECT_EQ(error_of("a\n# Adaptation terminated\n# Step size = fast\n"),
            "run.csv:3: step size 'fast' is not a number");
  // Found with fuzz/cmdstan_csv_fuzzer's invariant: with save_warmup = 1 a second "Adaptation
  // terminated" swapped the draws back among the warmup rows (values.size() != num_rows * cols).
  EXPECT_EQ(error_of("# save_warmup = 1\na,b\n1,2\n# Adaptation terminated\n3,4\n"
                     "# Adaptation terminated\n5,6\n"),
            "run.csv:6: a second '# Adaptation terminated' line (one chain per file)");
  try {
    read_cmdstan_csv("/nonexistent/dir/output.csv");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/dir/output.csv: cannot open file for reading");
  }
}

}  // namespace
}  // namespace exmc::io
