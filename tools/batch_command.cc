// exmc batch: a manifest of fits, or simulation-based calibration, over the ranks of
// `mpirun -n K` (or one process) with distributed::run_items: dynamic load balance, every
// attempt in a child process, failed items retried on another rank. Rank 0 writes one record
// per completed item (atomically) under OUTPUT/items/, so a re-run with the same OUTPUT skips
// them, and the summary (OUTPUT/status.tsv; for SBC also ranks.csv and sbc_summary.json).
#include "file_text.hpp"
#include "batch_command.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "batch_folder.hpp"
#include "batch_manifest.hpp"
#include "cli.hpp"
#include "cli_validators.hpp"
#include "exmc/distributed/scheduler.hpp"
#include "exmc/distributed/world.hpp"
#include "rank_agreement.hpp"
#include "sbc.hpp"

namespace exmc::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct BatchOptions {
  std::string manifest, sbc_model, simulator, data, output = "batch";
  size_t simulations = 100;
  unsigned long long seed = 0;
  unsigned chains = 0;  // 0: 4 for a manifest, 1 for SBC
  unsigned warmup = 1000, draws = 1000, thin = 1, threads = 1, rank_draws = 99, bins = 10, max_attempts = 3;
  double adapt_delta = 0.8;
  int max_depth = 10;
  std::string metric = "diag";
  int sig_figs = -1;
  double heartbeat_timeout = 20;
  bool no_coordinator_fits = false;
  unsigned jobs = 1;
};

// Ctrl-C and SIGTERM (kill, timeout, a scheduler's time limit) stop the batch: the fits in
// flight are killed, their temporaries removed, and the batch says how to continue. Without a
// handler the process died at once, leaving each fit's out_K.csv.<hex>.tmp unnamed.
volatile std::sig_atomic_t g_batch_signal = 0;
extern "C" void on_batch_signal(int sig) { g_batch_signal = sig; }

// Test hooks (environment): EXMC_BATCH_KILL_FIT=I kills the fit process of item I mid-fit on its
// first attempt (SIGKILL); EXMC_BATCH_THROW=I makes its first attempt throw;
// EXMC_BATCH_KILL_RANK=R:N kills rank R itself (SIGKILL) while it fits its N-th item.
long env_item(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : -1;
}

// What a failed fit said, for its record: from its first error on (the lines before, "model ready
// in ...", "4 chains x ...", are its start-up banner), without the list of the temporaries it kept
// (the batch removes them). Every line naming a ".tmp" was dropped before, and with it the one
// error that named one ("cannot rename out_1.csv.<hex>.tmp to out_1.csv: ..."): the record and
// the log gave only the banner as the reason.
std::string fit_failure_text(const std::string& messages) {
  std::vector<std::string> lines;
  std::istringstream in(messages);
  bool listing = false;  // inside "... kept under temporary names):" and its indented paths
  for (std::string line; std::getline(in, line);) {
    if (line.find("kept under temporary names") != std::string::npos) {
      listing = true;
      continue;
    }
    if (listing && line.rfind("  ", 0) == 0 && line.find(".tmp") != std::string::npos) continue;
    listing = false;
    lines.push_back(line);
  }
  size_t first = 0;
  while (first < lines.size() && lines[first].find("error") == std::string::npos) ++first;
  if (first == lines.size()) first = 0;  // no error line: all of it
  std::string m;
  for (size_t i = first; i < lines.size(); ++i) m += (m.empty() ? "" : "\n") + lines[i];
  return m;
}

