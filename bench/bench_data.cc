// Benchmark data through exmc_io's Stan JSON reader, with shape checks naming file and variable.
#include "bench_data.hpp"

#include <stdexcept>

#include "exmc/io/stan_json.hpp"

namespace exmc::bench {

struct BenchData::Impl {
  io::StanJsonData d;
};

BenchData::BenchData(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  impl_->d = io::StanJsonData::from_file(path);
}
BenchData::~BenchData() = default;
BenchData::BenchData(BenchData&&) noexcept = default;
BenchData& BenchData::operator=(BenchData&&) noexcept = default;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& name, const std::string& what) {
  throw std::runtime_error(path + ": variable '" + name + "': " + what);
}

std::string dims_str(const std::vector<size_t>& dims) {
  std::string s = "{";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "}";
}

}  // namespace

bool BenchData::has(const std::string& name) const { return impl_->d.contains(name); }

long BenchData::integer(const std::string& name) const {
  return static_cast<long>(impl_->d.at(name).as_int());
}

double BenchData::real(const std::string& name) const { return impl_->d.at(name).as_double(); }

std::vector<double> BenchData::vector(const std::string& name, size_t n) const {
  const auto& v = impl_->d.at(name);
  // A length-1 vector may be written as a bare number in Stan JSON.
  if (n == 1 && v.is_scalar()) return v.values;
  if (v.dims != std::vector<size_t>{n})
    fail(path_, name, "expected an array of " + std::to_string(n) + " numbers, found dims " +
                          dims_str(v.dims));
  return v.values;
}

std::vector<long> BenchData::int_vector(const std::string& name, size_t n) const {
  const auto& v = impl_->d.at(name);
  if (v.dims != std::vector<size_t>{n})
    fail(path_, name, "expected an array of " + std::to_string(n) + " integers, found dims " +
                          dims_str(v.dims));
  const auto ints = v.as_ints();
  return std::vector<long>(ints.begin(), ints.end());
}

std::vector<double> BenchData::matrix_row_major(const std::string& name, size_t rows,
                                                size_t cols) const {
  const auto& v = impl_->d.at(name);
  if (v.dims != std::vector<size_t>{rows, cols})
    fail(path_, name, "expected " + std::to_string(rows) + " arrays of " + std::to_string(cols) +
                          " numbers, found dims " + dims_str(v.dims));
  return v.values;  // the reader stores row-major (JSON nesting order)
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
