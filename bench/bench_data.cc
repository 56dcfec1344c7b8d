// Stan JSON benchmark data through nlohmann_json (to be replaced by exmc_io's reader when it lands).
#include "bench_data.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace exmc::bench {

struct BenchData::Impl {
  nlohmann::json j;
};

BenchData::BenchData(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open data file");
  try {
    impl_->j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path + ": invalid JSON: " + e.what());
  }
  if (!impl_->j.is_object()) throw std::runtime_error(path + ": expected a JSON object at top level");
}
BenchData::~BenchData() = default;
BenchData::BenchData(BenchData&&) noexcept = default;
BenchData& BenchData::operator=(BenchData&&) noexcept = default;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& name, const std::string& what) {
  throw std::runtime_error(path + ": variable '" + name + "': " + what);
}

double as_real(const nlohmann::json& v, const std::string& path, const std::string& name) {
  if (v.is_number()) return v.get<double>();
  // Stan JSON spells non-finite values as strings.
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Inf" || s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Inf" || s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  fail(path, name, "expected a number, found " + v.dump());
}

long as_int(const nlohmann::json& v, const std::string& path, const std::string& name) {
  if (v.is_number_integer()) return v.get<long>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d) return static_cast<long>(d);
  }
  fail(path, name, "expected an integer, found " + v.dump());
}

}  // namespace

bool BenchData::has(const std::string& name) const { return impl_->j.contains(name); }

static const nlohmann::json& lookup(const nlohmann::json& j, const std::string& path,
                                    const std::string& name) {
  auto it = j.find(name);
  if (it == j.end()) fail(path, name, "missing");
  return *it;
}

long BenchData::integer(const std::string& name) const {
  return as_int(lookup(impl_->j, path_, name), path_, name);
}

double BenchData::real(const std::string& name) const {
  return as_real(lookup(impl_->j, path_, name), path_, name);
}

std::vector<double> BenchData::vector(const std::string& name, size_t n) const {
  const auto& v = lookup(impl_->j, path_, name);
  // A length-1 vector may be written as a bare number in Stan JSON.
  if (n == 1 && v.is_number()) return {v.get<double>()};
  if (!v.is_array() || v.size() != n)
    fail(path_, name, "expected an array of " + std::to_string(n) + " numbers");
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = as_real(v[i], path_, name);
  return out;
}

std::vector<long> BenchData::int_vector(const std::string& name, size_t n) const {
  const auto& v = lookup(impl_->j, path_, name);
  if (!v.is_array() || v.size() != n)
    fail(path_, name, "expected an array of " + std::to_string(n) + " integers");
  std::vector<long> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = as_int(v[i], path_, name);
  return out;
}

std::vector<double> BenchData::matrix_row_major(const std::string& name, size_t rows,
                                                size_t cols) const {
  const auto& v = lookup(impl_->j, path_, name);
  const std::string want =
      "expected " + std::to_string(rows) + " arrays of " + std::to_string(cols) + " numbers";
  if (!v.is_array() || v.size() != rows) fail(path_, name, want);
  std::vector<double> out(rows * cols);
  for (size_t r = 0; r < rows; ++r) {
    if (!v[r].is_array() || v[r].size() != cols)
      fail(path_, name, want + " (row " + std::to_string(r + 1) + ")");
    for (size_t c = 0; c < cols; ++c) out[r * cols + c] = as_real(v[r][c], path_, name);
  }
  return out;
}

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = {
      "simple", "medium", "stress",   "eight_schools_centered", "eight_schools_noncentered",
      "funnel", "logistic", "sv", "hier_big", "logistic_big"};
  return names;
}

std::string data_path(const std::string& shared_dir, const std::string& model) {
  return shared_dir + "/bench/data/" + model + ".json";
}

}  // namespace exmc::bench
