// Run N NUTS chains on threads: deterministic per (seed, chain), streaming draws to callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/nuts/sample_stats.hpp"
#include "exmc/nuts/sampler_config.hpp"
#include "exmc/runtime/cancel_token.hpp"
#include "exmc/runtime/progress.hpp"

namespace exmc::runtime {

struct RunConfig {
  nuts::SamplerConfig sampler;
  unsigned num_chains = 4;
  unsigned num_threads = 0;    // 0: min(num_chains, hardware threads)
  uint64_t seed = 1;
  uint64_t chain_offset = 0;   // chain c uses Rng stream chain_offset + c (for scale-out)
  bool save_warmup = false;    // keep warmup draws in the result (callbacks always see them)
  bool keep_draws = true;      // false: stream only, the result holds no draws
  const CancelToken* cancel = nullptr;
  ProgressOptions progress;
  // Optional per-chain starting points (CmdStan's per-chain init files): when non-empty it has
  // one entry per chain and replaces sampler.init_values for that chain.
  std::vector<std::vector<std::pair<std::string, std::vector<double>>>> chain_init_values;
  // Optional per-chain unconstrained starting points (e.g. draws of Pathfinder): one per chain,
  // each density.dim() long; replaces sampler.init_x / init_values (and chain_init_values).
  std::vector<std::vector<double>> chain_init_x;
  // Checkpoints: every `checkpoint_every` iterations (0: never) and after its last one, each
  // chain hands its whole state to Callbacks::on_checkpoint (after that iteration's on_draw and
  // on_adaptation). `resume_states`, when non-empty, has one entry per chain: such a state
  // continues the chain exactly where it was saved (an empty entry starts the chain afresh).
  // A resumed chain's ChainResult holds only the draws made after the resume point, and its
  // counters and phase times include the ones before it.
  unsigned checkpoint_every = 0;
  std::vector<std::string> resume_states;
};

// One draw as it is produced (only the draws thinning keeps: see SamplerConfig::thin). `values` are on the constrained scale, in the order of
// flat_names(density.output_vars()); the pointer is valid only during the call.
struct DrawEvent {
  unsigned chain;
  bool warmup;
  unsigned iteration;  // 0-based, counting warmup
  const double* values;
  size_t num_values;
  const nuts::SampleStats& stats;
  const double* unconstrained;  // the sampler's position, density.dim() values
};

// Called from the chain's worker thread. Calls for one chain are sequential; calls for
// different chains may run concurrently, so a callback shared by chains must synchronise.
struct Callbacks {
  std::function<void(const DrawEvent&)> on_draw;
  // After the last warmup iteration, before the first sampling draw.
  std::function<void(unsigned chain, const nuts::AdaptationState&)> on_adaptation;
  // See RunConfig::checkpoint_every; `iterations_done` counts warmup. The state is opaque bytes
  // for RunConfig::resume_states.
  std::function<void(unsigned chain, unsigned iterations_done, const std::string& state)> on_checkpoint;
};
using DrawCallback = std::function<void(const DrawEvent&)>;

struct ChainResult {
  unsigned chain = 0;
  size_t num_values = 0;
  // Row-major [draw][value]; warmup ones only with save_warmup.
  // With thin > 1 only the kept iterations (every thin-th of each phase) are here.
  std::vector<double> draws, warmup_draws;
  std::vector<nuts::SampleStats> stats, warmup_stats;
  nuts::AdaptationState adaptation;
  uint64_t grad_evals = 0;          // total, warmup included (initialisation too)
  uint64_t warmup_grad_evals = 0;
  uint64_t divergences = 0;         // sampling iterations marked divergent (thinned-out ones too)
  uint64_t warmup_divergences = 0;
  uint64_t recoveries = 0;          // density faults (NaN/Inf/throw) turned into divergences
  double warmup_seconds = 0, sampling_seconds = 0;
  bool cancelled = false;
  std::string error;                // non-empty when the chain could not run (e.g. no init); names no chain
  // The error was running out of memory: not a property of the inputs (another try, or another
  // machine, may pass), unlike the other errors, which repeat on every try.
  bool out_of_memory = false;

  size_t num_draws() const { return stats.size(); }
  const double* draw(size_t i) const { return draws.data() + i * num_values; }
};

struct RunResult {
  std::vector<std::string> names;  // flat constrained names
  std::vector<ChainResult> chains;
  bool cancelled = false;
  double wall_seconds = 0;
  // Throws std::runtime_error naming the first chain that failed, if any did.
  void throw_if_failed() const;
};

// How many threads run_chains runs the chains on: num_threads (0: the hardware's), at most one
// per chain, at least one.
unsigned chain_threads(const RunConfig& cfg);

RunResult run_chains(const LogDensity& density, const RunConfig& cfg, const Callbacks& callbacks);
RunResult run_chains(const LogDensity& density, const RunConfig& cfg,
                     const DrawCallback& on_draw = {});

}  // namespace exmc::runtime
