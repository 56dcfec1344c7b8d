// exmc sample: Stan program + JSON data -> NUTS chains -> one CmdStan CSV per chain.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include <sys/resource.h>
#include <unistd.h>

#include "cli.hpp"
#include "jit_preload.hpp"
#include "sample_checkpoint.hpp"
#include "sample_dashboard.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"
#include "exmc/io/cmdstan_csv_sink.hpp"
#include "exmc/io/output_files.hpp"
#include "exmc/io/run_checkpoint.hpp"
#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/runtime/cancel_token.hpp"
#include "exmc/runtime/run_chains.hpp"
#include "exmc/services/sample.hpp"
#include "exmc/stan/error.hpp"

namespace exmc::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Ctrl-C (SIGINT) and SIGTERM (what `kill`, timeout and batch schedulers send) stop the
// chains between iterations: they return what they have, every row written whole, and the files
// stay under their temporary names (out_1.csv.<random>.tmp). Without a handler SIGTERM would
// end the process mid-write, leaving a row cut in half.
std::atomic<runtime::CancelToken*> g_cancel{nullptr};
std::atomic<int> g_signal{0};
extern "C" void on_interrupt(int sig) {
  g_signal.store(sig);
  if (auto* t = g_cancel.load()) t->cancel();
}

struct InterruptGuard {
  explicit InterruptGuard(runtime::CancelToken* t) {
    g_signal.store(0);
    g_cancel.store(t);
    previous_int = std::signal(SIGINT, on_interrupt);
    previous_term = std::signal(SIGTERM, on_interrupt);
  }
  ~InterruptGuard() {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    g_cancel.store(nullptr);
  }
  void (*previous_int)(int) = SIG_DFL;
  void (*previous_term)(int) = SIG_DFL;
};


// Before anything is loaded: no output may be an input, and every output must be creatable.
void check_outputs(const SampleOptions& opts) {
  const std::vector<io::NamedFile> inputs = {{"model", opts.model_path},
                                             {"data", opts.data_path},
                                             {"init", init_file(opts.init)},
                                             {"--load-metric", opts.load_metric}};
  auto with_metric = inputs;
  with_metric.push_back({"--save-metric", opts.save_metric});
  // With several chains --output is a stem: a folder (runs/, or runs that exists) became
  // runs/_1, runs/_2 ... (hidden-looking names inside it) or runs_1 ... beside it, where one chain
  // is refused.
  if (opts.output.empty()) io::check_output_file(opts.output, {});  // "--output is empty", not _1, _2
  std::error_code ec;
  const bool folder = std::filesystem::is_directory(opts.output, ec);
  if (opts.chains > 1 && (folder || opts.output.back() == '/')) {
    if (!folder) io::check_output_file(opts.output, {});  // missing/: says the folder does not exist
    throw std::runtime_error("--output " + opts.output + " is a directory, not a file (give a file name in it: " +
                             (std::filesystem::path(opts.output) / "output.csv").lexically_normal().string() + ")");
  }
  for (unsigned c = 0; c < opts.chains; ++c)
    io::check_output_file(chain_output_path(opts.output, c, opts.chains), with_metric);
  if (!opts.save_metric.empty()) io::check_output_file(opts.save_metric, inputs, "--save-metric");
  if (opts.checkpoint_every > 0 || opts.resume)
    for (unsigned c = 0; c < opts.chains; ++c)
      io::check_output_file(io::checkpoint_path(chain_output_path(opts.output, c, opts.chains)), with_metric,
                            "--checkpoint-every");
}

