// NUTS as a service: a loaded program and settings in, every kept draw (sampler statistics, the
// constrained values, the generated quantities) to an observer. The `exmc sample` command writes
// them to CmdStan CSV files; the Python module copies them into arrays.
//
// Two steps so a caller can set up its outputs before anything runs: the constructor compiles
// the density and resolves metric, initial values (a radius, a Stan JSON file, values given in
// memory, or Pathfinder) and the generated quantities; run() samples.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "exmc/core/stuck_chain.hpp"
#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/runtime/run_chains.hpp"
#include "exmc/services/program.hpp"

namespace exmc::services {

struct SampleSettings {
  unsigned chains = 4;
  unsigned threads = 0;  // 0: one per chain, at most the cores
  unsigned warmup = 1000;
  unsigned draws = 1000;
  unsigned thin = 1;
  double adapt_delta = 0.8;
  int max_depth = 10;
  std::string metric = "diag";  // diag | dense | grad-diag | low-rank
  // A radius, a Stan JSON file of constrained values, or "pathfinder" (each chain starts at its
  // own Pathfinder draw; warmup starts from the draws' variance).
  std::string init = "2";
  // How messages name `init`: "--init" for the command, "init" for Python's argument.
  std::string init_name = "--init";
  // Constrained values by name for every chain (what a Python dict gives); replaces `init`'s file.
  std::vector<std::pair<std::string, std::vector<double>>> init_values;
  bool save_warmup = false;
  // CmdStan's fixed_param sampler: each chain stays at its initial values (an --init file, values
  // given, or a random point) and every draw evaluates the generated quantities there; no warmup.
  // Chosen for a program without parameters whatever this says, as CmdStan does.
  bool fixed_param = false;
  Precision precision = Precision::kF64;
  // A saved metric and step size, where warmup starts (or, without warmup, what the chains use);
  // `metric` still decides the kind: a diagonal one loaded for "dense" becomes that diagonal matrix.
  std::optional<nuts::AdaptationState> warm_start;
  std::string warm_start_file;  // where warm_start was read from, for messages ("" : not said)
  bool progress = false;                            // the progress display on stderr
  const runtime::CancelToken* cancel = nullptr;     // cancel() stops every chain soon
  // Chain c of this job is chain chain_offset + c of a larger run (its random streams, its
  // generated quantities' stream): K processes running blocks of a run's chains together draw
  // what one process running them all does (`mpirun exmc sample`).
  uint64_t chain_offset = 0;
  // The larger run's chain count (0: this job's `chains`): --init pathfinder gives chain g of
  // the run the draw it gets in one process.
  unsigned total_chains = 0;
  // Checkpoints (see SampleObserver::on_checkpoint): every N iterations, 0 for none.
  unsigned checkpoint_every = 0;
  // One per chain when non-empty: a state from on_checkpoint continues that chain exactly where
  // it was saved, generated quantities' random streams included; "" starts the chain afresh.
  std::vector<std::string> resume_states;
};

// One kept draw (thinned-out iterations never reach the observer; warmup ones only with
// save_warmup). Pointers are valid only during the call.
struct SampleDraw {
  unsigned chain;
  bool warmup;
  unsigned iteration;   // 0-based, counting warmup
  const double* stats;  // SampleJob::stat_names() order: lp__, accept_stat__, ...
  const double* row;    // the constrained values, then the generated quantities
  size_t row_size;
};

// on_draw, on_adaptation and on_checkpoint come in each chain's order, one call at a time for a
// chain, concurrently across chains, and not necessarily on the chain's thread: the run's output
// thread makes them where a core is free (generated quantities are evaluated there too), so the
// chains do not wait on the output. on_iteration comes on the chain's thread, as it happens, and
// may run ahead of on_draw.
struct SampleObserver {
  std::function<void(const SampleDraw&)> on_draw;
  // After the last warmup iteration, before the first kept draw.
  std::function<void(unsigned chain, const nuts::AdaptationState&)> on_adaptation;
  // Every iteration as it completes, warmup included, whether or not it is kept (with thin > 1
  // only the iterations thinning keeps): `done` = iterations finished. For progress displays.
  std::function<void(unsigned chain, unsigned done)> on_iteration;
  // Every SampleSettings::checkpoint_every iterations and after the chain's last one, after
  // that iteration's on_draw / on_adaptation: the chain's whole state (opaque bytes for
  // SampleSettings::resume_states). Whatever the caller has written of this chain's draws up to
  // here belongs with it.
  std::function<void(unsigned chain, unsigned done, const std::string& state)> on_checkpoint;
};

struct SampleRun {
  runtime::RunResult result;  // per chain: counts, timings, errors (draws are not kept here)
  uint64_t gq_failures = 0;   // draws whose generated quantities failed (written as NaN)
  std::string first_gq_failure;
  double first_iteration_ms = 0;  // after the job was created; NaN when no iteration finished
  // What looks like an improper posterior or a collapsed adaptation, one sentence per chain
  // affected: kept draws (constrained or unconstrained) beyond 1e30 in magnitude, an adapted
  // variance beyond 1e60 or a step size below 1e-12. Empty when nothing ran away.
  std::vector<std::string> runaway;
  // Chains that got stuck after warmup (core/stuck_chain.hpp): one sentence per chain. Its draws
  // describe one point, not the posterior. Empty when no chain got stuck.
  std::vector<std::string> stuck;
  bool ok() const;            // every chain completed and nothing was cancelled
};

class SampleJob {
 public:
  // Throws std::invalid_argument / std::runtime_error naming the setting or variable at fault.
  SampleJob(const Program& program, SampleSettings settings, uint64_t seed);
  // The job refers to the program's data and generated quantities until it is destroyed: a
  // temporary Program (SampleJob job(Program::load(...), ...)) would be gone before run().
  SampleJob(const Program&& program, SampleSettings settings, uint64_t seed) = delete;
  ~SampleJob();

  uint64_t seed() const { return cfg_.seed; }
  const runtime::RunConfig& config() const { return cfg_; }
  const graph::CompiledDensity& density() const { return *density_; }
  double compile_ms() const { return compile_ms_; }
  // Parameters and transformed parameters (output_vars), then the generated quantities' vars.
  const std::vector<VarInfo>& vars() const { return vars_; }
  const std::vector<VarInfo>& gq_vars() const { return gq_vars_; }
  // Flat CmdStan names of a row: values then generated quantities; stat_names() of the stats.
  const std::vector<std::string>& names() const { return names_; }
  size_t num_values() const { return num_values_; }
  // Stan's sampler statistics: NUTS's seven (lp__ ... energy__), or lp__ and accept_stat__ for
  // the fixed_param sampler (SampleDraw::stats has at least these).
  std::vector<std::string> stat_names() const;
  bool fixed_param() const { return cfg_.sampler.fixed_param; }
  // What setting up said (e.g. the Pathfinder initialisation), and what to warn about
  // (init names that match no parameter).
  const std::vector<std::string>& notes() const { return notes_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  SampleRun run(const SampleObserver& observer);

 private:
  const Program& program_;
  SampleSettings settings_;
  std::unique_ptr<graph::CompiledDensity> density_;
  std::unique_ptr<stan::GeneratedQuantities> gq_;
  runtime::RunConfig cfg_;
  std::vector<VarInfo> vars_, gq_vars_;
  std::vector<std::string> names_, notes_, warnings_;
  size_t num_values_ = 0;
  double compile_ms_ = 0;
  std::chrono::steady_clock::time_point created_;
};

}  // namespace exmc::services
