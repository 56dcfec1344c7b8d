// Binds Stan JSON data to a program's data block: types, sizes and constraints checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "exmc/io/stan_json.hpp"
#include "exmc/stan/ast.hpp"

namespace exmc::stan {

// One variable with its resolved shape. `dims` is the full declared shape: array sizes first,
// then the vector/matrix sizes (vector[N] -> {N}, matrix[R,C] -> {R,C}, cov_matrix[K] -> {K,K},
// cholesky_factor_cov[M] -> {M,M}). `values` are ROW-MAJOR (last index fastest), as in
// io::StanJsonValue; use io::to_column_major(values, dims) for Eigen's order.
struct DataValue {
  std::string name;
  const VarDecl* decl = nullptr;  // points into the Program given to check_data
  std::vector<size_t> dims;
  std::vector<double> values;
  bool is_int = false;
  bool is_scalar() const { return dims.empty(); }
};

// The data block's variables bound to values, plus the transformed-data scalars that could be
// evaluated from them (int/real scalars declared with an initialiser and never reassigned), so
// that sizes of later declarations can be resolved.
class DataEnv {
 public:
  const DataValue* find(const std::string& name) const;
  // Throws Error when absent.
  const DataValue& at(const std::string& name) const;
  const std::map<std::string, DataValue>& values() const { return vars_; }

  // Value of a size or bound expression: literals, data scalars and indexed data elements,
  // arithmetic (int division for ints), comparisons, ?:, and size, num_elements, rows, cols,
  // max, min, sum, abs, floor, ceil, sqrt, exp, log. Throws Error (file:line:col) otherwise.
  double eval(const Expr& e) const;
  int64_t eval_int(const Expr& e) const;  // also checks the result is an int
  // The full shape of a declaration (see DataValue::dims); negative sizes throw.
  std::vector<size_t> shape(const SizedType& t) const;

  void add(DataValue v) { vars_[v.name] = std::move(v); }
  std::string program_file;
  std::string program_source;

 private:
  struct Val {
    double v;
    bool is_int;
  };
  Val ev(const Expr& e) const;
  std::map<std::string, DataValue> vars_;
};

// Checks every data-block declaration against `data` (in declaration order, so sizes may use
// earlier variables) and returns the bound values. Throws DataError whose message names the
// variable and what was expected, e.g.
//   data variable 'N': expected int, found 2.5
//   data variable 'y': expected 10 elements (declared vector[N] with N = 10), found 9
//   data variable 'sigma': must be >= 0, found -1 at index 3
//   data variable 'K' (declared at model.stan:3:3) is missing from the data
// Integer-valued reals (2.0) are accepted for int declarations. A variable whose declared size
// is zero may be left out, as in CmdStan. Keys the program does not declare are ignored.
DataEnv check_data(const Program& program, const io::StanJsonData& data);

}  // namespace exmc::stan