// Each chain keeps its CSV open while it samples: 256 chains under a soft limit of 256 open files
// (ulimit -n; 1,024 is the common default, --chains allows 1,024) failed part-way through
// creating them with "Too many open files". The soft limit is raised as far as the hard one
// allows, as a process may; past that the run is refused before anything is written.
void ensure_open_file_limit(unsigned chains) {
  size_t open_now = 16;  // where /proc cannot say
  std::error_code ec;
  if (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec)
    open_now = size_t(std::distance(it, std::filesystem::directory_iterator()));
  // The chains' files, and room for a checkpoint being replaced, the dashboard's sockets and
  // the compiler's files.
  const rlim_t needed = rlim_t(open_now + chains + 32);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= needed) return;
  if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= needed) {
    lim.rlim_cur = needed;
    if (::setrlimit(RLIMIT_NOFILE, &lim) == 0) return;
  }
  throw std::invalid_argument(fmt::format(
      "--chains {} keeps {} files open at once ({} with what is open already), but this process may open only {} "
      "(ulimit -n; its hard limit is {}): raise the limit (ulimit -n {}) or run fewer chains at a time",
      chains, chains, needed, lim.rlim_cur,
      lim.rlim_max == RLIM_INFINITY ? std::string("unlimited") : std::to_string(lim.rlim_max), needed));
}

// A dense metric holds matrices of d x d doubles in each chain (the covariance being estimated,
// the last estimate, the metric and its Cholesky factor) and multiplies by one in every leapfrog
// step: at 10,000 dimensions 3.2 GB a chain and 10^8 multiply-adds a step, which ran for minutes
// an iteration without a word. Said from 2,000 dimensions; refused where one chain's matrices
// alone exceed the machine's memory (they were allocated until the system killed the process).
void check_dense_metric_size(const SampleOptions& opts, size_t dim, std::ostream& err) {
  constexpr size_t kSaidFrom = 2000, kMatrices = 4;
  if (dim < kSaidFrom) return;
  const double matrix = double(dim) * double(dim) * sizeof(double);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned at_once = std::min(opts.chains, opts.threads > 0 ? opts.threads : cores);
  const double chain = kMatrices * matrix;
  const auto size = [](double bytes) {
    return bytes >= 1e9 ? fmt::format("{:.1f} GB", bytes / 1e9) : fmt::format("{:.0f} MB", bytes / 1e6);
  };
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  const double memory = pages > 0 && page > 0 ? double(pages) * double(page) : 0;
  const std::string what = fmt::format(
      "--metric dense with {} unconstrained dimensions: each chain holds {} matrices of {} x {} doubles ({} each, "
      "{} a chain, {} for the {} chain{} sampled at once), each leapfrog step multiplies by one ({:.2g} "
      "multiply-adds), and each file's adaptation block holds {:.2g} numbers",
      dim, kMatrices, dim, dim, size(matrix), size(chain), size(chain * at_once), at_once, at_once == 1 ? "" : "s",
      double(dim) * double(dim), double(dim) * double(dim));
  if (memory > 0 && chain > memory)
    throw std::invalid_argument(fmt::format("{}; this machine has {} of memory: use --metric diag or low-rank",
                                            what, size(memory)));
  err << "exmc: warning: " << what << "; --metric diag or low-rank suits this size"
      << (opts.warmup < dim ? fmt::format(" (and {} warmup iterations estimate no {}-dimensional covariance: the "
                                          "estimate is singular and regularised toward a small multiple of the "
                                          "identity)", opts.warmup, dim)
                            : std::string())
      << "\n";
}

