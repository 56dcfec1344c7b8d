// exmc sample under `mpirun -n K`: the chains are split into K contiguous blocks, rank r runs
// block r with chain_offset = its first chain, so chain c draws from the streams it has in a
// single process (the files are byte for byte those of `exmc sample` apart from timings and the
// run id). Rank 0's seed and run id are everyone's. Without a launcher: sample_chains, as before.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cli.hpp"
#include "rank_agreement.hpp"
#include "exmc/distributed/world.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"
#include "exmc/io/cmdstan_csv_writer.hpp"
#include "exmc/io/output_files.hpp"
#include "sample_checkpoint.hpp"
#include "exmc/io/run_checkpoint.hpp"

namespace exmc::cli {

ChainBlock chain_block(unsigned chains, int rank, int size) {
  const unsigned base = chains / unsigned(size), extra = chains % unsigned(size);
  const unsigned r = unsigned(rank);
  return {r * base + std::min(r, extra), base + (r < extra ? 1u : 0u), ""};
}

// Lines of ranks > 0 reach stderr only when they report a problem (errors, warnings and their
// indented details), prefixed with the rank; rank 0 speaks for the run.
class RankLineFilter : public std::streambuf {
 public:
  RankLineFilter(std::ostream& to, int rank) : to_(to), prefix_(fmt::format("[rank {}] ", rank)) {}
  ~RankLineFilter() override { flush_line(); }

 protected:
  int overflow(int ch) override {
    if (ch == EOF) return 0;
    line_.push_back(char(ch));
    if (ch == '\n') flush_line();
    return ch;
  }