int run_batch(const BatchOptions& o, bool seed_given, std::ostream& out, std::ostream& err) {
  distributed::World* world = nullptr;
  try {
    world = &distributed::World::get();
  } catch (const std::exception& e) {
    err << "exmc batch: error: " << e.what() << "\n";
    return 1;
  }
  const int rank = world->rank();
  // Every rank fits with its own options: ranks started with others fitted other settings than
  // the ones rank 0 recorded in batch.json (not compared: --threads, --jobs and the scheduling).
  if (world->distributed()) {
    const AgreedOptions agreed = {{"--manifest", o.manifest},
                                  {"--sbc", o.sbc_model},
                                  {"--simulator", o.simulator},
                                  {"--data", o.data},
                                  {"--output", o.output},
                                  {"--simulations", std::to_string(o.simulations)},
                                  {"--seed", seed_given ? std::to_string(o.seed) : "(none)"},
                                  {"--chains", std::to_string(o.chains)},
                                  {"--warmup", std::to_string(o.warmup)},
                                  {"--draws", std::to_string(o.draws)},
                                  {"--thin", std::to_string(o.thin)},
                                  {"--rank-draws", std::to_string(o.rank_draws)},
                                  {"--bins", std::to_string(o.bins)},
                                  {"--max-attempts", std::to_string(o.max_attempts)},
                                  {"--adapt-delta", fmt::format("{:.17g}", o.adapt_delta)},
                                  {"--max-depth", std::to_string(o.max_depth)},
                                  {"--metric", o.metric},
                                  {"--sig-figs", std::to_string(o.sig_figs)}};
    if (const auto diff = ranks_disagree(*world, agreed); !diff.empty()) {
      if (rank == 0) err << "exmc batch: error: " << diff << "; nothing was run\n";
      return 1;
    }
  }
  const bool sbc_mode = !o.sbc_model.empty();
  const unsigned chains = o.chains ? o.chains : (sbc_mode ? 1 : 4);
  const fs::path dir(o.output), items_dir = fs::path(o.output) / "items";
  const auto sbc_settings = [&](uint64_t seed) {
    SbcSettings s;
    s.model_path = o.sbc_model;
    s.simulator_path = o.simulator;
    s.data_path = o.data;
    s.seed = seed;
    s.chains = chains;
    s.warmup = o.warmup;
    s.draws = o.draws;
    s.thin = o.thin;
    s.rank_draws = o.rank_draws;
    s.adapt_delta = o.adapt_delta;
    s.max_depth = o.max_depth;
    s.metric = o.metric;
    return s;
  };

  // Rank 0 plans (settings checked against an earlier run in the same folder, the items still
  // to do) and tells everyone, errors included, so no rank waits for a plan that never comes.
  std::string plan;
  if (rank == 0) {
    json p;
    try {
      if (sbc_mode == !o.manifest.empty())
        throw std::invalid_argument("give either --manifest FILE or --sbc MODEL.stan (with --simulator)");
      if (sbc_mode && o.simulator.empty()) throw std::invalid_argument("--sbc needs --simulator SIM.stan");
      // Options every simulation would refuse, checked before the folder and its batch.json are
      // written: a refused batch's record made the corrected re-run "a batch with other settings".
      if (sbc_mode) {
        check_sbc_options(chains, o.draws, o.thin, o.rank_draws);
        rank_uniformity({}, o.rank_draws, o.bins);  // checks --bins
        // The model and simulator too (the seed plays no part in that): a simulator refused once
        // the batch had set up left its batch.json behind, and the corrected one was then
        // refused as "a batch with other settings" in the same --output.
        Sbc check(sbc_settings(0));
      }
      create_output_folder(o.output, items_dir);
      json settings = {{"mode", sbc_mode ? "sbc" : "manifest"}, {"chains", chains},     {"warmup", o.warmup},
                       {"draws", o.draws},  {"thin", o.thin},     {"adapt_delta", o.adapt_delta},
                       {"max_depth", o.max_depth}, {"metric", o.metric}, {"sig_figs", o.sig_figs}};
      if (sbc_mode) {
        settings["model"] = read_text(o.sbc_model);
        settings["simulator"] = read_text(o.simulator);
        settings["data"] = o.data.empty() ? "" : read_text(o.data);
        // Not --simulations: simulation i is a function of (seed, i) and the settings alone, so a
        // batch continues with more (or fewer) of them. Refused before, an SBC of 100 extended to
        // 200 was "a batch with other settings" and had to start again from simulation 0.
        settings["rank_draws"] = o.rank_draws;
      } else {
        settings["manifest"] = read_text(o.manifest);
      }
      // Checked before batch.json records the settings: a refused manifest was recorded, and the
      // corrected one then refused as "a batch with other settings" in the same --output.
      const auto fits = sbc_mode ? std::vector<ManifestItem>{} : read_manifest(o.manifest, o.output);
      const size_t n = sbc_mode ? o.simulations : fits.size();
      BatchPlan plan =
          plan_batch(dir, settings, sbc_mode, n, seed_given ? std::optional<uint64_t>(o.seed) : std::nullopt,
                     std::random_device{}() % 4294967291ull);
      auto notes = sbc_mode ? std::vector<std::string>{} : recheck_completed_fits(items_dir, fits, plan);
      if (!sbc_mode)
        for (auto& w : identical_fits(fits, plan.seed)) notes.push_back(std::move(w));
      p = {{"seed", plan.seed}, {"todo", plan.todo}, {"items", n}, {"earlier", plan.earlier_done}, {"notes", notes}};
    } catch (const std::exception& e) {
      p = {{"error", e.what()}};
    }
    plan = p.dump();
  }
  world->broadcast(plan);
  const auto p = json::parse(plan);
  if (p.contains("error")) {
    if (rank == 0) err << "exmc batch: error: " << p["error"].get<std::string>() << "\n";
    return rank == 0 ? 1 : 0;
  }
  if (rank == 0)
    for (const auto& note : p["notes"]) err << "exmc batch: " << note.get<std::string>() << "\n";
  const uint64_t seed = p["seed"].get<uint64_t>();
  const auto todo = p["todo"].get<std::vector<size_t>>();
  const size_t n_items = p["items"].get<size_t>();

  // What every rank needs to fit an item; a rank that cannot set it up fails its attempts
  // (retried elsewhere) instead of leaving the batch.
  std::unique_ptr<Sbc> sbc;
  std::vector<ManifestItem> manifest;
  std::string setup_error;
  try {
    if (sbc_mode) {
      sbc = std::make_unique<Sbc>(sbc_settings(seed));
    } else {
      manifest = read_manifest(o.manifest, o.output);
    }
  } catch (const std::exception& e) {
    setup_error = e.what();
    if (rank == 0) {  // the same error everywhere: say it once and stop the workers
      err << "exmc batch: error: " << setup_error << "\n";
      distributed::SchedulerOptions so;
      so.max_attempts = 1;
      distributed::run_items(*world, {}, {}, so, {}, {});
      return 1;
    }
  }

  const long kill_fit = env_item("EXMC_BATCH_KILL_FIT"), throw_item = env_item("EXMC_BATCH_THROW");
  const distributed::Work work = [&](size_t item, unsigned attempt) -> std::string {
    if (!setup_error.empty()) throw std::runtime_error(setup_error);
    if (attempt == 1 && long(item) == throw_item) throw std::runtime_error("injected failure (EXMC_BATCH_THROW)");
    const bool kill_me = attempt == 1 && long(item) == kill_fit;
    if (sbc_mode) {
      return sbc->run(item, [kill_me](double f) {
        if (kill_me && f >= 0.5) std::raise(SIGKILL);
      }).to_json();
    }
    if (kill_me) std::raise(SIGKILL);
    const auto& it = manifest.at(item);
    SampleOptions so;
    so.model_path = it.model;
    so.data_path = it.data;
    so.output = it.output;
    so.chains = chains;
    so.threads = o.threads;
    so.warmup = o.warmup;
    so.draws = o.draws;
    so.thin = o.thin;
    so.seed_given = true;
    so.seed = it.seed ? *it.seed : seed;
    so.adapt_delta = o.adapt_delta;
    so.max_depth = o.max_depth;
    so.metric = o.metric;
    so.sig_figs = o.sig_figs;
    so.progress = false;
    if (const auto parent = fs::path(it.output).parent_path(); !parent.empty()) fs::create_directories(parent);
    const FitLock lock(dir, item, true);  // another attempt of it still writing: after that one
    remove_fit_temporaries(it.output, chains);  // of an attempt killed earlier (this batch's or an interrupted one's)
    std::ostringstream files, messages;
    SampleFailure why = SampleFailure::kNone;
    if (sample_chains(so, ChainBlock{0, chains, ""}, files, messages, &why) != 0) {
      remove_fit_temporaries(it.output, chains);  // the item is fitted afresh, never continued
      const std::string m = fit_failure_text(messages.str());
      // An invalid model or data fails every attempt the same way: not retried.
      if (why == SampleFailure::kInput) throw distributed::InputError(m);
      throw std::runtime_error(m);
    }
    json r = json::array();
    std::istringstream fl(files.str());
    for (std::string line; std::getline(fl, line);) r.push_back(line);
    return json{{"files", r}, {"seed", so.seed}}.dump();
  };

  distributed::SchedulerOptions so;
  so.max_attempts = o.max_attempts;
  so.heartbeat_timeout_s = o.heartbeat_timeout;
  so.local_jobs = o.jobs;
  so.coordinator_works = !o.no_coordinator_fits;
  // As the records, status.tsv and the "failed after" lines number them: a manifest's fits from 1,
  // simulations from 0 (the log said "item 1 failed" of the manifest's second line).
  so.item_name = [sbc_mode](size_t i) {
    return sbc_mode ? fmt::format("simulation {}", i) : fmt::format("item {}", i + 1);
  };
  if (const char* v = std::getenv("EXMC_BATCH_KILL_RANK"); v && *v) {
    const std::string s(v);
    const auto colon = s.find(':');
    if (colon != std::string::npos && std::atoi(s.substr(0, colon).c_str()) == rank)
      so.kill_rank_at_start = unsigned(std::atol(s.substr(colon + 1).c_str()));
  }
  // EXMC_BATCH_TERM_RANK=R:N: rank R raises SIGTERM once it starts its N-th item.
  if (const char* v = std::getenv("EXMC_BATCH_TERM_RANK"); v && *v) {
    unsigned r = 0, n = 0;
    if (std::sscanf(v, "%u:%u", &r, &n) == 2 && int(r) == rank) so.term_rank_at_start = n;
  }
  // EXMC_BATCH_STALL_RANK=R:N:S: rank R stalls S seconds (no heartbeats) once it starts its N-th item.
  if (const char* v = std::getenv("EXMC_BATCH_STALL_RANK"); v && *v) {
    unsigned r = 0, n = 0;
    double s = 0;
    if (std::sscanf(v, "%u:%u:%lf", &r, &n, &s) == 3 && int(r) == rank) {
      so.stall_rank_at_start = n;
      so.stall_seconds = s;
    }
  }
  size_t resolved = 0;
  const size_t step = std::max<size_t>(1, todo.size() / 10);
  const distributed::OnResolved on_resolved = [&](size_t item, const distributed::ItemOutcome& oc) {
    json rec = {{"item", item}, {"status", oc.done ? "ok" : "failed"}, {"attempts", oc.attempts},
                {"rank", oc.rank}, {"errors", oc.errors}};
    if (oc.done) rec["result"] = json::parse(oc.result);
    if (!sbc_mode) {
      rec["model"] = manifest[item].model;
      rec["data"] = manifest[item].data;
      if (oc.done) rec["inputs"] = fit_inputs(manifest[item]);
    }
    write_atomically(items_dir / record_name(sbc_mode, item), rec.dump() + "\n");
    // A duplicate attempt of it killed here (its first rank, presumed dead, reported after all)
    // left its temporaries; gone unless another rank's duplicate is still writing (holding the lock).
    if (!sbc_mode && oc.done)
      if (const FitLock lock(dir, item, false); lock.held()) remove_fit_temporaries(manifest[item].output, chains);
    ++resolved;
    if (!oc.done && oc.input_error)
      err << fmt::format("exmc batch: {} {} failed (not retried: its model or data is invalid):\n",
                         sbc_mode ? "simulation" : "item", sbc_mode ? item : item + 1);
    else if (!oc.done)
      err << fmt::format("exmc batch: {} {} failed after {} attempt{}:\n", sbc_mode ? "simulation" : "item",
                         sbc_mode ? item : item + 1, oc.attempts, oc.attempts == 1 ? "" : "s");
    for (const auto& e : oc.done ? std::vector<std::string>{} : oc.errors) err << "  " << e << "\n";
    if (resolved % step == 0 || resolved == todo.size())
      err << fmt::format("exmc batch: {}/{} resolved\n", resolved, todo.size()) << std::flush;
  };
  const distributed::Log log = [&](const std::string& line) {
    // The scheduler's line for an item's last failure ("item 1 failed on rank 0 (MESSAGE); not
    // retried: ..." or "...; no attempts left") comes just before on_resolved's report of it,
    // which lists every attempt's message: said once, there (a compile error's three lines were
    // printed twice).
    for (const std::string_view last : {"; not retried: an input error fails every attempt the same way",
                                        "; no attempts left"})
      if (line.size() >= last.size() && line.compare(line.size() - last.size(), last.size(), last) == 0) return;
    err << "exmc batch: " << line << "\n" << std::flush;
  };
  const auto t0 = std::chrono::steady_clock::now();
  if (rank == 0)
    err << fmt::format("exmc batch: {} {}{} ({} done earlier), {} rank{}, seed {}\n", n_items,
                       sbc_mode ? "simulation" : "fit", n_items == 1 ? "" : "s", p["earlier"].get<size_t>(), world->size(),
                       world->size() > 1 ? "s" : "", seed);
  g_batch_signal = 0;
  so.stop_requested = [] { return g_batch_signal != 0; };
  const auto previous_int = std::signal(SIGINT, on_batch_signal);
  const auto previous_term = std::signal(SIGTERM, on_batch_signal);
  distributed::run_items(*world, todo, work, so, on_resolved, log);
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  if (g_batch_signal != 0) {
    const int sig = g_batch_signal;
    if (rank != 0) return 128 + sig;
    // The fits in flight were killed: their temporaries go (a re-run fits them afresh).
    size_t done = 0;
    for (size_t i = 0; i < n_items; ++i) {
      const bool ok = read_record(items_dir, sbc_mode, i).value("status", "") == "ok";
      done += ok;
      if (!ok && !sbc_mode) remove_fit_temporaries(manifest[i].output, chains);
    }
    err << fmt::format("exmc batch: interrupted ({}): {} of {} {} done, recorded in {}; the same command again "
                       "continues with the other {}\n",
                       sig == SIGTERM ? "SIGTERM" : "Ctrl-C", done, n_items, sbc_mode ? "simulations" : "fits",
                       items_dir.string(), n_items - done);
    return 128 + sig;
  }
  if (rank != 0) return 0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The summary, from every record (this run's and earlier ones).
  size_t ok = 0;
  std::vector<json> records(n_items);
  std::ostringstream status;
  status << "item\tstatus\tattempts\trank\tdetail\n";
  for (size_t i = 0; i < n_items; ++i) {
    records[i] = read_record(items_dir, sbc_mode, i);
    std::string st = records[i].value("status", "missing");
    std::string detail;
    if (st == "ok" && !sbc_mode)
      for (const auto& f : records[i]["result"]["files"]) {
        detail += (detail.empty() ? "" : ",") + f.get<std::string>();
        // Never reported done without its files (a duplicate attempt killed mid-fit removes them):
        // the same command again fits it (recheck_completed_fits).
        if (st == "ok" && !fs::is_regular_file(f.get<std::string>())) {
          st = "gone";
          err << fmt::format("exmc batch: item {} completed, but {} is gone: the same command again fits it\n", i + 1,
                             f.get<std::string>());
        }
      }
    ok += st == "ok";
    if (st == "failed" && !records[i]["errors"].empty()) detail = records[i]["errors"].back().get<std::string>();
    std::replace(detail.begin(), detail.end(), '\n', ' ');
    status << (sbc_mode ? i : i + 1) << "\t" << st << "\t" << records[i].value("attempts", 0) << "\t"
           << records[i].value("rank", -1) << "\t" << detail << "\n";
  }
  write_atomically(dir / "status.tsv", status.str());
  err << fmt::format("exmc batch: {} of {} done, {} failed; {:.1f} s\n", ok, n_items, n_items - ok, wall);
  if (!sbc_mode) {
    for (size_t i = 0; i < n_items; ++i)
      if (records[i].value("status", "") == "ok")
        for (const auto& f : records[i]["result"]["files"]) out << f.get<std::string>() << "\n";
    out << (dir / "status.tsv").string() << "\n";
    return ok == n_items ? 0 : 1;
  }
  // SBC: ranks per simulation, and the uniformity test per ranked quantity.
  std::vector<std::optional<SbcSimulation>> simulations(n_items);
  for (size_t i = 0; i < n_items; ++i)
    if (records[i].value("status", "") == "ok") {
      simulations[i] = SbcSimulation::from_json(records[i]["result"].dump());
      if (simulations[i]->names != sbc->names())
        throw std::runtime_error(fmt::format("simulation {}: its record ranks other quantities", i));
    }
  return report_sbc(dir, sbc->names(), simulations, o.rank_draws, o.bins, seed, out, err);
}

}  // namespace

