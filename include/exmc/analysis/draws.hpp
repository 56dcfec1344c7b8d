// Draws container: chains x draws x named variables, the one input every diagnostic works on.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace exmc::analysis {

// values is variable-major, then chain, then draw: each variable's draws for all chains are
// contiguous, which is the layout every per-variable diagnostic wants.
struct Draws {
  size_t num_chains = 0;
  size_t num_draws = 0;  // per chain
  std::vector<std::string> names;
  std::vector<double> values;  // size names.size() * num_chains * num_draws

  Draws() = default;
  Draws(size_t chains, size_t draws, std::vector<std::string> variable_names)
      : num_chains(chains), num_draws(draws), names(std::move(variable_names)),
        values(names.size() * chains * draws, 0.0) {}

  size_t num_variables() const { return names.size(); }
  double& at(size_t variable, size_t chain, size_t draw) {
    return values[(variable * num_chains + chain) * num_draws + draw];
  }
  double at(size_t variable, size_t chain, size_t draw) const {
    return values[(variable * num_chains + chain) * num_draws + draw];
  }
  // num_chains * num_draws values, chain after chain.
  const double* variable(size_t v) const { return values.data() + v * num_chains * num_draws; }
  // Index of a variable by name; throws std::out_of_range naming it when absent.
  size_t index_of(const std::string& name) const;
};

}  // namespace exmc::analysis
