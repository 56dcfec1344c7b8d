// CmdStan CSV reader on large files: the draws take one allocation of their size, and a file read
// a block at a time (lines longer than a block, a pipe, no final newline) reads as its text does.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::io {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("exmc_reader_large_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// rows data rows of lp__,a,b; with save_warmup, warmup rows first and the adaptation block.
std::string draws_text(size_t warmup, size_t rows) {
  std::string t = "# method = sample (Default)\n#   save_warmup = " + std::string(warmup > 0 ? "1" : "0") +
                  "\nlp__,a,b\n";
  for (size_t r = 0; r < warmup; ++r) t += "-" + std::to_string(r) + ",0.5,1e-3\n";
  t += "# Adaptation terminated\n# Step size = 0.5\n# Diagonal elements of inverse mass matrix:\n# 1, 1\n";
  for (size_t r = 0; r < rows; ++r) t += std::to_string(r) + ",0.25,-2\n";
  return t + "# \n#  Elapsed Time: 0.1 seconds (Warm-up)\n";
}

// Grown by doubling, 10,000 rows of 3 columns took room for 16,384 (and 720 MB of draws from a
// 10^7-draw run passed through blocks of 512 MB and 1 GB, both held at once).
TEST(CmdStanCsvReaderLarge, DrawsTakeOneAllocationOfTheirSize) {
  for (const size_t warmup : {size_t(0), size_t(7000)}) {
    const std::string text = draws_text(warmup, 10000), path = temp_path("exact.csv");
    write_file(path, text);
    for (const CmdStanCsv& c : {read_cmdstan_csv(path), parse_cmdstan_csv(text, path)}) {
      ASSERT_EQ(c.num_rows, 10000u);
      EXPECT_EQ(c.values.size(), 30000u);
      EXPECT_EQ(c.values.capacity(), c.values.size()) << "warmup " << warmup;
      EXPECT_EQ(c.at(9999, 0), 9999.0);
      EXPECT_EQ(c.num_warmup_rows, warmup);
      EXPECT_EQ(c.warmup_values.size(), 3 * warmup);
      EXPECT_EQ(c.warmup_values.capacity(), c.warmup_values.size()) << "warmup " << warmup;
    }
    std::remove(path.c_str());
  }
}

// A header and rows longer than the 1 MB the reader takes at a time, a byte order mark, CRLF line
// ends and no newline at the end: the file reads as its text parses.
std::string wide_text() {
  std::string header = "lp__", r1 = "1", r2 = "2";
  for (int i = 1; i <= 150000; ++i) {
    header += ",theta." + std::to_string(i);
    r1 += "," + std::to_string(i) + ".25";
    r2 += ",-" + std::to_string(i);
  }
  return "\xEF\xBB\xBF# model = wide\r\n" + header + "\r\n" + r1 + "\n\n" + r2;
}

void expect_wide(const CmdStanCsv& c) {
  ASSERT_EQ(c.columns.size(), 150001u);
  EXPECT_EQ(c.columns[0], "lp__");
  EXPECT_EQ(c.columns[150000], "theta.150000");
  EXPECT_EQ(c.config.at("model"), "wide");
  ASSERT_EQ(c.num_rows, 2u);
  EXPECT_EQ(c.at(0, 150000), 150000.25);
  EXPECT_EQ(c.at(1, 0), 2.0);
  EXPECT_EQ(c.at(1, 150000), -150000.0);
}

TEST(CmdStanCsvReaderLarge, LinesLongerThanAReadBlock) {
  const std::string text = wide_text(), path = temp_path("wide.csv");
  ASSERT_GT(text.size(), size_t(2) << 20);
  write_file(path, text);
  expect_wide(read_cmdstan_csv(path));
  expect_wide(parse_cmdstan_csv(text, path));
  std::remove(path.c_str());
}

// A pipe has no size to count rows by beforehand: it is read once as it comes, here in pieces
// that split the byte order mark and the lines at every place.
TEST(CmdStanCsvReaderLarge, APipeIsReadAsItComes) {
  const std::string text = wide_text(), path = temp_path("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  std::thread writer([&] {
    const int fd = ::open(path.c_str(), O_WRONLY);
    size_t at = 0;
    for (size_t piece = 2; at < text.size(); piece = 65537) {
      const size_t n = std::min(piece, text.size() - at);
      if (::write(fd, text.data() + at, n) != ssize_t(n)) break;
      at += n;
      if (piece == 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::close(fd);
  });
  const CmdStanCsv c = read_cmdstan_csv(path);
  writer.join();
  std::remove(path.c_str());
  expect_wide(c);
}

}  // namespace
}  // namespace exmc::io
