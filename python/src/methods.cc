// optimize / laplace / pathfinder / variational / smc / generate_quantities from Python: the services' DrawTable (CmdStan's
// columns, row-major) handed over as one 2-D array.
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common.hpp"
#include "exmc/analysis/approximation.hpp"
#include "exmc/analysis/particles.hpp"
#include "exmc/services/gradient_test.hpp"
#include "exmc/services/methods.hpp"

namespace exmc::python {
namespace {

py::dict to_dict(services::MethodRun run) {
  const auto& t = run.draws;
  py::array_t<double> values({t.num_rows(), t.columns.size()});
  if (!t.values.empty()) std::memcpy(values.mutable_data(), t.values.data(), t.values.size() * sizeof(double));
  py::dict out;
  // "method = pathfinder": what diagnose_method() needs to know of the table.
  const std::string first = run.method_block.empty() ? "" : run.method_block.front();
  out["method"] = first.rfind("method = ", 0) == 0 ? first.substr(9, first.find(' ', 9) - 9) : first;
  out["columns"] = t.columns;
  out["num_method_columns"] = t.num_method_columns;
  out["values"] = values;
  out["notes"] = run.notes;
  py::dict extra;  // exmc's own header lines (smc's log marginal likelihood)
  for (const auto& [key, value] : run.extra) extra[py::str(key)] = value;
  out["extra"] = extra;
  out["warnings"] = run.warnings;
  out["gq_failures"] = t.gq_failures;
  out["grad_evals"] = run.grad_evals;
  out["seconds"] = run.seconds;
  return out;
}

// Runs a method without the GIL, interruptible (f is given the token to put in its settings),
// then converts its table with the GIL.
template <class F>
py::dict run_method(F f) {
  runtime::CancelToken cancel;
  return to_dict(run_interruptible(cancel, [&] { return f(&cancel); }));
}

// Constrained initial values by name (a Python dict, flattened column-major).
using InitValues = std::vector<std::pair<std::string, std::vector<double>>>;

// Its messages name Python's argument `init`, not the command's --init.
services::InitSpec init_spec(const std::string& init) { return services::InitSpec::parse(init, "init"); }

// exmc diagnose of a method's file, on its table: the same io::CmdStanCsv the command reads, with
// the values unrounded (sig_figs 17) and exmc's header lines (pathfinder's k, smc's evidence).
std::string diagnose_method(const std::string& method, const std::vector<std::string>& columns,
                            py::array_t<double, py::array::c_style | py::array::forcecast> values,
                            const std::map<std::string, std::string>& extra) {
  if (values.ndim() != 2 || size_t(values.shape(1)) != columns.size())
    throw std::invalid_argument("values: expected (rows, " + std::to_string(columns.size()) + " columns)");
  io::CmdStanCsv f;
  f.path = method + " result";
  f.columns = columns;
  f.config = extra;
  f.config["method"] = method;
  f.config["sig_figs"] = "17";
  const size_t rows = size_t(values.shape(0)), width = columns.size();
  const double* v = values.data();
  size_t first = 0;
  if (method == "variational" && rows > 0) {  // its first row is the approximation's mean, as in the file
    f.approximation_mean.assign(v, v + width);
    first = 1;
  }
  f.num_rows = rows - first;
  f.values.assign(v + first * width, v + rows * width);
  if (method == "smc") return analysis::diagnose_particles({f}).report;
  return analysis::diagnose_approximation({f}).report;  // its errors name optimize and the rest
}

}  // namespace

void bind_methods(py::module_& m) {
  m.def("diagnose_method", &diagnose_method, py::arg("method"), py::arg("columns"), py::arg("values"),
        py::arg("extra"));
  m.def("gradient_test", [](ProgramPtr p, uint64_t seed, const std::string& init, const InitValues& init_values,
                            double epsilon, double error) {
    services::GradientTestSettings s;
    s.init = init_spec(init);
    s.init.values = init_values;
    s.epsilon = epsilon;
    s.error = error;
    services::GradientTest t;
    {
      py::gil_scoped_release release;  // a few gradients: no need for the cancel machinery
      t = services::gradient_test(*p, s, seed);
    }
    py::dict out;
    py::list name, value, model, finite_diff, err, fails;
    for (const auto& r : t.rows) {
      name.append(r.name);
      value.append(r.value);
      model.append(r.model);
      finite_diff.append(r.finite_diff);
      err.append(r.error);
      fails.append(r.fails);
    }
    out["log_prob"] = t.log_prob;
    out["variable"] = name;
    out["value"] = value;
    out["model"] = model;
    out["finite_diff"] = finite_diff;
    out["error"] = err;
    out["fails"] = fails;
    out["warnings"] = t.warnings;
    out["text"] = services::format_gradient_test(t);
    return out;
  }, py::arg("program"), py::arg("seed"), py::arg("init"), py::arg("init_values"), py::arg("epsilon"),
     py::arg("error"), "CmdStan's diagnose method (test = gradient) at one point");
  m.def("optimize", [](ProgramPtr p, uint64_t seed, const std::string& init, bool jacobian,
                       const std::string& algorithm, int iter, const std::vector<std::pair<std::string, std::vector<double>>>& init_values) {
    services::OptimizeSettings s;
    s.init = init_spec(init);
    s.init.values = init_values;
    s.jacobian = jacobian;
    if (algorithm == "newton") s.algorithm = services::OptimizeSettings::Algorithm::kNewton;
    else if (algorithm != "lbfgs") throw std::invalid_argument("algorithm: expected 'lbfgs' or 'newton', got '" + algorithm + "'");
    s.lbfgs.max_iterations = iter;
    return run_method([&](const runtime::CancelToken* cancel) {
      s.cancel = cancel;
      return services::optimize(*p, s, seed);
    });
  }, py::arg("program"), py::arg("seed"), py::arg("init") = "2", py::arg("jacobian") = false,
     py::arg("algorithm") = "lbfgs", py::arg("iter") = 2000, py::arg("init_values") = InitValues{});
  m.def("laplace", [](ProgramPtr p, uint64_t seed, const std::string& init, bool jacobian, size_t draws,
                      const std::string& mode_file, const std::vector<std::pair<std::string, std::vector<double>>>& init_values) {
    services::LaplaceSettings s;
    s.jacobian = jacobian;
    s.optimize.jacobian = jacobian;
    s.optimize.init = init_spec(init);
    s.optimize.init.values = init_values;
    s.draws = draws;
    s.mode_file = mode_file;
    return run_method([&](const runtime::CancelToken* cancel) {
      s.optimize.cancel = cancel;
      return services::laplace(*p, s, seed);
    });
  }, py::arg("program"), py::arg("seed"), py::arg("init") = "2", py::arg("jacobian") = true,
     py::arg("draws") = 1000, py::arg("mode_file") = "", py::arg("init_values") = InitValues{});
  m.def("pathfinder", [](ProgramPtr p, uint64_t seed, const std::string& init, int num_paths, int draws,
                         int psis_draws, const std::vector<std::pair<std::string, std::vector<double>>>& init_values) {
    services::PathfinderSettings s;
    s.init = init_spec(init);
    s.init.values = init_values;
    s.options.num_paths = num_paths;
    s.options.num_draws = draws;
    s.options.num_psis_draws = psis_draws;
    return run_method([&](const runtime::CancelToken* cancel) {
      s.cancel = cancel;
      return services::pathfinder(*p, s, seed);
    });
  }, py::arg("program"), py::arg("seed"), py::arg("init") = "2", py::arg("num_paths") = 4,
     py::arg("draws") = 1000, py::arg("psis_draws") = 1000, py::arg("init_values") = InitValues{});
  m.def("smc", [](ProgramPtr p, uint64_t seed, size_t particles, const std::string& kernel, double target_ess,
                  int max_mutation_steps, double correlation_threshold, double reference_scale, unsigned runs,
                  unsigned threads, py::object on_stage, int refit_passes) {
    services::SmcSettings s;
    auto& o = s.options;
    o.refit_passes = refit_passes;
    o.num_particles = particles;
    if (kernel == "hmc") o.kernel = smc::SmcOptions::Kernel::kHmc;
    else if (kernel != "imh") throw std::invalid_argument("kernel: expected 'imh' or 'hmc', got '" + kernel + "'");
    o.target_ess = target_ess;
    o.max_mutation_steps = max_mutation_steps;
    o.correlation_threshold = correlation_threshold;
    o.reference_scale = reference_scale;
    o.num_threads = threads;
    s.runs = runs;
    // Called on the thread that runs smc (the GIL released): taken back for the Python call; an
    // exception raised there ends the run with it. The callable is held by pointer: copies of
    // the options must not touch its reference count without the GIL.
    if (!on_stage.is_none())
      o.on_stage = [cb = &on_stage](size_t stage, const smc::SmcStage& st) {
        py::gil_scoped_acquire gil;
        py::dict d;
        d["stage"] = stage;
        d["beta"] = st.beta;
        d["ess"] = st.ess;
        d["acceptance"] = st.acceptance;
        d["mutation_steps"] = st.mutation_steps;
        d["log_evidence_increment"] = st.log_evidence_increment;
        d["step_size"] = st.step_size;
        (*cb)(d);
      };
    return run_method([&](const runtime::CancelToken* cancel) {
      s.cancel = cancel;
      return services::smc(*p, s, seed);
    });
  }, py::arg("program"), py::arg("seed"), py::arg("particles") = 2000, py::arg("kernel") = "imh",
     py::arg("target_ess") = 0.5, py::arg("max_mutation_steps") = 25,
     py::arg("correlation_threshold") = 0.01, py::arg("reference_scale") = 2.0,
     py::arg("runs") = 1, py::arg("threads") = 0, py::arg("on_stage") = py::none(), py::arg("refit_passes") = 3);
  m.def("generate_quantities", [](ProgramPtr p, uint64_t seed, const std::vector<std::string>& columns,
                                  py::array_t<double, py::array::c_style | py::array::forcecast> values) {
    if (values.ndim() != 3 || size_t(values.shape(2)) != columns.size())
      throw std::invalid_argument("values: expected a (chain, draw, column) array with one column per name");
    const size_t chains = size_t(values.shape(0)), draws = size_t(values.shape(1)), width = columns.size();
    std::vector<services::FittedDraws> fitted;
    for (size_t c = 0; c < chains; ++c) {
      const double* begin = values.data() + c * draws * width;
      fitted.push_back({"chain " + std::to_string(c + 1), columns, draws,
                        std::vector<double>(begin, begin + draws * width), c});
    }
    std::vector<services::MethodRun> runs;
    {
      py::gil_scoped_release release;
      runs = services::generate_quantities(*p, fitted, seed);
    }
    py::list out;
    for (auto& r : runs) out.append(to_dict(std::move(r)));
    return out;
  }, py::arg("program"), py::arg("seed"), py::arg("columns"), py::arg("values"),
     "CmdStan's standalone generated quantities: per chain, the table of the program's values at the given draws");
  m.def("variational", [](ProgramPtr p, uint64_t seed, const std::string& init, const std::string& algorithm,
                          int iter, size_t draws, const std::vector<std::pair<std::string, std::vector<double>>>& init_values) {
    services::VariationalSettings s;
    s.init = init_spec(init);
    s.init.values = init_values;
    if (algorithm == "fullrank") s.options.family = variational::AdviOptions::Family::kFullrank;
    else if (algorithm != "meanfield") throw std::invalid_argument("algorithm: expected 'meanfield' or 'fullrank', got '" + algorithm + "'");
    s.options.iter = iter;
    s.options.output_draws = draws;
    return run_method([&](const runtime::CancelToken* cancel) {
      s.cancel = cancel;
      return services::variational(*p, s, seed);
    });
  }, py::arg("program"), py::arg("seed"), py::arg("init") = "2", py::arg("algorithm") = "meanfield",
     py::arg("iter") = 10000, py::arg("draws") = 1000, py::arg("init_values") = InitValues{});
}

}  // namespace exmc::python