 private:
  void flush_line() {
    if (line_.empty()) return;
    const bool problem = line_.find("error") != std::string::npos || line_.find("warning") != std::string::npos ||
                         line_.find("interrupted") != std::string::npos || line_.rfind("  ", 0) == 0;
    if (problem) to_ << prefix_ << line_ << std::flush;
    line_.clear();
  }
  std::ostream& to_;
  std::string prefix_, line_;
};

// What every rank's command line must agree on: the options that decide which files are written
// and what they hold. A rank started with other options (mpirun's "A : B" form, a wrapper script
// that differs per host) wrote a mixed set of files: with --chains 2 on rank 0 and --chains 4 on
// rank 1, out_1.csv of a 2-chain run beside out_3.csv and out_4.csv of a 4-chain one, exit 0.
// Not compared: --threads, progress and the dashboard, which may differ per rank.
AgreedOptions rank_agreed_options(const SampleOptions& o) {
  return {{"model", o.model_path},
          {"--data", o.data_path},
          {"--output", o.output},
          {"--chains", std::to_string(o.chains)},
          {"--warmup", std::to_string(o.warmup)},
          {"--draws", std::to_string(o.draws)},
          {"--thin", std::to_string(o.thin)},
          {"--seed", o.seed_given ? std::to_string(o.seed) : "(none)"},
          {"--adapt-delta", fmt::format("{:.17g}", o.adapt_delta)},
          {"--max-depth", std::to_string(o.max_depth)},
          {"--metric", o.metric},
          {"--init", o.init},
          {"--sig-figs", std::to_string(o.sig_figs)},
          {"--save-warmup", o.save_warmup ? "yes" : "no"},
          {"--fixed-param", o.fixed_param ? "yes" : "no"},
          {"--precision", o.precision},
          {"--load-metric", o.load_metric.empty() ? "(none)" : o.load_metric},
          {"--no-vectorize", o.vectorize_loops ? "no" : "yes"},
          {"--checkpoint-every", std::to_string(o.checkpoint_every)},
          {"--resume", o.resume ? "yes" : "no"}};
}

// What keeps this rank from running its block, checked on every rank before any samples: its
// chains' files cannot be written (a folder missing or read-only on that host), or its inputs
// cannot be read there. "" when nothing does. A rank that found out only when it started its own
// chains exited at once while the others sampled theirs to the end (MPI_Finalize waits for them;
// an hour's run took its hour) and left complete-looking files of a run that failed.
std::string rank_cannot_run(const SampleOptions& opts, const ChainBlock& block) {
  try {
    for (const auto& [role, path] : {std::pair<std::string, std::string>{"model", opts.model_path},
                                     {"data", opts.data_path},
                                     {"--load-metric", opts.load_metric}})
      if (!path.empty() && !std::ifstream(path))
        return fmt::format("cannot read the {} file {}", role, path);
    for (unsigned c = block.offset; c < block.offset + block.count; ++c) {
      const std::string file = chain_output_path(opts.output, c, opts.chains);
      io::check_output_file(file, {});
      if (opts.checkpoint_every > 0 || opts.resume)
        io::check_output_file(io::checkpoint_path(file), {}, "--checkpoint-every");
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The first rank's problem (rank_cannot_run), on every rank; "" when none has one. Collective.
std::string first_rank_problem(distributed::World& world, const std::string& mine) {
  // The lowest rank with one is size - (the largest of size - rank).
  uint64_t top = uint64_t(world.max_to_root(mine.empty() ? 0 : world.size() - world.rank()));
  world.broadcast(top);
  if (top == 0) return "";
  const int first = world.size() - int(top);
  std::string message = mine;
  world.broadcast(message, first);
  return fmt::format("rank {}: {}", first, message);
}

int sample(const SampleOptions& opts, std::ostream& out, std::ostream& err) {
  distributed::World* world = nullptr;
  try {
    world = &distributed::World::get();
  } catch (const std::exception& e) {
    err << "exmc sample: error: " << e.what() << "\n";
    return 1;
  }
  if (!world->distributed()) return sample_chains(opts, ChainBlock{0, opts.chains, ""}, out, err);

  const int rank = world->rank(), size = world->size();
  if (const auto diff = ranks_disagree(*world, rank_agreed_options(opts)); !diff.empty()) {
    if (rank == 0) err << "exmc sample: error: " << diff << "; nothing was written\n";
    return 1;
  }
  if (const auto problem = first_rank_problem(*world, rank_cannot_run(opts, chain_block(opts.chains, rank, size)));
      !problem.empty()) {
    if (rank == 0) err << "exmc sample: error: " << problem << "; nothing was sampled\n";
    return 1;
  }
  SampleOptions mine = opts;
  // Every rank agrees on the seed and run id (rank 0's) before anything can fail.
  uint64_t seed = opts.seed_given ? opts.seed : std::random_device{}() % 4294967291ull;
  std::string run_id = io::new_run_id();
  // --resume: the run's seed and id are those of its checkpoints (any chain's: each rank
  // resumes its own chains, and chains without one start afresh within the same run).
  if (opts.resume && rank == 0)
    for (unsigned c = 0; c < opts.chains; ++c) {
      std::optional<io::RunCheckpoint> cp;
      try {
        cp = io::RunCheckpoint::load(io::checkpoint_path(chain_output_path(opts.output, c, opts.chains)));
      } catch (const std::exception&) {
        continue;  // the rank that owns the chain reports a damaged checkpoint
      }
      if (!cp) continue;
      seed = cp->seed;
      run_id = cp->run_id;
      break;
    }
  // --resume after the run completed (no checkpoints, the files under their final names): the
  // seed is the files' own, so that each rank finds its chains complete instead of another seed.
  if (opts.resume && rank == 0 && !opts.seed_given) {
    bool any_checkpoint = false;
    for (unsigned c = 0; c < opts.chains && !any_checkpoint; ++c) {
      std::error_code ec;
      any_checkpoint =
          std::filesystem::exists(io::checkpoint_path(chain_output_path(opts.output, c, opts.chains)), ec);
    }
    if (!any_checkpoint) {
      auto config = io::read_cmdstan_csv_config(chain_output_path(opts.output, 0, opts.chains));
      if (const auto s = config.find("seed"); s != config.end()) {
        char* end = nullptr;
        const unsigned long long v = std::strtoull(s->second.c_str(), &end, 10);
        if (end != s->second.c_str() && *end == '\0') seed = v;
      }
    }
  }
  world->broadcast(seed);
  world->broadcast(run_id);
  mine.seed = seed;
  mine.seed_given = true;
  int rc = 0;
  ChainBlock block = chain_block(opts.chains, rank, size);
  block.run_id = run_id;
  if (rank != 0) {
    mine.progress = false;
    mine.save_metric.clear();  // chain 1's metric: rank 0's
    mine.serve.clear();        // one dashboard (rank 0's, showing its chains), one port
  }
  if (block.count > 0) {
    if (rank == 0) {
      err << fmt::format("exmc: {} ranks; this rank runs chains {}..{}\n", size, block.offset + 1,
                         block.offset + block.count);
      rc = sample_chains(mine, block, out, err);
    } else {
      RankLineFilter filter(err, rank);
      std::ostream filtered(&filter);
      rc = sample_chains(mine, block, out, filtered);
    }
  }
  out.flush();
  // The run's status: the worst rank's (rank 0 prints it; gathered by polling, not a
  // spinning collective, so ranks that finish early leave the cores to the others).
  const int worst = world->max_to_root(rc);
  // Every block completed: the checkpoints have nothing left to resume (a block alone cannot
  // know that, so rank 0 removes them all).
  if (rank == 0 && worst == 0 && (opts.checkpoint_every > 0 || opts.resume))
    for (unsigned c = 0; c < opts.chains; ++c)
      std::remove(io::checkpoint_path(chain_output_path(opts.output, c, opts.chains)).c_str());
  return rank == 0 ? worst : rc;
}

}  // namespace exmc::cli
