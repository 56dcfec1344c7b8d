#include "exmc/core/log_density.hpp"

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

}  // namespace exmc
