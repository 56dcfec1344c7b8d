#include "exmc/io/init_values.hpp"

#include <algorithm>
#include <stdexcept>

namespace exmc::io {
namespace {

std::string shape_text(const std::vector<size_t>& dims) {
  std::string s;
  for (size_t d : dims) s += (s.empty() ? "" : ",") + std::to_string(d);
  return "[" + s + "]";
}

}  // namespace

std::vector<std::pair<std::string, std::vector<double>>> init_values(const StanJsonData& json,
                                                                     const std::vector<VarInfo>& vars,
                                                                     const std::string& path) {
  std::vector<std::pair<std::string, std::vector<double>>> values;
  for (const auto& name : json.names()) {
    const auto& v = json.at(name);
    // Checked as data are: with only the element count checked later, [[1, 2], [3, 4]] for a
    // vector[4], [[1, 2, 3, 4]] for a matrix[2, 2] or 0.5 for a vector[1] were taken as its values.
    const auto var = std::find_if(vars.begin(), vars.end(), [&](const VarInfo& x) { return x.name == name; });
    if (var != vars.end() && var->shape != v.dims && !(var->size() == 0 && v.values.empty()))
      throw std::invalid_argument(
          path + ": variable '" + name + "': expected " +
          (var->shape.empty() ? std::string("a single number") : "shape " + shape_text(var->shape)) + ", found " +
          (v.dims.empty() ? std::string("a single number") : (var->shape.empty() ? "shape " : "") + shape_text(v.dims)));
    values.emplace_back(name, to_column_major(v.values, v.dims));
  }
  return values;
}

}  // namespace exmc::io
