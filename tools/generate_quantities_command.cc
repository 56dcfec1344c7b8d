// exmc generate_quantities: an earlier fit's draws (CmdStan CSV files) in, this program's
// transformed parameters and generated quantities at each draw out, one file per chain.
#include <CLI/CLI.hpp>

#include <exception>
#include <memory>
#include <new>
#include <ostream>
#include <random>

#include <fmt/format.h>

#include "cli.hpp"
#include "jit_preload.hpp"
#include "method_commands.hpp"
#include "method_interrupt.hpp"
#include "exmc/analysis/cmdstan.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"
#include "exmc/io/output_files.hpp"
#include "exmc/services/methods.hpp"
#include "exmc/stan/error.hpp"

namespace exmc::cli {
namespace {

struct GqOptions {
  std::string model_path, data_path, output = "output.csv";
  std::vector<std::string> fitted;
  unsigned long long seed = 0;
  int sig_figs = -1;
  bool allow_mixed_runs = false, no_vectorize = false;
};

// The chain a file is: CmdStan's "id" line (1-based), else its place among the files.
uint64_t chain_of(const io::CmdStanCsv& f, size_t position) {
  const auto it = f.config.find("id");
  if (it != f.config.end()) {
    char* end = nullptr;
    const unsigned long long id = std::strtoull(it->second.c_str(), &end, 10);
    if (end != it->second.c_str() && *end == '\0' && id >= 1) return id - 1;
  }
  return position;
}

int run(const GqOptions& o, bool seed_given, std::ostream& out, std::ostream& err) {
  try {
    MethodInterruptGuard interrupt("generate_quantities");  // before any thread is started
    const uint64_t seed = seed_given ? o.seed : std::random_device{}() % 4294967291ull;
    std::vector<std::string> warnings;
    auto chains = analysis::read_cmdstan_chains(o.fitted, warnings);
    for (const auto& c : chains)
      if (c.num_rows == 0) throw std::runtime_error(analysis::no_draws_message(c));
    for (const auto& w : warnings) err << "exmc generate_quantities: warning: " << w << "\n";
    if (!o.allow_mixed_runs) analysis::check_one_run(chains);
    std::vector<io::NamedFile> inputs = {{"model", o.model_path}, {"data", o.data_path}};
    for (const auto& p : o.fitted) inputs.push_back({"--fitted-params", p});
    const unsigned n = unsigned(chains.size());
    std::vector<std::string> outputs;
    for (unsigned c = 0; c < n; ++c) outputs.push_back(chain_output_path(o.output, c, n));
    for (const auto& path : outputs) io::check_output_file(path, inputs);
    interrupt.expect(outputs);
    std::vector<services::FittedDraws> fitted;
    for (size_t i = 0; i < chains.size(); ++i) {
      auto& c = chains[i];
      fitted.push_back({c.path, std::move(c.columns), c.num_rows, std::move(c.values), chain_of(c, i)});
    }
    const JitPreload preload;
    const auto program = services::Program::load(o.model_path, o.data_path, !o.no_vectorize);
    // An earlier run's files under these names go before the work starts (as exmc sample's): a
    // run killed later never leaves them beside (or instead of) its own.
    for (const auto& path : outputs) io::remove_previous_output(path);
    const auto runs = services::generate_quantities(program, fitted, seed);
    err << fmt::format("exmc generate_quantities: model loaded in {:.1f} ms, compiled in {:.1f} ms; seed {}\n",
                       program.load_ms(), runs.front().compile_ms, seed);
    uint64_t failures = 0;
    std::string first_failure;
    for (const auto& r : runs) {
      for (const auto& note : r.notes) err << "exmc generate_quantities: " << note << "\n";
      if (r.draws.gq_failures > 0 && failures == 0) first_failure = r.draws.first_gq_failure;
      failures += r.draws.gq_failures;
    }
    if (failures > 0)
      err << fmt::format("exmc generate_quantities: warning: generated quantities failed in {} draws (written as "
                         "NaN); the first:\n{}\n",
                         failures, first_failure);
    for (unsigned c = 0; c < n; ++c) {
      const auto& path = outputs[c];
      services::write_csv(path, program, runs[c], seed, "2", o.sig_figs);
      interrupt.completed(path);
      out << path << "\n";
    }
    return 0;
  } catch (...) {
    return report_method_failure("generate_quantities", err);
  }
}

}  // namespace

MethodCommand add_generate_quantities_command(CLI::App& app) {
  auto o = std::make_shared<GqOptions>();
  auto* c = app.add_subcommand("generate_quantities",
                               "a program's generated quantities at the draws of an earlier fit (CmdStan's "
                               "standalone generate_quantities)");
  c->add_option("model", o->model_path, "the Stan program (.stan)")->required();
  c->add_option("--data", o->data_path, "data in Stan JSON (omit when the program has no data)");
  c->add_option("--fitted-params", o->fitted,
                "the fit's CmdStan CSV files, one per chain (exmc sample's or CmdStan's; warmup rows are skipped)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--output", o->output, "output CSV (one chain) or stem of out_1.csv ... out_N.csv")
      ->capture_default_str();
  c->add_option("--seed", o->seed,
                "random seed (default: random); the fit's seed regenerates exactly what exmc sample wrote")
      ->check(CLI::Range(0ull, 4294967295ull));
  c->add_option("--sig-figs", o->sig_figs, "significant digits in the output (-1: 6)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 18));
  c->add_flag("--allow-mixed-runs", o->allow_mixed_runs, "use files of different runs together");
  c->add_flag("--no-vectorize", o->no_vectorize, "unroll loops instead of vectorising them");
  return {c, [c, o](std::ostream& out, std::ostream& err) { return run(*o, c->count("--seed") > 0, out, err); }};
}

}  // namespace exmc::cli
