// Reads Stan JSON data files (CmdStan's data format) into name -> dims + flattened values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace exmc::io {

// Thrown for unreadable files, malformed JSON, ragged arrays and non-numeric entries.
// what() reads "data.json: variable 'y': ..." or "data.json:3:14: ..." for JSON syntax errors.
class StanJsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Deepest nesting of arrays and objects a data file may have (a clear error beyond, instead of a
// stack overflow; a Stan value of rank 8 needs 9 levels).
inline constexpr int kMaxJsonDepth = 256;

// One variable of a Stan JSON file.
//
// Flattening order: ROW-MAJOR, exactly the JSON nesting order (the last index varies fastest).
// `values[((i0 * d1) + i1) * d2 + i2]` is element [i0][i1][i2] (zero-based) of a rank-3 value,
// so a JSON matrix [[1,2,3],[4,5,6]] (dims {2,3}) is stored as 1 2 3 4 5 6.  Stan itself (and
// Eigen by default) store matrices column-major: use column_major() / to_column_major() for that.
struct StanJsonValue {
  std::string name;
  std::vector<size_t> dims;    // {} for a scalar; {0} for [], {2,0} for [[],[]]
  std::vector<double> values;  // row-major, size == product(dims) (1 for a scalar)
  // True when every entry was written as a JSON integer (no '.', no exponent, no NaN/Inf),
  // so the value can fill an int declaration. Empty arrays count as integer.
  bool is_integer = true;

  size_t size() const { return values.size(); }
  bool is_scalar() const { return dims.empty(); }
  // Element at a zero-based multi-index (row-major); throws StanJsonError on a bad index.
  double at(const std::vector<size_t>& index) const;
  // The values with the FIRST index varying fastest (column-major, Fortran order): for a matrix
  // [R, C] this is what Eigen::Map<const Eigen::MatrixXd>(v.data(), R, C) expects. Rank <= 1
  // values come back unchanged.
  std::vector<double> column_major() const;
  // Scalar accessors; throw StanJsonError naming the variable when the value is not a scalar
  // (or, for as_int, not integer-valued).
  double as_double() const;
  int64_t as_int() const;
  // All values as integers; throws when any entry is not integer-valued.
  std::vector<int64_t> as_ints() const;
};

// Row-major (last index fastest) -> column-major (first index fastest) for any rank.
std::vector<double> to_column_major(const std::vector<double>& row_major,
                                    const std::vector<size_t>& dims);
// The inverse of to_column_major.
std::vector<double> to_row_major(const std::vector<double>& column_major,
                                 const std::vector<size_t>& dims);

class StanJsonData;
namespace detail {
// The two readers behind StanJsonData::from_string (stan_json.cc): the general one (nlohmann's
// parser; every error message), and a fast one for well-formed files that returns false for
// anything it does not read exactly as the general one would (errors, escapes, empty nested
// arrays, huge integers...). Declared here for the test that holds them equal.
StanJsonData read_stan_json_general(const std::string& text, const std::string& source);
bool read_stan_json_fast(std::string_view text, std::vector<StanJsonValue>& vars);
}  // namespace detail

// A whole Stan JSON file: a JSON object whose members are numbers, (nested, rectangular) arrays
// of numbers, or the strings "NaN", "Inf", "-Inf", "Infinity", "-Infinity", "+Infinity".
// Keys the model does not declare are kept (and ignored by callers), as Stan does.
class StanJsonData {
 public:
  StanJsonData() = default;
  static StanJsonData from_file(const std::string& path);
  // `source` names the text in error messages (usually the file path). Well-formed files take a
  // fast reader (~10x nlohmann's DOM); anything else the general one, which says what is wrong.
  static StanJsonData from_string(std::string_view text, const std::string& source = "<json>");

  bool contains(const std::string& name) const { return vars_.count(name) != 0; }
  // Throws StanJsonError "source: no variable 'name'" when absent.
  const StanJsonValue& at(const std::string& name) const;
  const StanJsonValue* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  size_t size() const { return vars_.size(); }
  const std::string& source() const { return source_; }

  // Adds or replaces a variable (for data built in code); values are row-major.
  void set(const std::string& name, std::vector<size_t> dims, std::vector<double> values,
           bool is_integer);

 private:
  friend StanJsonData detail::read_stan_json_general(const std::string& text, const std::string& source);
  // A default-constructed object is the data of a run given none: messages about it start with
  // this ("<json>: error: data variable 'J' ... is missing from the data" named no file, and
  // no file was the trouble).
  std::string source_ = "no data given";
  std::map<std::string, StanJsonValue> vars_;
};

}  // namespace exmc::io
