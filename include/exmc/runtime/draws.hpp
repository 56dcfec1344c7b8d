// A run's kept draws as analysis::Draws (chains x draws x variables), the input of summarise(),
// the diagnostics and PSIS-LOO. Header-only: the runtime library does not link the analysis.
#pragma once

#include <stdexcept>
#include <string>

#include "exmc/analysis/draws.hpp"
#include "exmc/runtime/run_chains.hpp"

namespace exmc::runtime {

// The post-warmup draws (warmup = true: the warmup draws RunConfig::save_warmup kept), named
// by result.names. Every chain must have as many as the first (a chain that failed has none):
// throws std::invalid_argument naming the chain that differs.
inline analysis::Draws to_draws(const RunResult& result, bool warmup = false) {
  const auto count = [&](const ChainResult& c) {
    return warmup ? (c.num_values ? c.warmup_draws.size() / c.num_values : 0) : c.num_draws();
  };
  const size_t n = result.chains.empty() ? 0 : count(result.chains.front());
  for (const auto& c : result.chains)
    if (count(c) != n)
      throw std::invalid_argument("to_draws: chain " + std::to_string(c.chain + 1) + " has " +
                                  std::to_string(count(c)) + (warmup ? " warmup" : "") + " draws, chain " +
                                  std::to_string(result.chains.front().chain + 1) + " has " + std::to_string(n) +
                                  (c.error.empty() ? std::string() : " (chain " + std::to_string(c.chain + 1) +
                                                                         ": " + c.error + ")"));
  analysis::Draws d(result.chains.size(), n, result.names);
  for (size_t k = 0; k < result.chains.size(); ++k) {
    const auto& c = result.chains[k];
    const std::vector<double>& rows = warmup ? c.warmup_draws : c.draws;
    for (size_t i = 0; i < n; ++i)
      for (size_t v = 0; v < c.num_values; ++v) d.at(v, k, i) = rows[i * c.num_values + v];
  }
  return d;
}

}  // namespace exmc::runtime
