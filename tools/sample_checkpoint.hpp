// `exmc sample --checkpoint-every N` and `--resume`: what a run must agree with to be resumed,
// and the one checkpoint file the chains keep up to date while they sample.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "exmc/io/run_checkpoint.hpp"

namespace exmc::cli {

// The settings and the content of every input (model, data, init and metric files) that
// decide the draws, one "key = value" line each. Not the seed (checked on its own, since a run
// without --seed resumes with the seed it drew), not --checkpoint-every, --threads or progress.
std::string sample_fingerprint(const SampleOptions& opts);

// Removes the temporaries a checkpoint write killed half-way left (`out_1.csv.checkpoint.*.tmp`):
// only the writer that created one ever renames it, and that writer is gone. One a live process
// holds locked (another run of this output, saving a checkpoint) is left (io::remove_if_abandoned).
void remove_stale_checkpoint_temporaries(const std::string& chain_output);

// The CSV temporaries beside `chain_output` (`out_2.csv.<16 hex>.tmp`, as io::CmdStanCsvWriter
// names them) of any run, sorted by name.
std::vector<std::string> csv_temporaries(const std::string& chain_output);

// Removes the CSV temporaries of `run_id` beside `chain_output` (`out_2.csv.<16 hex>.tmp` whose
// header says `exmc_run_id = run_id`) except `keep` and those a live process holds locked, and
// returns the names it removed. A resumed
// chain without a checkpoint (deleted, or killed before its first) starts afresh in a new
// temporary: the interrupted one can never be continued or completed. Other runs' are left.
std::vector<std::string> remove_run_temporaries(const std::string& chain_output, const std::string& run_id,
                                                const std::string& keep);

// For a run that is not --resume, before it samples: earlier runs' CSV temporaries beside each
// of `chain_outputs`, other than `own` (this run's writers'), one line each for what was done,
// to `err`. Removed: no process holds them (io::remove_if_abandoned: their writer was killed,
// kill -9 included, or interrupted and gone) and no checkpoint that outlives this run refers to
// them; this run replaces the output they were drafts of. Left: those a live process holds
// (another run with the same output, still writing), and those the chain's checkpoint
// (out_K.csv.checkpoint) refers to when `checkpoint_replaced` is false (this run does not
// overwrite it), as `--resume` can continue them.
void sweep_earlier_temporaries(const std::vector<std::string>& chain_outputs, const std::vector<std::string>& own,
                               bool checkpoint_replaced, std::ostream& err);

// --resume where no chain has a checkpoint but every one of `chain_outputs` exists under its
// final name: a completed run. Empty when it agrees with this run's settings (`expected`, keyed
// as in the header); otherwise what differs, as "draws: 1000 in out_1.csv, 999 now".
std::string completed_run_difference(const std::vector<std::string>& chain_outputs,
                                     const std::vector<std::pair<std::string, std::string>>& expected);

// The checkpoints of a process's chains for --resume: what was found, checked against this
// run; chains without one start afresh (killed before their first checkpoint).
struct ResumePoint {
  uint64_t seed = 0;
  std::string run_id;
  unsigned checkpoint_every = 0;
  std::vector<std::optional<io::RunCheckpoint>> chains;  // per local chain
};
// std::nullopt when no chain has a checkpoint. Throws std::invalid_argument when a checkpoint
// belongs to another run (naming the setting that differs) or the checkpoints disagree.
std::optional<ResumePoint> find_resume_point(const SampleOptions& opts, const std::string& fingerprint,
                                             const std::vector<std::string>& chain_outputs);

}  // namespace exmc::cli
