// Reads a benchmark data file (Stan JSON) into typed arrays, with errors naming file and variable.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace exmc::bench {

// A Stan JSON data file held in memory. Accessors throw std::runtime_error naming the file,
// the variable and what was expected when a variable is missing or has the wrong shape.
class BenchData {
 public:
  explicit BenchData(const std::string& path);
  ~BenchData();
  BenchData(BenchData&&) noexcept;
  BenchData& operator=(BenchData&&) noexcept;

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const;
  long integer(const std::string& name) const;
  double real(const std::string& name) const;
  std::vector<double> vector(const std::string& name, size_t expected_size) const;
  std::vector<long> int_vector(const std::string& name, size_t expected_size) const;
  // A rows x cols matrix (or array of vectors) as nested JSON arrays, returned row-major.
  std::vector<double> matrix_row_major(const std::string& name, size_t rows, size_t cols) const;

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

// The ten benchmark models, in the order the README lists them.
const std::vector<std::string>& model_names();

// Data file of a model under `shared_dir` (the folder holding bench/): logistic_big uses its
// own data with the logistic program.
std::string data_path(const std::string& shared_dir, const std::string& model);

}  // namespace exmc::bench
