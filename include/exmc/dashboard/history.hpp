// What the dashboard remembers of a running `exmc sample`: per chain a thinned history of the
// draws (at most a fixed number of points per chain and column, halved by keeping every other
// point whenever it overflows), progress and sampler statistics, and R-hat / bulk ESS computed
// from the kept post-warmup draws. No networking: the server (dashboard.hpp) turns it into events.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace exmc::dashboard {

struct RunInfo {
  std::string model;
  unsigned chains = 4;
  unsigned warmup = 1000;  // iterations per chain: warmup + draws (before thinning)
  unsigned draws = 1000;
  unsigned thin = 1;
  std::vector<std::string> names;  // a draw's row: the constrained values, then generated quantities
  size_t num_params = 0;           // how many of names are parameters (the default plotted pair)
};

struct HistoryOptions {
  size_t cap = 2000;                // points kept per chain (and column) at most
  size_t budget = size_t(1) << 22;  // doubles kept in all (columns x chains x points), >= 8 points each
  size_t max_diag_columns = 256;    // R-hat / ESS for lp__ and at most this many columns
  // Divergent draws are also kept apart (for the pair plot), at most this many per chain,
  // thinned the same way among themselves.
  size_t divergent_cap = 1000;
};

// The columns are lp__ (from the sampler statistics), then RunInfo::names.
class History {
 public:
  History(RunInfo info, HistoryOptions opts = {});
  ~History();

  // From the sampler's threads; sequential per chain, concurrent across chains. `stats` in
  // nuts::SampleStats::names() order (lp__, accept_stat__, stepsize__, treedepth__, n_leapfrog__,
  // divergent__, energy__), `row` as RunInfo::names.
  void add_draw(unsigned chain, bool warmup, unsigned iteration, const double* stats, const double* row);
  void add_iteration(unsigned chain, unsigned done);
  void finish(const std::string& state);  // "done", "interrupted", "failed"

  const RunInfo& info() const { return info_; }
  const std::vector<std::string>& columns() const { return columns_; }
  size_t points_cap() const { return cap_; }
  // Column indices of "a,b" (unknown names are skipped); the default pair when none match.
  std::vector<size_t> select(const std::string& vars) const;

  // The draws a chain kept that the previous call did not return (one cursor per History: meant
  // for the one publisher), plus progress; `cols` selects the columns written. Each chain's
  // `stride`: a viewer keeps only its points with k % stride == 0, as the history does.
  struct Batch;
  std::shared_ptr<const Batch> take_new();
  nlohmann::json batch_json(const Batch& b, const std::vector<size_t>& cols) const;
  // Everything kept up to the last take_new(), for a viewer that arrives now.
  nlohmann::json snapshot_json(const std::vector<size_t>& cols) const;
  nlohmann::json progress_json() const;
  // Recomputes R-hat and bulk ESS from the kept post-warmup draws (chains cut to a common
  // stride and length); returns them as {"n": draws per chain used, "stride": ..., "rhat": [...],
  // "ess_bulk": [...]} (null for columns not computed or not yet computable).
  nlohmann::json compute_diagnostics();
  nlohmann::json last_diagnostics() const;

  // What the history holds now: points per chain (max over chains) and bytes of draws.
  size_t max_points() const;
  size_t memory_bytes() const;
  uint64_t draws_seen() const;

 private:
  struct Chain;
  RunInfo info_;
  HistoryOptions opts_;
  std::vector<std::string> columns_;
  size_t cap_ = 0;
  std::vector<std::unique_ptr<Chain>> chains_;
  mutable std::mutex state_mu_;
  std::string state_ = "running";
  nlohmann::json diag_;
  std::chrono::steady_clock::time_point start_;
};

struct History::Batch {
  struct PerChain {
    uint64_t stride = 1;
    std::vector<uint64_t> k;
    std::vector<uint32_t> iter;
    std::vector<uint8_t> flags;  // 1: warmup, 2: divergent
    std::vector<double> values;  // k.size() x columns, row after row
    // The divergent draws: j counts them (0, 1, ...), kept when j % div_stride == 0.
    uint64_t div_stride = 1;
    std::vector<uint64_t> dj;
    std::vector<uint32_t> dit;
    std::vector<uint8_t> dflags;
    std::vector<double> dvalues;
  };
  std::vector<PerChain> chains;
};

}  // namespace exmc::dashboard