// A run that would fill the disk found out only when it did, after its work, with "No space left
// on device". The rows still to be written (every chain of this process, warmup when saved) x
// columns x (significant digits + 2) bytes a value, against the output folder's free space.
void check_disk_space(const SampleOptions& opts, const services::SampleJob& job, const std::vector<uint64_t>& rows_done,
                      std::ostream& err) {
  const auto& sc = job.config().sampler;
  const uint64_t thin = std::max(1u, sc.thin);
  const uint64_t rows = (uint64_t(sc.num_samples) + thin - 1) / thin +
                        (opts.save_warmup ? (uint64_t(sc.num_warmup) + thin - 1) / thin : 0);
  uint64_t left = 0;
  for (const uint64_t done : rows_done) left += rows > done ? rows - done : 0;
  const uint64_t columns = job.stat_names().size() + job.names().size();
  const uint64_t per_value = uint64_t(opts.sig_figs < 0 ? 6 : opts.sig_figs) + 2;
  const double expected = double(left) * double(columns) * double(per_value);
  std::filesystem::path folder = std::filesystem::path(opts.output).parent_path();
  if (folder.empty()) folder = ".";
  const auto free = io::free_space(folder.string());
  if (!free || expected <= double(*free)) return;
  const auto size = [](double bytes) {
    return bytes >= 1e9 ? fmt::format("{:.1f} GB", bytes / 1e9)
                        : bytes >= 1e6 ? fmt::format("{:.1f} MB", bytes / 1e6) : fmt::format("{:.0f} bytes", bytes);
  };
  err << fmt::format("exmc: warning: the output files need about {} ({} rows x {} columns x ~{} bytes a value, {} "
                     "chain{}) but {} has {} free: the run will fail when the disk is full; free some space, write "
                     "elsewhere (--output), keep fewer draws (--thin, --draws) or fewer digits (--sig-figs)\n",
                     size(expected), left, columns, per_value, rows_done.size(), rows_done.size() == 1 ? "" : "s",
                     folder.string(), size(double(*free)));
}

// Files out_K.csv a run with more chains left behind (K > chains; out_1.csv ... for one chain,
// whose own output is out.csv). They are not this run's names, so they are left alone.
std::vector<std::string> stale_chain_files(const std::string& output, unsigned chains) {
  std::vector<std::string> stale;
  for (unsigned k = chains > 1 ? chains : 0;; ++k) {
    const auto p = chain_output_path(output, k, k + 2);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) break;
    stale.push_back(p);
  }
  return stale;
}

}  // namespace

std::string init_file(const std::string& init) {
  if (init == "pathfinder") return "";
  char* end = nullptr;
  std::strtod(init.c_str(), &end);
  return end != init.c_str() && *end == '\0' ? "" : init;
}

