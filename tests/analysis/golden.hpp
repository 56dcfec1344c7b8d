// Test helpers: read the golden CSV files and compare numbers to them with a relative tolerance.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace exmc::analysis::testing {

inline std::string golden_path(const std::string& name) {
  return std::string(EXMC_SOURCE_DIR) + "/tests/analysis/golden/" + name;
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::map<std::string, double> comments;  // "# key=value" lines
  size_t col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
};

inline double to_num(const std::string& s) {
  if (s == "NA") return std::numeric_limits<double>::quiet_NaN();
  if (s == "Inf") return std::numeric_limits<double>::infinity();
  return std::stod(s);
}

inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string f;
  while (std::getline(ss, f, ',')) out.push_back(f);
  return out;
}

inline Table read_table(const std::string& name) {
  std::ifstream in(golden_path(name));
  EXPECT_TRUE(in.good()) << "cannot open " << golden_path(name);
  Table t;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0) {
      const size_t eq = line.find('=');
      t.comments[line.substr(2, eq - 2)] = to_num(line.substr(eq + 1));
      continue;
    }
    if (t.header.empty()) t.header = split(line);
    else t.rows.push_back(split(line));
  }
  return t;
}

// Largest relative error seen by expect_rel over the whole test binary (printed at exit).
inline double& max_rel_error() {
  static double m = 0;
  return m;
}

// Relative tolerance 1e-8 by default; NaN (R's NA) must match NaN.
inline void expect_rel(double actual, double golden, const std::string& what, double rtol = 1e-8) {
  if (std::isnan(golden)) {
    EXPECT_TRUE(std::isnan(actual)) << what << ": expected NA, got " << actual;
    return;
  }
  if (std::isinf(golden)) {
    EXPECT_EQ(actual, golden) << what;
    return;
  }
  const double err = golden == 0 ? std::abs(actual) : std::abs(actual - golden) / std::abs(golden);
  if (std::isfinite(err)) max_rel_error() = std::max(max_rel_error(), err);
  // EXMC_GOLDEN_VERBOSE=1 lists every comparison off by more than 1e-13 (to see where the
  // small differences from R come from).
  if (std::getenv("EXMC_GOLDEN_VERBOSE") && err > 1e-13)
    std::printf("  %s: rel err %.3g\n", what.c_str(), err);
  EXPECT_LE(err, rtol) << what << ": got " << actual << ", golden " << golden;
}

}  // namespace exmc::analysis::testing
