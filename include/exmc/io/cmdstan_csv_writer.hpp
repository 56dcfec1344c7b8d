// Writes one chain's draws as a CmdStan-compatible CSV, incrementally, renamed into place at the end.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace exmc::io {

// The run settings CmdStan prints in its comment header.
struct CmdStanCsvHeader {
  std::string model = "model";
  unsigned num_samples = 1000;
  unsigned num_warmup = 1000;
  bool save_warmup = false;
  unsigned thin = 1;
  bool adapt_engaged = true;
  double delta = 0.8, gamma = 0.05, kappa = 0.75, t0 = 10;
  unsigned init_buffer = 75, term_buffer = 50, window = 25;
  int max_depth = 10;
  std::string metric = "diag_e";  // or dense_e
  std::string metric_file;
  double stepsize = 1;
  double stepsize_jitter = 0;
  bool fixed_param = false;       // "algorithm = fixed_param" instead of the hmc block
  unsigned num_chains = 1;
  unsigned id = 1;                // CmdStan's 1-based chain id
  std::string data_file;
  std::string init = "2";
  uint64_t seed = 0;
  std::string output_file;        // defaults to the path written
  int sig_figs = -1;              // -1: 6 significant digits, as CmdStan's default
  // Written as "# exmc_run_id = <run_id>" when set: the same for every chain of one run, so
  // readers can refuse to combine files of different runs (new_run_id() makes one).
  std::string run_id;
  // Extra "# key = value" lines (e.g. exmc's own settings) after the standard block.
  std::vector<std::pair<std::string, std::string>> extra;
  // For a method other than sample: its block as CmdStan prints it, one line each without the
  // leading "# " ("method = optimize", "  optimize", "    algorithm = lbfgs (Default)", ...). It
  // replaces the sample block (and num_chains); the sample fields above are then unused.
  std::vector<std::string> method_block;
};

// A fresh random run identifier (16 hex digits).
std::string new_run_id();

// Usage: construct (creates a temporary `path`.<16 hex digits>.tmp of its own, exclusively, and
// writes the header to it), write_draw() for each warmup draw when saved, write_adaptation(),
// write_draw() for each sampling draw, finish() (timing comments, close, atomic rename to
// `path`). Destroyed without finish(), it removes the temporary file, so no half-written file
// ever sits under the final name, and no two writers (two runs with one output) share a file.
class CmdStanCsvWriter {
 public:
  CmdStanCsvWriter(std::string path, const CmdStanCsvHeader& header,
                   const std::vector<std::string>& stat_names,
                   const std::vector<std::string>& param_names);
  // Continues the temporary an interrupted run left (see io::RunCheckpoint): `temp_path` is cut
  // back to `offset` bytes, what a checkpoint saw written, and rows follow them; no header is
  // written. When the temporary is gone but `path` exists, the chain was already completed and
  // renamed: the writer is finished and writes nothing. The temporary is flock(2)ed while the
  // writer holds it, as a fresh one is (io/temporaries.hpp). Throws std::runtime_error when
  // neither exists, the temporary is shorter than `offset`, or another process holds it locked
  // (another --resume of the same output continuing it).
  struct Continue {
    std::string temp_path;
    uint64_t offset = 0;
    uint64_t rows = 0;
    // content_hash() when the checkpoint was taken: the first `offset` bytes must still hash to
    // it (an edited temporary was continued, its edited rows passed off as the sampler's).
    uint64_t content_hash = 0;
  };
  CmdStanCsvWriter(std::string path, const Continue& from, const CmdStanCsvHeader& header,
                   const std::vector<std::string>& stat_names,
                   const std::vector<std::string>& param_names);
  ~CmdStanCsvWriter();
  CmdStanCsvWriter(const CmdStanCsvWriter&) = delete;
  CmdStanCsvWriter& operator=(const CmdStanCsvWriter&) = delete;

  void write_draw(const double* stats, const double* values);
  // inv_metric: d entries (diag_e) or d*d column-major (dense_e).
  void write_adaptation(double step_size, bool dense, const std::vector<double>& inv_metric,
                        size_t dim);
  void finish(double warmup_seconds, double sampling_seconds);
  // For a method without warmup and sampling phases: an elapsed-time footer, then close and rename.
  void finish(double seconds);
  // For a run that stopped early (cancelled): close the file but keep it under the temporary
  // name (temp_path()), so the draws so far are readable and nothing looks complete.
  void close_incomplete();
  // Flush buffered rows to the temporary file so a reader can follow the run.
  void flush();
  // Flushes and syncs the temporary to disk; returns its size in bytes (for a checkpoint).
  uint64_t sync();
  // fnv1a64 of everything the temporary holds up to the last sync() (the bytes written since the
  // previous call are read back, so a run without checkpoints never pays for it).
  uint64_t content_hash();
  bool finished() const { return finished_; }
  // A write, flush or close of the temporary failed (disk full, a file size limit): the
  // machine's trouble, not the run's, which may pass on another try or another node.
  bool io_failed() const { return io_failed_; }

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }
  size_t rows_written() const { return rows_; }

 private:
  void set_precision(int sig_figs);
  void close_and_rename();
  void check_io(const char* what);
  std::string path_, tmp_;
  // Adds the bytes [hashed_bytes_, end) of the file to content_hash_; false when they cannot
  // all be read.
  bool hash_range(int fd, uint64_t end);
  FILE* f_ = nullptr;
  uint64_t hashed_bytes_ = 0, content_hash_ = 14695981039346656037ull;  // FNV-1a's offset basis
  size_t n_stats_, n_params_;
  size_t rows_ = 0;
  std::vector<char> row_;  // one formatted draw: (kMaxFormattedChars + 1) per value + newline
  char fmt_[16];
  int precision_ = 6;
  bool finished_ = false;
  bool io_failed_ = false;
};

}  // namespace exmc::io
