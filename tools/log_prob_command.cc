// exmc log_prob: CmdStan's log_prob method. The log density and its gradient at given points:
// constrained values (Stan JSON, or the draws of CmdStan CSV files) or unconstrained ones.
#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>

#include <fmt/format.h>

#include "cli_validators.hpp"
#include "jit_preload.hpp"
#include "method_commands.hpp"
#include "method_interrupt.hpp"
#include "exmc/analysis/cmdstan.hpp"
#include "exmc/io/output_files.hpp"
#include "exmc/io/stan_json.hpp"
#include "exmc/services/methods.hpp"

namespace exmc::cli {
namespace {

struct LogProbOptions {
  std::string model_path, data_path, output = "output.csv", unconstrained;
  std::vector<std::string> constrained;
  bool no_jacobian = false, no_vectorize = false;
  int sig_figs = -1;
};

bool ends_with(const std::string& s, const char* suffix) {
  const std::string t(suffix);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

// CmdStan's unconstrained_params file: Stan JSON with params_r, one point (d values) or a row
// per point.
std::vector<std::vector<double>> read_params_r(const std::string& path) {
  const auto json = io::StanJsonData::from_file(path);
  const auto* v = json.find("params_r");
  if (!v) throw std::runtime_error(path + ": no variable 'params_r' (the unconstrained values, one point or a row "
                                          "per point)");
  if (v->dims.size() > 2)
    throw std::runtime_error(path + ": 'params_r' has " + std::to_string(v->dims.size()) +
                             " dimensions: expected one point (a vector) or a row per point (a matrix)");
  const size_t rows = v->dims.size() == 2 ? v->dims[0] : 1, cols = v->dims.empty() ? 1 : v->dims.back();
  std::vector<std::vector<double>> points;
  for (size_t r = 0; r < rows; ++r)
    points.emplace_back(v->values.begin() + std::ptrdiff_t(r * cols), v->values.begin() + std::ptrdiff_t((r + 1) * cols));
  return points;
}

int run(const LogProbOptions& o, std::ostream& out, std::ostream& err) {
  try {
    MethodInterruptGuard interrupt("log_prob");  // before any thread is started
    if (o.constrained.empty() == o.unconstrained.empty())
      throw std::invalid_argument("give the points as --constrained-params or as --unconstrained-params (one of the two)");
    services::LogProbSettings s;
    s.jacobian = !o.no_jacobian;
    std::vector<io::NamedFile> inputs = {{"model", o.model_path}, {"data", o.data_path}};
    if (!o.unconstrained.empty()) {
      s.unconstrained = read_params_r(o.unconstrained);
      s.source = o.unconstrained;
      inputs.push_back({"--unconstrained-params", o.unconstrained});
    } else if (o.constrained.size() == 1 && !ends_with(o.constrained[0], ".csv")) {
      s.constrained_json = o.constrained[0];
      s.source = o.constrained[0];
    } else {
      std::vector<std::string> warnings;
      auto chains = analysis::read_cmdstan_chains(o.constrained, warnings);
      for (const auto& w : warnings) err << "exmc log_prob: warning: " << w << "\n";
      for (auto& c : chains) {
        if (c.num_rows == 0) throw std::runtime_error(analysis::no_draws_message(c));
        s.constrained.push_back({c.path, std::move(c.columns), c.num_rows, std::move(c.values), 0});
      }
      for (const auto& p : o.constrained) s.source += (s.source.empty() ? "" : ",") + p;
    }
    for (const auto& p : o.constrained) inputs.push_back({"--constrained-params", p});
    io::check_output_file(o.output, inputs);
    interrupt.expect({o.output});
    const JitPreload preload;
    const auto program = services::Program::load(o.model_path, o.data_path, !o.no_vectorize);
    io::remove_previous_output(o.output);  // as the other methods: no earlier run's file survives a kill
    const auto result = services::log_prob(program, s);
    err << fmt::format("exmc log_prob: model loaded in {:.1f} ms, compiled in {:.1f} ms\n", program.load_ms(),
                       result.compile_ms);
    for (const auto& note : result.notes) err << "exmc log_prob: " << note << "\n";
    for (const auto& w : result.warnings) err << "exmc log_prob: warning: " << w << "\n";
    services::write_csv(o.output, program, result, 0, "", o.sig_figs);
    interrupt.completed(o.output);
    out << o.output << "\n";
    return 0;
  } catch (...) {
    return report_method_failure("log_prob", err);
  }
}

}  // namespace

MethodCommand add_log_prob_command(CLI::App& app) {
  auto o = std::make_shared<LogProbOptions>();
  auto* c = app.add_subcommand("log_prob",
                               "the log density and its gradient at given points (CmdStan's log_prob method)");
  c->add_option("model", o->model_path, "the Stan program (.stan)")->required();
  c->add_option("--data", o->data_path, "data in Stan JSON (omit when the program has no data)");
  c->add_option("--constrained-params", o->constrained,
                "parameter values: a Stan JSON file (one point), or CmdStan CSV files named .csv (a point per draw)")
      ->check(CLI::ExistingFile);
  c->add_option("--unconstrained-params", o->unconstrained,
                "unconstrained values: Stan JSON with params_r (a point, or a row per point)")
      ->check(CLI::ExistingFile);
  c->add_flag("--no-jacobian", o->no_jacobian, "leave out the log-Jacobians of the constraint transforms");
  c->add_option("--output", o->output, "output CSV: lp__ and g_ columns, a row per point")->capture_default_str();
  c->add_option("--sig-figs", o->sig_figs, "significant digits in the output (-1: 6)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 18));
  c->add_flag("--no-vectorize", o->no_vectorize, "unroll loops instead of vectorising them");
  return {c, [o](std::ostream& out, std::ostream& err) { return run(*o, out, err); }};
}

}  // namespace exmc::cli
