#include "cli.hpp"
#include "method_commands.hpp"
#include "batch_command.hpp"
#include "cli_validators.hpp"

#include <CLI/CLI.hpp>

#include "exmc/dashboard/dashboard.hpp"
#include "exmc/distributed/world.hpp"
#include "exmc/graph/compile.hpp"

#include <algorithm>
#include <cstdlib>
#include <ostream>

namespace exmc::cli {
namespace {

std::string number_or_file_check(const std::string& s) {
  char* end = nullptr;
  const double r = std::strtod(s.c_str(), &end);
  if (end != s.c_str() && *end == '\0') return r >= 0 ? "" : "the init radius must be >= 0";
  return "";  // a file path: checked when read, with its name in the message
}

}  // namespace

std::string chain_output_path(const std::string& output, unsigned chain, unsigned num_chains) {
  if (num_chains <= 1) return output;
  const auto slash = output.find_last_of('/');
  const auto dot = output.find_last_of('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  const std::string stem = has_ext ? output.substr(0, dot) : output;
  const std::string ext = has_ext ? output.substr(dot) : "";
  return stem + "_" + std::to_string(chain + 1) + ext;
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "exmc: Bayesian inference for Stan programs with NUTS, no C++ compile.\n"
      "  exmc sample MODEL.stan --data DATA.json     draws into output_1.csv ... output_4.csv\n"
      "  exmc optimize | laplace | pathfinder | variational | smc MODEL.stan --data DATA.json\n"
      "                                              the mode, or approximate draws, into output.csv\n"
      "  exmc generate_quantities MODEL.stan --data DATA.json --fitted-params output_*.csv\n"
      "                                              generated quantities at an earlier fit's draws\n"
      "  exmc log_prob MODEL.stan --data DATA.json --constrained-params P.json|output_1.csv\n"
      "                                              the log density and its gradient there\n"
      "  exmc summary output_*.csv                   posterior summary (posterior's columns)\n"
      "  exmc diagnose output_*.csv                  what went wrong, in words\n"
      "  exmc diagnose MODEL.stan --data DATA.json   the gradient against finite differences\n"
      "  exmc loo output_*.csv                       PSIS-LOO from a log_lik quantity\n"
      "  exmc plot output_*.csv --kind trace -o trace.png\n"
      "  mpirun -n K exmc sample | batch ...          chains, or many fits (--manifest, --sbc), over K ranks",
      "exmc"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");
  app.set_version_flag("--version", [] {
    const bool jit = graph::jit_available();  // loads the code generator: only here, for the answer
    return std::string("exmc ") + EXMC_VERSION + "\n  backend: " +
           (jit ? "machine code (LLVM) and the interpreter" : "the interpreter only") +
           "\n  MPI (mpirun -n K exmc sample | batch): " + (distributed::built_with_mpi() ? "yes" : "no") +
           "\n  dashboard (exmc sample --serve): " + (dashboard::available() ? "yes" : "no");
  }, "print exmc's version and what this build has, then exit");

  SampleOptions so;
  auto* s = app.add_subcommand("sample", "sample a Stan program's posterior with NUTS");
  s->add_option("model", so.model_path, "the Stan program (.stan)")->required();
  s->add_option("--data", so.data_path, "data in Stan JSON (omit when the program has no data)");
  s->add_option("--chains", so.chains, "number of chains")->capture_default_str()->check(CLI::Range(1u, 1024u));
  s->add_option("--threads", so.threads, "worker threads (0: one per chain, at most the cores)")
      ->capture_default_str();
  s->add_option("--warmup", so.warmup, "warmup (adaptation) iterations per chain")->capture_default_str();
  s->add_option("--draws", so.draws, "post-warmup draws per chain")->capture_default_str();
  s->add_option("--thin", so.thin, "keep every thin-th draw")->capture_default_str()->check(CLI::Range(1u, 1000000u));
  // CmdStan's range: a larger value used to wrap silently.
  s->add_option("--seed", so.seed, "random seed (default: random; written to the output)")
      ->check(CLI::Range(0ull, 4294967295ull));
  s->add_option("--adapt-delta", so.adapt_delta, "target acceptance statistic")
      ->capture_default_str()
      ->check(open_unit_interval());
  s->add_option("--max-depth", so.max_depth, "maximum tree depth")->capture_default_str()->check(CLI::Range(1, 30));
  s->add_option("--metric", so.metric,
                "diag (Stan's windowed), dense, grad-diag (nutpie's gradient-based), low-rank")
      ->capture_default_str()
      ->check(CLI::IsMember({"diag", "dense", "grad-diag", "low-rank"}));
  s->add_option("--init", so.init,
                "uniform(-R, R) radius on the unconstrained scale, a JSON file of values, or pathfinder "
                "(Pathfinder draws as initial points and metric)")
      ->capture_default_str()
      ->check(CLI::Validator(number_or_file_check, "RADIUS|FILE|pathfinder"));
  s->add_option("--output", so.output, "output CSV (one chain) or stem of out_1.csv ... out_N.csv")
      ->capture_default_str();
  s->add_option("--sig-figs", so.sig_figs, "significant digits in the output (-1: 6; 17 keeps every double)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 18));
  s->add_flag("--save-warmup", so.save_warmup, "write warmup draws too");
  s->add_flag("--fixed-param", so.fixed_param,
              "CmdStan's fixed_param sampler: each chain stays at its initial values (--init) and every draw is "
              "the generated quantities there; no warmup (chosen by itself for a program without parameters)");
  s->add_option("--precision", so.precision, "f64 or f32 arithmetic in the log density")
      ->capture_default_str()
      ->check(CLI::IsMember({"f64", "f32"}));
  s->add_option("--save-metric", so.save_metric, "write chain 1's adapted metric and step size (JSON)")
      ->check(not_empty());
  s->add_option("--load-metric", so.load_metric, "start every chain from a saved metric and step size (JSON)")
      ->check(not_empty());
  s->add_option("--checkpoint-every", so.checkpoint_every,
                "every N iterations, save each chain's whole state to OUTPUT.checkpoint (atomically)")
      ->check(CLI::Range(1u, 1000000000u));
  s->add_flag("--resume", so.resume,
              "continue the run OUTPUT.checkpoint describes (same command otherwise); the draws are "
              "those of an uninterrupted run");
  bool no_progress = false, no_vectorize = false;
  s->add_flag("--no-progress", no_progress, "no progress display on stderr");
  s->add_flag("--no-vectorize", no_vectorize, "unroll loops instead of vectorising them");
  s->add_option("--serve", so.serve,
                "a live dashboard in the browser at [HOST:]PORT (host 127.0.0.1 unless given; port 0: a free "
                "one); the URL goes to stderr")
      ->check(not_empty());
  s->add_flag("--serve-allow-remote", so.serve_allow_remote,
              "let --serve listen on an address beyond loopback (anyone who can reach it can watch the run)");
  s->add_option("--serve-linger", so.serve_linger, "keep the dashboard up this many seconds after sampling")
      ->check(non_negative());

  std::vector<std::string> files;
  // "-" is standard input, as for cat and CmdStan's stansummary (it said "File does not exist: -").
  const CLI::Validator dash_is_stdin(
      [](std::string& f) {
        if (f == "-") f = "/dev/stdin";
        return std::string();
      },
      "", "- for standard input");
  std::string format = "table";
  bool sampler_stats = true;
  auto* sm = app.add_subcommand("summary", "summarise CmdStan CSV files (one per chain)");
  sm->add_option("files", files, "CmdStan CSV files (- for standard input)")
      ->required()
      ->transform(dash_is_stdin)
      ->check(CLI::ExistingFile);
  sm->add_option("--format", format, "table, csv or json")->capture_default_str()->check(
      CLI::IsMember({"table", "csv", "json"}));
  bool no_stats = false;
  sm->add_flag("--no-sampler-stats", no_stats, "leave out the sampler statistics");
  bool allow_mixed = false;
  const char* mixed_help = "combine files of different runs (their exmc_run_id lines differ)";
  sm->add_flag("--allow-mixed-runs", allow_mixed, mixed_help);

  auto* dg = app.add_subcommand("diagnose", "check CmdStan CSV files for sampling problems; or, given a Stan program, "
                                            "its gradient against finite differences (CmdStan's diagnose method)");
  dg->add_option("files", files, "CmdStan CSV files (- for standard input), or one Stan program (.stan)")
      ->required()
      ->transform(dash_is_stdin)
      ->check(CLI::ExistingFile);
  dg->add_flag("--allow-mixed-runs", allow_mixed, mixed_help);
  GradientTestOptions gt;
  dg->add_option("--data", gt.data_path, "a program's data in Stan JSON (gradient test)");
  dg->add_option("--init", gt.init, "the point: a radius R (uniform(-R, R) unconstrained) or a Stan JSON file of "
                                    "values (gradient test)")
      ->capture_default_str();
  dg->add_option("--seed", gt.seed, "random seed of the point (gradient test; default: random)")
      ->check(CLI::Range(0ull, 4294967295ull));
  dg->add_option("--epsilon", gt.epsilon, "finite-difference step (gradient test)")->capture_default_str();
  dg->add_option("--error", gt.error, "largest |gradient - finite difference| that passes, relative where the "
                                      "gradient is above 1, beyond the differences' rounding (gradient test)")
      ->capture_default_str();

  std::string log_lik = "log_lik";
  auto* lo = app.add_subcommand("loo", "PSIS-LOO from a pointwise log-likelihood quantity");
  lo->add_option("files", files, "CmdStan CSV files (- for standard input)")
      ->required()
      ->transform(dash_is_stdin)
      ->check(CLI::ExistingFile);
  lo->add_option("--log-lik", log_lik, "name of the log-likelihood quantity")->capture_default_str();
  lo->add_flag("--allow-mixed-runs", allow_mixed, mixed_help);
  lo->add_option("--format", format, "table, csv or json")->capture_default_str()->check(
      CLI::IsMember({"table", "csv", "json"}));

  std::vector<std::string> plot_args;
  auto* pl = app.add_subcommand("plot", "plots from CSV files: trace, rank, pair, forest, energy, autocorr "
                                        "(python3 -m exmc plot; --help there)");
  pl->allow_extras();
  pl->prefix_command();
  pl->set_help_flag();

  const auto methods = add_method_commands(app);
  const auto batch = add_batch_command(app);

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? 0 : 2;
  }
  if (s->parsed()) {
    so.seed_given = s->count("--seed") > 0;
    so.progress = !no_progress;
    so.vectorize_loops = !no_vectorize;
    return sample(so, out, err);
  }
  if (sm->parsed()) return summary(files, format, !no_stats, out, err, allow_mixed);
  if (dg->parsed()) {
    const bool program = files.size() == 1 && files[0].size() > 5 &&
                         files[0].compare(files[0].size() - 5, 5, ".stan") == 0;
    if (program) {
      if (allow_mixed) {
        err << "exmc diagnose: error: --allow-mixed-runs is for CSV files, not a program's gradient test\n";
        return 2;
      }
      gt.model_path = files[0];
      gt.seed_given = dg->count("--seed") > 0;
      return gradient_test(gt, out, err);
    }
    for (const char* opt : {"--data", "--init", "--seed", "--epsilon", "--error"})
      if (dg->count(opt)) {
        err << "exmc diagnose: error: " << opt << " is for a program's gradient test (exmc diagnose MODEL.stan "
            << "--data DATA.json), not for CSV files\n";
        return 2;
      }
    return diagnose(files, out, err, allow_mixed);
  }
  if (lo->parsed()) return loo(files, log_lik, format, out, err, allow_mixed);
  if (pl->parsed()) return plot(pl->remaining(), err);
  for (const auto& m : methods)
    if (m.app->parsed()) return m.run(out, err);
  if (batch.app->parsed()) return batch.run(out, err);
  return 2;
}

}  // namespace exmc::cli
