// Reads one CmdStan CSV output file (one chain): header, draws, and the adaptation comments.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace exmc::io {

struct CmdStanCsv {
  std::string path;
  std::vector<std::string> columns;
  size_t num_rows = 0;
  std::vector<double> values;  // row-major: num_rows x columns.size(), post-warmup draws
  // With save_warmup = 1, the rows before "# Adaptation terminated" are warmup: kept apart.
  size_t num_warmup_rows = 0;
  std::vector<double> warmup_values;
  // "# key = value" comment lines of the config block (first occurrence; "(Default)" removed).
  std::map<std::string, std::string> config;
  // From "# Step size = ..." and the inverse metric lines after "# Adaptation terminated".
  bool has_adaptation = false;
  double step_size = 0;
  std::vector<double> inv_metric;  // d (diag_e) or d*d (dense_e, row after row)
  bool dense_metric = false;
  // method = variational: the first row (the approximation's mean) is kept here, not as a draw.
  std::vector<double> approximation_mean;

  double at(size_t row, size_t col) const { return values[row * columns.size() + col]; }
  // Column index, or -1 when absent.
  long column(const std::string& name) const;
};

// Throws std::runtime_error "path:line: what is wrong" for unreadable files, a missing header,
// rows with the wrong number of fields, and fields that are not numbers.
CmdStanCsv read_cmdstan_csv(const std::string& path);
CmdStanCsv parse_cmdstan_csv(const std::string& text, const std::string& path_for_errors);
// Only the header's "key = value" comments, as CmdStanCsv::config holds them, read up to the
// column names (not the draws); empty when the file cannot be read.
std::map<std::string, std::string> read_cmdstan_csv_config(const std::string& path);

}  // namespace exmc::io
