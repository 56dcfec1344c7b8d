#include "exmc/core/log_density.hpp"

#include <stdexcept>
#include <string>

namespace exmc {

size_t VarInfo::size() const {
  size_t n = 1;
  for (size_t s : shape) n *= s;
  return n;
}

size_t total_size(const std::vector<VarInfo>& vars) {
  size_t n = 0;
  for (const auto& v : vars) n += v.size();
  return n;
}

std::vector<std::string> flat_names(const std::vector<VarInfo>& vars) {
  std::vector<std::string> out;
  for (const auto& v : vars) {
    const size_t n = v.size();
    if (v.shape.empty()) {
      out.push_back(v.name);
      continue;
    }
    // Column-major: the first index varies fastest.
    std::vector<size_t> idx(v.shape.size(), 0);
    for (size_t k = 0; k < n; ++k) {
      std::string s = v.name;
      for (size_t i : idx) s += "." + std::to_string(i + 1);
      out.push_back(std::move(s));
      for (size_t d = 0; d < idx.size(); ++d) {
        if (++idx[d] < v.shape[d]) break;
        idx[d] = 0;
      }
    }
  }
  return out;
}

double LogDensity::logp(const double* x) const {
  std::vector<double> g(dim());
  return logp_grad(x, g.data());
}

std::vector<VarInfo> LogDensity::output_vars() const { return {VarInfo{"x", {dim()}}}; }

std::vector<std::string> LogDensity::unconstrained_names() const {
  const std::vector<VarInfo> vars = output_vars();
  if (total_size(vars) != dim()) return {};
  return flat_names(vars);
}

void LogDensity::constrain(const double* x, double* out) const {
  for (size_t i = 0; i < dim(); ++i) out[i] = x[i];
}

bool LogDensity::unconstrain(const std::vector<std::pair<std::string, std::vector<double>>>& values,
                             double* x, std::string* error) const {
  for (const auto& [name, v] : values) {
    if (name == "x" && v.size() == dim()) {
      for (size_t i = 0; i < dim(); ++i) x[i] = v[i];
      return true;
    }
  }
  if (error) *error = "expected a value \"x\" of length " + std::to_string(dim());
  return false;
}

namespace detail {

void check_coordinate_names(size_t dim, const std::vector<VarInfo>& vars) {
  const size_t n = total_size(vars);
  if (n == dim) return;
  // constrain() copies the dim coordinates into a buffer sized by these names: any other
  // total would write past it, or leave values no one wrote.
  std::string names;
  for (const auto& v : vars) names += (names.empty() ? "" : ", ") + v.name;
  throw std::invalid_argument("make_log_density: the output variables (" + names + ") have " + std::to_string(n) +
                              " elements in all, but the density has " + std::to_string(dim) +
                              " coordinates; they name the coordinates, so the sizes must add up to dim (outputs "
                              "of another size need a LogDensity subclass with its own constrain())");
}

bool copy_named_values(const std::vector<VarInfo>& vars,
                       const std::vector<std::pair<std::string, std::vector<double>>>& values, double* x,
                       std::string* error) {
  auto err = [&](const std::string& m) {
    if (error) *error = m;
    return false;
  };
  for (const auto& [name, v] : values) {
    bool known = false;
    for (const auto& var : vars) known = known || var.name == name;
    if (!known) return err("unknown variable '" + name + "'");
  }
  size_t offset = 0;
  for (const auto& var : vars) {
    const size_t n = var.size();
    const std::vector<double>* v = nullptr;
    for (const auto& [name, vals] : values)
      if (name == var.name) v = &vals;
    if (!v && n > 0) return err("variable '" + var.name + "': no value given");
    if (v && v->size() != n)
      return err("variable '" + var.name + "': value has " + std::to_string(v->size()) + " elements; expected " +
                 std::to_string(n));
    for (size_t i = 0; i < n; ++i) x[offset + i] = (*v)[i];
    offset += n;
  }
  return true;
}

}  // namespace detail

}  // namespace exmc
