#include "method_commands.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <new>
#include <ostream>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "exmc/io/output_files.hpp"
#include "exmc/services/methods.hpp"
#include "cli_validators.hpp"
#include "jit_preload.hpp"
#include "method_interrupt.hpp"
#include "exmc/stan/error.hpp"

namespace exmc::cli {
namespace {

// The most draws, particles or paths a count option takes: more only ended in "out of memory"
// after the model was compiled, or (variational --draws -1, read as 2^64 - 1) in the standard
// library's "vector::reserve".
constexpr int kMaxCount = 100000000;

// Options every method command takes, as `exmc sample` spells them.
struct Common {
  std::string model_path, data_path, output = "output.csv", init = "2";
  unsigned long long seed = 0;
  bool seed_given = false;
  int sig_figs = -1;
  bool no_vectorize = false;
};

void add_common(CLI::App* c, Common& o) {
  c->add_option("model", o.model_path, "the Stan program (.stan)")->required();
  c->add_option("--data", o.data_path, "data in Stan JSON (omit when the program has no data)");
  c->add_option("--seed", o.seed, "random seed (default: random; written to the output)")
      ->check(CLI::Range(0ull, 4294967295ull));
  c->add_option("--init", o.init, "uniform(-R, R) radius on the unconstrained scale, or a JSON file of values")
      ->capture_default_str();
  c->add_option("--output", o.output, "output CSV")->capture_default_str();
  c->add_option("--sig-figs", o.sig_figs, "significant digits in the output (-1: 6)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 18));
  c->add_flag("--no-vectorize", o.no_vectorize, "unroll loops instead of vectorising them");
}

// Loads the program, runs `method`, reports and writes the file; errors become exit status 1.
// `more_inputs`: the command's own input files (laplace's --mode), which --output must not name.
int run_method(const char* name, CLI::App* app, const Common& o, std::ostream& out, std::ostream& err,
               const std::function<services::MethodRun(const services::Program&, uint64_t)>& method,
               const std::vector<io::NamedFile>& more_inputs = {}) {
  try {
    MethodInterruptGuard interrupt(name);  // first: every thread the method starts inherits its mask
    const uint64_t seed = app->count("--seed") ? o.seed : std::random_device{}() % 4294967291ull;
    // Before any work: the output is not an input and can be created (it is written at the end).
    char* end = nullptr;
    std::strtod(o.init.c_str(), &end);
    const bool init_is_radius = end != o.init.c_str() && *end == '\0';
    std::vector<io::NamedFile> inputs = {{"model", o.model_path},
                                         {"data", o.data_path},
                                         {"init", init_is_radius ? "" : o.init}};
    inputs.insert(inputs.end(), more_inputs.begin(), more_inputs.end());
    io::check_output_file(o.output, inputs);
    interrupt.expect({o.output});
    const JitPreload preload;  // beside the loading below
    const auto program = services::Program::load(o.model_path, o.data_path, !o.no_vectorize);
    // The inputs are valid and the work starts: an earlier run's file under this output's name
    // goes, as exmc sample's do, so a run killed from here on never leaves it passing for its own.
    io::remove_previous_output(o.output);
    const auto run = method(program, seed);
    err << fmt::format("exmc {}: model loaded in {:.1f} ms, compiled in {:.1f} ms; ran {:.1f} ms, {} gradient "
                       "evaluations{}, seed {}\n",
                       name, program.load_ms(), run.compile_ms, run.seconds * 1e3, run.grad_evals,
                       run.logp_evals ? fmt::format(" and {} log-density evaluations", run.logp_evals) : "", seed);
    for (const auto& n : run.notes) err << "exmc " << name << ": " << n << "\n";
    for (const auto& w : run.warnings) err << "exmc " << name << ": warning: " << w << "\n";
    if (run.draws.gq_failures > 0)
      err << fmt::format("exmc {}: warning: generated quantities failed in {} draws (written as NaN); the "
                         "first:\n{}\n",
                         name, run.draws.gq_failures, run.draws.first_gq_failure);
    services::write_csv(o.output, program, run, seed, o.init, o.sig_figs);
    interrupt.completed(o.output);
    out << o.output << "\n";
    return 0;
  } catch (...) {
    return report_method_failure(name, err);
  }
}

}  // namespace

int report_method_failure(std::string_view name, std::ostream& err) {
  try {
    throw;
  } catch (const stan::Error& e) {  // says where in the program or data, in its own words
    err << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    err << "exmc " << name << ": error: out of memory: a size in the program or its data may be larger than meant\n";
  } catch (const std::exception& e) {
    err << "exmc " << name << ": error: " << e.what() << "\n";
  }
  return 1;
}

// Each engine checks its options too, but names its own fields (AdviOptions.iter, pathfinder
// option num_psis_draws): the checks here name the option the user typed, and exit 2.
std::vector<MethodCommand> add_method_commands(CLI::App& app) {
  std::vector<MethodCommand> cmds;

  // optimize
  {
    auto o = std::make_shared<Common>();
    auto s = std::make_shared<services::OptimizeSettings>();
    auto algorithm = std::make_shared<std::string>("lbfgs");
    auto* c = app.add_subcommand("optimize", "the posterior mode (penalised MLE; --jacobian: MAP) by L-BFGS or Newton");
    add_common(c, *o);
    c->add_option("--algorithm", *algorithm, "lbfgs or newton")->capture_default_str()->check(
        CLI::IsMember({"lbfgs", "newton"}));
    c->add_flag("--jacobian", s->jacobian, "keep the change-of-variables terms (MAP on the unconstrained scale)");
    c->add_option("--iter", s->lbfgs.max_iterations, "maximum iterations")->capture_default_str()->check(
        CLI::Range(1, 100000000));
    c->add_option("--history", s->lbfgs.history, "L-BFGS history size")->capture_default_str()->check(
        CLI::Range(1, 1000));
    c->add_option("--init-alpha", s->lbfgs.init_alpha, "first line-search step")
        ->capture_default_str()
        ->check(positive());
    c->add_option("--tol-obj", s->lbfgs.tol_obj, "absolute change in log density")
        ->capture_default_str()
        ->check(non_negative());
    c->add_option("--tol-rel-obj", s->lbfgs.tol_rel_obj, "relative change in log density")
        ->capture_default_str()
        ->check(non_negative());
    c->add_option("--tol-grad", s->lbfgs.tol_grad, "gradient norm")
        ->capture_default_str()
        ->check(non_negative());
    c->add_option("--tol-rel-grad", s->lbfgs.tol_rel_grad, "relative gradient")
        ->capture_default_str()
        ->check(non_negative());
    c->add_option("--tol-param", s->lbfgs.tol_param, "change in parameters")
        ->capture_default_str()
        ->check(non_negative());
    cmds.push_back({c, [c, o, s, algorithm](std::ostream& out, std::ostream& err) {
                      return run_method("optimize", c, *o, out, err, [&](const services::Program& p, uint64_t seed) {
                        s->algorithm = *algorithm == "newton" ? services::OptimizeSettings::Algorithm::kNewton
                                                              : services::OptimizeSettings::Algorithm::kLbfgs;
                        s->lbfgs.validate();
                        s->init = services::InitSpec::parse(o->init);
                        auto run = services::optimize(p, *s, seed);
                        // Newton keeps no history and takes full steps (halved as needed): these
                        // two L-BFGS options were dropped without a word (the --tol-* apply to both).
                        if (*algorithm == "newton")
                          for (const char* opt : {"--history", "--init-alpha"})
                            if (c->count(opt))
                              run.warnings.insert(run.warnings.begin(),
                                                  fmt::format("{} {} is not used: it is an L-BFGS option, and "
                                                              "--algorithm newton has no history or first line-search "
                                                              "step",
                                                              opt, c->get_option(opt)->as<std::string>()));
                        return run;
                      });
                    }});
  }

  // laplace
  {
    auto o = std::make_shared<Common>();
    auto s = std::make_shared<services::LaplaceSettings>();
    auto no_jacobian = std::make_shared<bool>(false);
    auto* c = app.add_subcommand("laplace", "draws from the normal approximation at the mode (CmdStan's laplace)");
    add_common(c, *o);
    // Empty ("--mode $MODE" with MODE unset) read as left out: it optimised first without a word.
    c->add_option("--mode", s->mode_file, "the mode: Stan JSON or an `exmc optimize` CSV (default: optimise first)")
        ->check(not_empty());
    c->add_flag("--no-jacobian", *no_jacobian, "leave out the change-of-variables terms (around the penalised MLE)");
    c->add_option("--draws", s->draws, "number of draws")
        ->capture_default_str()
        ->check(CLI::Range(size_t(1), size_t(kMaxCount)));
    cmds.push_back({c, [c, o, s, no_jacobian](std::ostream& out, std::ostream& err) {
                      return run_method("laplace", c, *o, out, err, [&](const services::Program& p, uint64_t seed) {
                        s->jacobian = !*no_jacobian;
                        s->optimize.init = services::InitSpec::parse(o->init);
                        auto run = services::laplace(p, *s, seed);
                        // --init is where the optimisation starts: with --mode there is none, and
                        // an init file given beside it was dropped without a word.
                        if (!s->mode_file.empty() && c->count("--init"))
                          run.warnings.insert(run.warnings.begin(),
                                              "--init " + o->init + " is not used: --mode " + s->mode_file +
                                                  " gives the mode, so laplace does not optimise");
                        return run;
                      }, {{"mode", s->mode_file}});
                    }});
  }

  // pathfinder
  {
    auto o = std::make_shared<Common>();
    auto s = std::make_shared<services::PathfinderSettings>();
    auto no_resample = std::make_shared<bool>(false);
    auto* c = app.add_subcommand("pathfinder", "Pathfinder variational inference (multi-path, PSIS resampling)");
    add_common(c, *o);
    auto& po = s->options;
    c->add_option("--num-paths", po.num_paths, "independent single paths")
        ->capture_default_str()
        ->check(CLI::Range(1, kMaxCount));
    c->add_option("--draws", po.num_psis_draws, "draws after importance resampling")
        ->capture_default_str()
        ->check(CLI::Range(1, kMaxCount));
    c->add_option("--single-path-draws", po.num_draws, "draws from each path's approximation")
        ->capture_default_str()
        ->check(CLI::Range(1, kMaxCount));
    c->add_option("--elbo-draws", po.num_elbo_draws, "draws per ELBO estimate")
        ->capture_default_str()
        ->check(CLI::Range(1, kMaxCount));
    c->add_option("--history", po.history_size, "L-BFGS history size")
        ->capture_default_str()
        ->check(positive());
    c->add_option("--iter", po.max_lbfgs_iters, "maximum L-BFGS iterations per path")
        ->capture_default_str()
        ->check(positive());
    c->add_option("--threads", po.num_threads, "worker threads (0: one per path, at most the cores)")->capture_default_str();
    c->add_flag("--no-psis-resample", *no_resample, "return every path's draws, not resampled");
    cmds.push_back({c, [c, o, s, no_resample](std::ostream& out, std::ostream& err) {
                      return run_method("pathfinder", c, *o, out, err, [&](const services::Program& p, uint64_t seed) {
                        s->options.psis_resample = !*no_resample;
                        s->init = services::InitSpec::parse(o->init);
                        auto run = services::pathfinder(p, *s, seed);
                        // Without resampling (one path, or --no-psis-resample) the file holds every
                        // path's --single-path-draws, and a --draws given was dropped without a word
                        // (--num-paths 1 --draws 1 wrote 1,000 rows), as CmdStan's num_psis_draws is
                        // (stan-dev/stan#3268 asks for this warning).
                        if (c->count("--draws") && (*no_resample || s->options.num_paths == 1))
                          run.warnings.insert(
                              run.warnings.begin(),
                              fmt::format("--draws {} is not used: {}, and the file holds {} --single-path-draws ({} "
                                          "draws)",
                                          s->options.num_psis_draws,
                                          *no_resample ? "--no-psis-resample keeps the draws as drawn"
                                                       : "a single path is not resampled",
                                          *no_resample ? "every path's" : "its", run.draws.num_rows()));
                        return run;
                      });
                    }});
  }

  // variational
  {
    auto o = std::make_shared<Common>();
    auto s = std::make_shared<services::VariationalSettings>();
    auto algorithm = std::make_shared<std::string>("meanfield");
    auto no_adapt = std::make_shared<bool>(false);
    auto* c = app.add_subcommand("variational", "ADVI, meanfield or fullrank (Stan's variational)");
    add_common(c, *o);
    auto& ao = s->options;
    c->add_option("--algorithm", *algorithm, "meanfield or fullrank")->capture_default_str()->check(
        CLI::IsMember({"meanfield", "fullrank"}));
    c->add_option("--iter", ao.iter, "maximum iterations")->capture_default_str()->check(positive());
    c->add_option("--grad-samples", ao.grad_samples, "draws per gradient estimate")
        ->capture_default_str()
        ->check(positive());
    c->add_option("--elbo-samples", ao.elbo_samples, "draws per ELBO estimate")
        ->capture_default_str()
        ->check(positive());
    c->add_option("--eta", ao.eta, "step-size scale (when not adapted)")
        ->capture_default_str()
        ->check(positive());
    c->add_flag("--no-adapt", *no_adapt, "keep --eta instead of searching for it");
    c->add_option("--adapt-iter", ao.adapt_iter, "iterations per eta tried")
        ->capture_default_str()
        ->check(positive());
    c->add_option("--tol-rel-obj", ao.tol_rel_obj, "relative ELBO change that counts as converged")
        ->capture_default_str()->check(positive());
    c->add_option("--eval-elbo", ao.eval_elbo, "iterations between ELBO estimates")
        ->capture_default_str()
        ->check(positive());
    c->add_option("--draws", ao.output_draws, "draws from the approximation")
        ->capture_default_str()
        ->check(CLI::Range(size_t(0), size_t(kMaxCount)));
    cmds.push_back({c, [c, o, s, algorithm, no_adapt](std::ostream& out, std::ostream& err) {
                      return run_method("variational", c, *o, out, err, [&](const services::Program& p, uint64_t seed) {
                        s->options.family = *algorithm == "fullrank" ? variational::AdviOptions::Family::kFullrank
                                                                     : variational::AdviOptions::Family::kMeanfield;
                        s->options.adapt_engaged = !*no_adapt;
                        s->init = services::InitSpec::parse(o->init);
                        auto run = services::variational(p, *s, seed);
                        // Stan's rule, kept: adaptation picks eta and --eta serves --no-adapt only;
                        // --adapt-iter serves adaptation only. Either given in vain was dropped
                        // without a word.
                        if (!*no_adapt && c->count("--eta"))
                          run.warnings.insert(run.warnings.begin(),
                                              fmt::format("--eta {} is not used: eta adaptation picks eta from 100, 10, "
                                                          "1, 0.1, 0.01 (the note above says which); --no-adapt keeps "
                                                          "--eta",
                                                          c->get_option("--eta")->as<std::string>()));
                        if (*no_adapt && c->count("--adapt-iter"))
                          run.warnings.insert(run.warnings.begin(),
                                              fmt::format("--adapt-iter {} is not used: --no-adapt turns eta "
                                                          "adaptation off",
                                                          c->get_option("--adapt-iter")->as<std::string>()));
                        return run;
                      });
                    }});
  }

  // smc
  {
    auto o = std::make_shared<Common>();
    auto s = std::make_shared<services::SmcSettings>();
    auto kernel = std::make_shared<std::string>("imh");
    auto* c = app.add_subcommand("smc", "sequential Monte Carlo with tempering; log marginal likelihood");
    add_common(c, *o);
    auto& so = s->options;
    c->add_option("--particles", so.num_particles, "number of particles")
        ->capture_default_str()
        ->check(CLI::Range(2u, unsigned(kMaxCount)));
    c->add_option("--kernel", *kernel, "imh (independent MH from a fitted normal) or hmc")
        ->capture_default_str()
        ->check(CLI::IsMember({"imh", "hmc"}));
    c->add_option("--target-ess", so.target_ess, "fraction of particles kept as ESS per stage")
        ->capture_default_str()
        ->check(open_unit_interval());
    c->add_option("--max-mutation-steps", so.max_mutation_steps, "MCMC steps per stage at most")
        ->capture_default_str()
        ->check(positive());
    // The rule that ends a stage's rounds early (SmcOptions::correlation_threshold): 0 runs every
    // stage to --max-mutation-steps, which --max-mutation-steps alone could not ask for.
    c->add_option("--correlation-threshold", so.correlation_threshold,
                  "a stage's rounds stop once one lowers the particles' mean |correlation| with their start by "
                  "less than this (0: always --max-mutation-steps)")
        ->capture_default_str()
        ->check(CLI::Validator(
            [](std::string& text) -> std::string {
              char* end = nullptr;
              const double v = std::strtod(text.c_str(), &end);
              if (end == text.c_str() || *end != '\0') return "";  // not a number: the conversion says so
              if (v >= 0 && v < 1) return "";
              return "must be a number in [0, 1), got " + text;
            },
            "in [0, 1)"));
    c->add_option("--reference-scale", so.reference_scale, "sd of the N(0, s^2) reference the tempering starts from")
        ->capture_default_str()->check(positive());
    c->add_option("--refit-passes", so.refit_passes,
                  "temper again up to this many times, each from a normal fitted to the last particles, until "
                  "two passes' log evidence agree within 1 (0: once from the N(0, s^2) reference)")
        ->capture_default_str()
        ->check(CLI::Range(0, 16));
    c->add_option("--runs", s->runs, "independent runs (for the log evidence's standard error)")
        ->capture_default_str()
        ->check(CLI::Range(1u, 1000u));
    c->add_option("--threads", so.num_threads, "worker threads (0: the cores)")->capture_default_str();
    auto quiet = std::make_shared<bool>(false);
    c->add_flag("--no-progress", *quiet, "no line per tempering stage");
    cmds.push_back({c, [c, o, s, kernel, quiet](std::ostream& out, std::ostream& err) {
                      return run_method("smc", c, *o, out, err, [&](const services::Program& p, uint64_t seed) {
                        s->options.kernel = *kernel == "hmc" ? smc::SmcOptions::Kernel::kHmc
                                                             : smc::SmcOptions::Kernel::kIndependentMh;
                        // A large model can take minutes: say where the tempering is, as PyMC does.
                        const auto start = std::chrono::steady_clock::now();
                        s->options.on_stage = [&err, start, quiet](size_t stage, const smc::SmcStage& st) {
                          if (*quiet) return;
                          const std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
                          err << fmt::format("exmc smc: stage {}: beta {:.4g}, {} mutation round{}{}, acceptance "
                                             "{:.2f}, {:.1f} s\n",
                                             stage, st.beta, st.mutation_steps, st.mutation_steps == 1 ? "" : "s",
                                             st.unsettled ? " (still moving)" : "", st.acceptance, t.count())
                              << std::flush;
                        };
                        auto run = services::smc(p, *s, seed);
                        // Every method takes --init (docs/methods.md), but smc has no starting
                        // point: a file of initial values given to it was silently ignored.
                        if (c->count("--init"))
                          run.warnings.insert(run.warnings.begin(),
                                              "--init " + o->init + " is not used: smc draws its initial particles "
                                              "from its reference N(0, s^2), s = --reference-scale");
                        return run;
                      });
                    }});
  }
  cmds.push_back(add_generate_quantities_command(app));
  cmds.push_back(add_log_prob_command(app));
  return cmds;
}

}  // namespace exmc::cli