int sample_chains(const SampleOptions& opts, const ChainBlock& block, std::ostream& out, std::ostream& err,
                  SampleFailure* failure) {
  const auto t_start = Clock::now();
  // Until the inputs are read and compiled an error is theirs (or the settings'); after that, an
  // exception is the machine's (writing the files, memory) and may pass.
  bool inputs_ready = false;
  auto failed = [&](SampleFailure why) {
    if (failure) *failure = why;
    return 1;
  };
  if (failure) *failure = SampleFailure::kNone;
  try {
    check_outputs(opts);
    ensure_open_file_limit(block.count);
    check_serve(opts);
    const JitPreload preload;  // beside the loading below
    // --resume: each chain's checkpoint (out_K.csv.checkpoint) must be of this run; a chain
    // without one never reached its first and starts afresh; with none at all, so does the run.
    std::vector<std::string> chain_outputs;
    for (unsigned c = block.offset; c < block.offset + block.count; ++c)
      chain_outputs.push_back(chain_output_path(opts.output, c, opts.chains));
    // (Hashing the inputs' contents reads them whole: only for runs that checkpoint or resume.)
    const std::string fingerprint = opts.checkpoint_every > 0 || opts.resume ? sample_fingerprint(opts) : "";
    std::optional<ResumePoint> resumed;
    if (opts.checkpoint_every > 0 || opts.resume)
      for (const auto& o : chain_outputs) remove_stale_checkpoint_temporaries(o);
    // --resume without a checkpoint but with every chain's file under its final name: the run
    // completed (it removed its checkpoints). Checked once the settings are known, below.
    bool completed_before = false;
    if (opts.resume) {
      resumed = find_resume_point(opts, fingerprint, chain_outputs);
      completed_before = !resumed;
      for (const auto& o : chain_outputs) {
        std::error_code ec;
        completed_before = completed_before && std::filesystem::is_regular_file(o, ec);
      }
      if (!resumed && !completed_before) {
        err << "exmc: no checkpoint " << io::checkpoint_path(chain_outputs[0]) << ": starting from the beginning\n";
        // An interrupted run whose checkpoints are gone (deleted, or killed before its first)
        // left its draws under temporary names; without a checkpoint they cannot be continued.
        // Swept as a plain run sweeps them, below.
      }
    }
    const unsigned checkpoint_every =
        opts.checkpoint_every > 0 ? opts.checkpoint_every : (resumed ? resumed->checkpoint_every : 0);
    const auto program = services::Program::load(opts.model_path, opts.data_path, opts.vectorize_loops);
    const double t_loaded = ms_since(t_start);

    runtime::CancelToken cancel;
    // From here Ctrl-C / SIGTERM cancel the run (before sampling starts, it stops at once) and
    // everything written so far stays resumable.
    InterruptGuard guard(&cancel);
    services::SampleSettings ss;
    ss.chains = block.count;
    ss.chain_offset = block.offset;
    ss.total_chains = opts.chains;
    ss.threads = opts.threads;
    ss.warmup = opts.warmup;
    ss.draws = opts.draws;
    ss.thin = opts.thin;
    ss.adapt_delta = opts.adapt_delta;
    ss.max_depth = opts.max_depth;
    ss.metric = opts.metric;
    ss.init = opts.init;
    ss.save_warmup = opts.save_warmup;
    ss.fixed_param = opts.fixed_param;
    ss.precision = opts.precision == "f32" ? services::Precision::kF32 : services::Precision::kF64;
    if (!opts.load_metric.empty()) {
      if (opts.init == "pathfinder")
        throw std::invalid_argument("--init pathfinder and --load-metric both set the initial metric");
      ss.warm_start = nuts::AdaptationState::load(opts.load_metric);
      ss.warm_start_file = opts.load_metric;
    }
    ss.progress = opts.progress;
    ss.cancel = &cancel;
    ss.checkpoint_every = checkpoint_every;
    if (resumed)
      for (const auto& c : resumed->chains) ss.resume_states.push_back(c ? c->state : "");
    const uint64_t seed = resumed            ? resumed->seed
                          : opts.seed_given ? opts.seed
                                            : std::random_device{}() % 4294967291ull;
    const auto t_job = Clock::now();
    services::SampleJob job(program, ss, seed);
    const double t_compiled = ms_since(t_start);
    for (const auto& n : job.notes()) err << "exmc: " << n << "\n";
    if (job.fixed_param() && !opts.save_metric.empty())
      throw std::invalid_argument("--save-metric: the fixed_param sampler adapts no metric");
    for (const auto& w : job.warnings()) err << "exmc: warning: " << w << "\n";
    inputs_ready = true;
    if (completed_before) {
      // Sampling again would replace the completed files with a new run's: not what --resume
      // asks for. The same settings: nothing to do (a retry loop ends); others: refused.
      const auto& sc = job.config().sampler;
      std::vector<std::pair<std::string, std::string>> expected = {
          {"model", program.model_name()},
          {"file", opts.data_path},
          {"num_samples", std::to_string(sc.num_samples)},
          {"num_warmup", std::to_string(sc.num_warmup)},
          {"thin", std::to_string(sc.thin)},
          {"save_warmup", opts.save_warmup ? "1" : "0"},
          {"num_chains", std::to_string(opts.chains)},
          {"exmc_metric", opts.metric},
          {"exmc_precision", opts.precision},
          {"sig_figs", std::to_string(opts.sig_figs)}};
      if (!sc.fixed_param) {
        expected.push_back({"delta", fmt::format("{:.17g}", opts.adapt_delta)});
        expected.push_back({"max_depth", std::to_string(opts.max_depth)});
      }
      if (opts.seed_given) expected.push_back({"seed", std::to_string(opts.seed)});
      const auto diff = completed_run_difference(chain_outputs, expected);
      if (!diff.empty())
        throw std::invalid_argument("--resume: there is no checkpoint to resume, and " + chain_outputs[0] +
                                    (chain_outputs.size() > 1 ? " ..." : "") + " hold" +
                                    (chain_outputs.size() > 1 ? "" : "s") + " a completed run with other settings (" +
                                    diff + "); left as they are. Without --resume the run samples again, replacing "
                                    "them");
      err << "exmc: " << chain_outputs[0] << (chain_outputs.size() > 1 ? " ... " : " ")
          << (chain_outputs.size() > 1 ? "are" : "is") << " already complete (run id "
          << io::read_cmdstan_csv_config(chain_outputs[0])["exmc_run_id"]
          << "): nothing to resume; the files are left as they are (without --resume the run samples again, "
             "replacing them)\n";
      for (const auto& o : chain_outputs) out << o << "\n";
      return 0;
    }

    io::CmdStanCsvHeader header;
    header.model = program.model_name();
    header.data_file = opts.data_path;
    header.init = opts.init;
    header.sig_figs = opts.sig_figs;
    header.metric_file = opts.load_metric;  // as CmdStan's metric_file
    header.extra = {{"exmc_metric", opts.metric}, {"exmc_precision", opts.precision}};
    header.run_id = resumed ? resumed->run_id : block.run_id.empty() ? io::new_run_id() : block.run_id;
    header.num_chains = opts.chains;  // the run's, when this is a block of it
    std::vector<io::CmdStanCsvWriter::Continue> continue_files;
    if (resumed)
      for (unsigned c = 0; c < block.count; ++c) {
        const auto& cp = resumed->chains[c];
        // Beside the output, where the writer made it: the path the checkpoint kept is relative to
        // the folder the interrupted run ran in, which need not be this one's.
        const auto beside = [&] {
          return (std::filesystem::path(chain_outputs[c]).parent_path() /
                  std::filesystem::path(cp->temp_path).filename()).string();
        };
        continue_files.push_back(cp ? io::CmdStanCsvWriter::Continue{beside(), cp->offset, cp->rows, cp->content_hash}
                                    : io::CmdStanCsvWriter::Continue{});
      }
    io::CmdStanCsvSink sink([&](unsigned c) { return chain_output_path(opts.output, block.offset + c, opts.chains); },
                            header, job.names(), job.config(), continue_files);
    const auto sink_callbacks = sink.callbacks();
    // The temporaries exist, so the outputs can be written. Now the files of an earlier run
    // under this run's final names go: as CmdStan truncates its output when it starts, so that a
    // run killed from here on never leaves the previous run's complete-looking file beside its
    // own partial one. Stale out_K.csv for K > chains are another run's names: kept, but said.
    // A resumed run's final names hold only what the run itself completed before it stopped.
    for (unsigned c = 0; c < block.count; ++c)
      if (!resumed || !resumed->chains[c]) io::remove_previous_output(chain_outputs[c]);
    // A run that is not --resume replaces this output: the temporaries an earlier run of it left
    // (killed, by kill -9 too, or interrupted) were drafts of files now being replaced, and piled
    // up beside them without a word with every killed try. Those no live process holds go, named;
    // another process's (another run with this output, still writing) and those a checkpoint can
    // still continue are left, named. Other outputs' temporaries are never looked at. So, too, for
    // --resume without a checkpoint, starting from the beginning.
    if (!resumed) {
      std::vector<std::string> own;
      for (unsigned c = 0; c < block.count; ++c) own.push_back(sink.writer(c).temp_path());
      sweep_earlier_temporaries(chain_outputs, own, checkpoint_every > 0, err);
    }
    // A resumed chain without a checkpoint starts afresh in a new temporary; the interrupted
    // run's temporary for it (its checkpoint deleted, or killed before its first) can never be
    // continued, and was left behind unnamed.
    if (resumed)
      for (unsigned c = 0; c < block.count; ++c) {
        const auto gone = remove_run_temporaries(chain_outputs[c], header.run_id, sink.writer(c).temp_path());
        if (resumed->chains[c] || gone.empty()) continue;
        std::string names;
        for (const auto& g : gone) names += (names.empty() ? "" : ", ") + g;
        err << "exmc: chain " << block.offset + c + 1 << " has no checkpoint (" << io::checkpoint_path(chain_outputs[c])
            << "): it starts afresh, and the interrupted run's draws for it, which cannot be continued without one, "
               "were removed ("
            << names << ")\n";
      }
    // A chain's checkpoint: this run's fingerprint and identity, and where the chain stands.
    auto chain_checkpoint = [&](unsigned c, uint64_t done, const std::string& state) {
      auto& w = sink.writer(c);
      const uint64_t offset = w.sync();  // the draws first, then the state that follows them
      io::RunCheckpoint cp{fingerprint, seed, header.run_id, checkpoint_every, block.offset + c + 1, done,
                           w.temp_path(), offset, w.rows_written(), state};
      cp.content_hash = w.content_hash();
      return cp;
    };
    if (checkpoint_every > 0)
      // The first checkpoint before any iteration: a run killed from here on resumes (its chains
      // from the start) into the temporaries it created, leaving none behind.
      for (unsigned c = 0; c < block.count; ++c)
        if (!resumed || !resumed->chains[c]) chain_checkpoint(c, 0, "").save(io::checkpoint_path(chain_outputs[c]));
    if (const auto stale = stale_chain_files(opts.output, opts.chains); !stale.empty()) {
      std::string names;
      for (const auto& p : stale) names += (names.empty() ? "" : ", ") + p;
      err << "exmc: warning: " << names << " (from an earlier run with more chains) left as they are; "
          << "exmc summary/diagnose/loo refuse to combine them with this run's files\n";
    }
    services::SampleObserver observer;
    observer.on_draw = [&](const services::SampleDraw& d) { sink.writer(d.chain).write_draw(d.stats, d.row); };
    if (checkpoint_every > 0)
      observer.on_checkpoint = [&](unsigned chain, unsigned done, const std::string& state) {
        chain_checkpoint(chain, done, state).save(io::checkpoint_path(chain_outputs[chain]));
      };
    observer.on_adaptation = [&](unsigned chain, const nuts::AdaptationState& a) {
      sink_callbacks.on_adaptation(chain, a);
      if (chain == 0 && !opts.save_metric.empty()) a.save(opts.save_metric);
    };
    // --serve: the dashboard sees each event after the CSV files do.
    const auto dash = SampleDashboard::start(opts, job, program.model_name(), ss.chains, err);
    if (dash) dash->attach(observer);

    const auto& density = job.density();
    const auto count = [](size_t n, const char* noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); };
    err << fmt::format("exmc: {} ({}), {} per gradient; "
                       "model ready in {:.1f} ms (parse, check, data, lower {:.1f} ms; compile {:.1f} ms, {})\n",
                       count(job.vars().size(), "variable"), count(density.dim(), "unconstrained dimension"),
                       count(density.nodes_per_gradient(), "instruction"), t_compiled, t_loaded, job.compile_ms(),
                       density.backend() == graph::Backend::kJit ? "machine code" : "interpreted");
    if (job.fixed_param())
      err << fmt::format("exmc: {} x {} draws, seed {}, fixed_param sampler (parameters at their initial "
                         "values)\n", count(opts.chains, "chain"), opts.draws, seed);
    else
      err << fmt::format("exmc: {} x ({} warmup + {} draws), seed {}, metric {}\n", count(opts.chains, "chain"),
                         opts.warmup, opts.draws, seed, opts.metric);
    if (!job.fixed_param() && opts.metric == "dense") check_dense_metric_size(opts, density.dim(), err);
    {
      std::vector<uint64_t> rows_done;
      for (unsigned c = 0; c < block.count; ++c)
        rows_done.push_back(sink.writer(c).finished() ? UINT64_MAX : sink.writer(c).rows_written());
      check_disk_space(opts, job, rows_done, err);
    }
    if (resumed) {
      std::string at;
      for (const auto& c : resumed->chains)
        at += fmt::format("{}{}", at.empty() ? "" : ", ", c ? std::to_string(c->iterations) : "none");
      err << "exmc: resuming from the checkpoints (iterations done per chain: " << at << ")\n";
    }

    services::SampleRun run;
    run = job.run(observer);
    const auto& result = run.result;
    sink.finish(result);
    if (dash) {
      bool failed = false;
      for (const auto& c : result.chains) failed = failed || !c.error.empty();
      dash->finish(failed ? "failed" : result.cancelled ? "interrupted" : "done");
    }
    // Not said when no iteration finished (chains that found no starting point: it said "first
    // warmup iteration 2.7 ms after start" of a run that had none).
    if (!std::isnan(run.first_iteration_ms))
      err << fmt::format("exmc: first {} {:.1f} ms after start\n", job.fixed_param() ? "draw" : "warmup iteration",
                         std::chrono::duration<double, std::milli>(t_job - t_start).count() + run.first_iteration_ms);

    uint64_t divergences = 0, recoveries = 0, grads = 0;
    double warm_s = 0, samp_s = 0;
    std::string failures;
    for (const auto& c : result.chains) {
      divergences += c.divergences;
      recoveries += c.recoveries;
      grads += c.grad_evals;
      warm_s = std::max(warm_s, c.warmup_seconds);
      samp_s = std::max(samp_s, c.sampling_seconds);
      if (!c.error.empty()) failures += fmt::format("  chain {}: {}\n", c.chain + 1, c.error);
    }
    const std::string resume_hint =
        checkpoint_every > 0 ? "exmc: the same command with --resume continues from the checkpoints (" +
                                   io::checkpoint_path(chain_outputs[0]) + ", ...)\n"
                             : "";
    if (!failures.empty()) {
      err << "exmc sample: error: chains failed (their files were not completed):\n" << failures;
      // A chain that failed before its first row (bad initial values, a density that throws
      // everywhere) left a temporary holding only the header, unnamed: every failed try added
      // another out.csv.<hex>.tmp. Those go, unless a checkpoint needs them; the rest are named.
      std::string kept;
      bool retryable = false;
      for (const auto& c : result.chains) {
        if (c.error.empty() && !c.cancelled) continue;  // completed: under its final name
        const auto& w = sink.writer(c.chain);
        retryable |= w.io_failed() || c.out_of_memory;
        if (checkpoint_every == 0 && w.rows_written() == 0) std::remove(w.temp_path().c_str());
        else kept += "  " + w.temp_path() + "\n";
      }
      if (!kept.empty()) err << "exmc: the draws so far are in (incomplete, kept under temporary names):\n" << kept;
      err << resume_hint;
      // A chain is a pure function of the inputs and seed, but writing its file and the memory it
      // gets are not: a full disk, a file size limit or memory taken by other processes may pass
      // on another try (exmc batch retries it elsewhere).
      return failed(retryable ? SampleFailure::kOther : SampleFailure::kInput);
    }
    if (result.cancelled) {
      // The temporaries carry a random suffix (each run its own), so name them: those that exist.
      // A chain that completed before the interrupt was renamed into place (its temporary named
      // here read as if it held the draws), and a resumed chain completed before had none.
      std::string kept, complete;
      for (const auto& c : result.chains) {
        const auto& w = sink.writer(c.chain);
        std::error_code ec;
        if (!c.cancelled) complete += "  " + w.path() + "\n";  // no chain failed (said above)
        else if (std::filesystem::is_regular_file(w.temp_path(), ec)) kept += "  " + w.temp_path() + "\n";
      }
      err << "exmc sample: interrupted";
      if (!kept.empty()) err << "; the draws so far are in (incomplete, kept under temporary names):\n" << kept;
      else err << "\n";
      if (!complete.empty())
        err << "exmc: chains completed before the interrupt (complete, under their final names):\n" << complete;
      err << resume_hint;
      // The shell's convention, 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM.
      if (failure) *failure = SampleFailure::kOther;
      return g_signal.load() == SIGTERM ? 128 + SIGTERM : 128 + SIGINT;
    }
    // Under mpirun each rank runs a block of the chains and rank 0 speaks for the run: its counts
    // are its own block's, which the line says (it read as the run's total).
    const std::string whose =
        block.count == opts.chains
            ? ""
            : fmt::format(" (chains {}-{} of {}: this process's)", block.offset + 1, block.offset + block.count,
                          opts.chains);
    err << fmt::format("exmc: done in {:.2f} s (warmup {:.2f} s, sampling {:.2f} s per chain, slowest); "
                       "{} gradient evaluations{}\n",
                       result.wall_seconds, warm_s, samp_s, grads, whose);
    if (divergences > 0)
      err << fmt::format("exmc: warning: {} divergent transitions after warmup; see `exmc diagnose`\n",
                         divergences);
    if (run.gq_failures > 0)
      err << fmt::format("exmc: warning: generated quantities failed in {} draws (written as NaN); the first:\n{}\n",
                         run.gq_failures, run.first_gq_failure);
    // Counted over the whole run, unlike the divergences above (after warmup only): said so, as
    // "51 numerical faults" beside "35 divergent transitions after warmup" read as a contradiction.
    if (recoveries > 0)
      err << fmt::format("exmc: {} log density evaluation{} failed (NaN, Inf or an exception), initialisation and "
                         "warmup included: each ended its trajectory as a divergence, or was a rejected starting "
                         "point\n",
                         recoveries, recoveries == 1 ? "" : "s");
    if (!run.runaway.empty()) {
      err << "exmc: warning: the draws run off toward the floating-point range, or adaptation collapsed:\n";
      for (const auto& r : run.runaway) err << "  " << r << "\n";
      err << "  The posterior is probably improper (a parameter without a proper prior that the data do not "
             "identify); these draws describe no distribution. See `exmc diagnose`.\n";
    }
    if (!run.stuck.empty()) {
      err << (run.stuck.size() == 1 ? "exmc: warning: a chain got stuck:\n" : "exmc: warning: chains got stuck:\n");
      for (const auto& r : run.stuck) err << "  " << r << "\n";
      err << "  The step size is too large for the region the chain stopped in (often the neck of a funnel), so "
             "its draws describe that point, not the posterior. Try a larger --adapt-delta (0.95, 0.99), a longer "
             "--warmup, or a non-centred parameterisation. See `exmc diagnose`.\n";
    }
    // Every file is complete under its final name: the checkpoints have nothing left to resume.
    // (A block of a run spread over processes leaves that to whoever knows every block succeeded.)
    if ((checkpoint_every > 0 || resumed) && block.count == opts.chains)
      for (const auto& o : chain_outputs) std::remove(io::checkpoint_path(o).c_str());
    for (unsigned c = block.offset; c < block.offset + block.count; ++c)
      out << chain_output_path(opts.output, c, opts.chains) << "\n";
    if (dash) dash->linger(opts.serve_linger, cancel, err);
    return 0;
  } catch (const stan::Error& e) {
    err << e.what() << "\n";
    return failed(SampleFailure::kInput);
  } catch (const std::bad_alloc&) {
    err << "exmc sample: error: out of memory: a size in the program or its data may be larger than meant\n";
    return failed(SampleFailure::kOther);
  } catch (const std::invalid_argument& e) {
    err << "exmc sample: error: " << e.what() << "\n";
    return failed(SampleFailure::kInput);
  } catch (const std::exception& e) {
    err << "exmc sample: error: " << e.what() << "\n";
    return failed(inputs_ready ? SampleFailure::kOther : SampleFailure::kInput);
  }
}

}  // namespace exmc::cli
