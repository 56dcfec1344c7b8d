// The `exmc` command's subcommands, callable in-process (tests run them without a shell).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace exmc::cli {

// Runs `exmc <args...>` (args excludes the program name). Results go to files and `out`;
// progress, warnings and errors to `err`. Returns the process exit status: 0 on success,
// 1 for bad input or a failed run, 2 for a malformed command line.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Options of `exmc sample`, after parsing (defaults as CmdStan's).
struct SampleOptions {
  std::string model_path;
  std::string data_path;
  unsigned chains = 4;
  unsigned threads = 0;  // 0: one per chain, up to the hardware's
  unsigned warmup = 1000;
  unsigned draws = 1000;
  unsigned thin = 1;
  bool seed_given = false;
  unsigned long long seed = 0;
  double adapt_delta = 0.8;
  int max_depth = 10;
  std::string metric = "diag";  // diag | dense | grad-diag | low-rank
  std::string init = "2";       // a radius, or a Stan JSON file of initial values
  std::string output = "output.csv";
  int sig_figs = -1;  // significant digits written (-1: CmdStan's 6; 17 round-trips every double)
  bool save_warmup = false;
  bool fixed_param = false;
  std::string precision = "f64";  // f64 | f32
  std::string save_metric;        // write the adapted metric + step size (JSON) of chain 1
  std::string load_metric;        // start from a saved metric + step size
  bool progress = true;
  bool vectorize_loops = true;
  // --serve [HOST:]PORT: a live dashboard (tools/sample_dashboard.hpp); loopback unless allowed.
  std::string serve;
  bool serve_allow_remote = false;
  double serve_linger = 0;  // seconds the dashboard stays up after sampling
  // Checkpoints: every N iterations each chain's state goes to <output>.checkpoint (0: none);
  // `resume` continues the run a checkpoint describes (the same command line, plus --resume).
  unsigned checkpoint_every = 0;
  bool resume = false;
};
int sample(const SampleOptions& opts, std::ostream& out, std::ostream& err);

// `exmc diagnose MODEL.stan`: CmdStan's diagnose method (test = gradient), at one point.
struct GradientTestOptions {
  std::string model_path, data_path;
  std::string init = "2";
  bool seed_given = false;
  unsigned long long seed = 0;
  double epsilon = 1e-6, error = 1e-6;
};
int gradient_test(const GradientTestOptions& opts, std::ostream& out, std::ostream& err);
// The file `--init` names: "" for a radius or "pathfinder".
std::string init_file(const std::string& init);
// One block of a run's chains: chains [offset, offset + count) of opts.chains, written under
// their run-wide names and ids, with the run's identifier (empty: a new one). sample() runs all
// of them, or, under `mpirun -n K` (tools/sample_mpi.cc), this rank's block.
struct ChainBlock {
  unsigned offset = 0;
  unsigned count = 0;
  std::string run_id;
};
// Why sample_chains failed, for a caller that retries (exmc batch). kInput: the program, its data,
// an input file or a setting is invalid, or a chain failed (a run is a pure function of them, so
// another attempt fails the same way); kOther: anything that may pass (out of memory, an I/O
// error while writing, an interruption).
enum class SampleFailure { kNone, kInput, kOther };
int sample_chains(const SampleOptions& opts, const ChainBlock& block, std::ostream& out, std::ostream& err,
                  SampleFailure* failure = nullptr);

// `exmc summary FILE...`, `exmc diagnose FILE...`, `exmc loo FILE... [--log-lik NAME]`.
// Files of different runs (their exmc_run_id lines differ) are an error unless allow_mixed_runs.
int summary(const std::vector<std::string>& files, const std::string& format, bool sampler_stats,
            std::ostream& out, std::ostream& err, bool allow_mixed_runs = false);
int diagnose(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
             bool allow_mixed_runs = false);
int loo(const std::vector<std::string>& files, const std::string& log_lik, const std::string& format,
        std::ostream& out, std::ostream& err, bool allow_mixed_runs = false);

// `exmc plot ARGS...`: runs `python3 -m exmc plot ARGS...` with the build's Python package on
// the path; returns its exit status (its output goes to the process's own stdout/stderr).
int plot(const std::vector<std::string>& args, std::ostream& err);

// Output files of a run: `out.csv` for one chain, `out_1.csv` ... `out_N.csv` for N > 1
// (as CmdStan 2.33+).
std::string chain_output_path(const std::string& output, unsigned chain, unsigned num_chains);

}  // namespace exmc::cli