BatchCommand add_batch_command(CLI::App& app) {
  auto o = std::make_shared<BatchOptions>();
  auto* b = app.add_subcommand(
      "batch",
      "many fits over the ranks of mpirun -n K: a manifest, or simulation-based calibration (--sbc)");
  b->add_option("--manifest", o->manifest,
                "fits to run: lines 'MODEL DATA [OUTPUT]' or a JSON array of {model, data, output, seed}")
      ->check(CLI::ExistingFile);
  b->add_option("--sbc", o->sbc_model, "SBC of this Stan program (with --simulator)")->check(CLI::ExistingFile);
  b->add_option("--simulator", o->simulator,
                "SBC: a program without parameters whose generated quantities draw the model's parameters "
                "(same names) and data")
      ->check(CLI::ExistingFile);
  b->add_option("--data", o->data, "SBC: the data both programs read (the simulated variables are replaced)")
      ->check(CLI::ExistingFile);
  b->add_option("--simulations", o->simulations, "SBC: number of simulations")
      ->capture_default_str()
      ->check(CLI::Range(size_t(1), size_t(100000000)));
  b->add_option("--rank-draws", o->rank_draws, "SBC: posterior draws (spread over the fit) each rank counts")
      ->capture_default_str();
  b->add_option("--bins", o->bins, "SBC: bins of the chi-square uniformity test")->capture_default_str();
  b->add_option("--output", o->output, "folder: records of completed items (a re-run skips them), summaries")
      ->capture_default_str();
  b->add_option("--seed", o->seed, "random seed (default: random, kept in OUTPUT/batch.json)")
      ->check(CLI::Range(0ull, 4294967295ull));
  b->add_option("--chains", o->chains, "chains per fit (default 4; SBC 1)")->check(CLI::Range(1u, 1024u));
  b->add_option("--threads", o->threads, "threads per fit")->capture_default_str();
  b->add_option("--warmup", o->warmup, "warmup iterations per chain")->capture_default_str();
  b->add_option("--draws", o->draws, "draws per chain")->capture_default_str();
  b->add_option("--thin", o->thin, "keep every thin-th draw")->capture_default_str()->check(CLI::Range(1u, 1000000u));
  // Checked here as `exmc sample` checks them: a value every fit refuses failed each item
  // --max-attempts times, after the run had started, and the batch said only "failed".
  b->add_option("--adapt-delta", o->adapt_delta, "target acceptance statistic")
      ->capture_default_str()
      ->check(open_unit_interval());
  b->add_option("--max-depth", o->max_depth, "maximum tree depth")->capture_default_str()->check(CLI::Range(1, 30));
  b->add_option("--metric", o->metric, "diag, dense, grad-diag, low-rank")
      ->capture_default_str()
      ->check(CLI::IsMember({"diag", "dense", "grad-diag", "low-rank"}));
  b->add_option("--sig-figs", o->sig_figs, "manifest: significant digits in the CSVs")
      ->capture_default_str()
      ->check(CLI::Range(-1, 18));
  b->add_option("--max-attempts", o->max_attempts, "attempts per item (a failed one is retried on another rank)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100u));
  b->add_option("--heartbeat-timeout", o->heartbeat_timeout,
                "seconds without word from a busy rank before its item goes to another")
      ->capture_default_str()
      ->check(positive());
  b->add_flag("--no-coordinator-fits", o->no_coordinator_fits, "rank 0 only coordinates (when there are others)");
  b->add_option("--jobs", o->jobs,
                "fits rank 0 runs at once, each in a process of its own (one machine without mpirun: its cores)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  return {b, [o, b](std::ostream& out, std::ostream& err) {
            try {
              return run_batch(*o, b->count("--seed") > 0, out, err);
            } catch (const std::exception& e) {
              err << "exmc batch: error: " << e.what() << "\n";
              return 1;
            }
          }};
}

}  // namespace exmc::cli
