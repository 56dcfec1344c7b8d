// CmdStan's standalone generated quantities: a fitted run's parameters in, this program's
// transformed parameters and generated quantities out.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "exmc/io/cmdstan_csv_writer.hpp"
#include "exmc/services/methods.hpp"
#include "timing.hpp"

namespace exmc::services {
namespace {

bool is_method_column(const std::string& name) {
  return name.size() > 2 && name.compare(name.size() - 2, 2, "__") == 0;
}

}  // namespace

std::vector<MethodRun> generate_quantities(const Program& program, const std::vector<FittedDraws>& fitted,
                                           uint64_t seed) {
  if (fitted.empty()) throw std::invalid_argument("generate_quantities: no fitted draws given");
  MethodRun first;
  const auto density = detail::compile_timed(program, {}, first);
  const auto vars = density->output_vars();
  const stan::GeneratedQuantities gq(*program.loaded().program, program.loaded().data, vars);
  if (gq.empty())
    throw std::runtime_error(program.model_name() + " has no generated quantities: there is nothing to generate");
  const auto value_names = flat_names(vars);
  const auto gq_names = stan::generated_quantities_names(gq);
  const size_t n_values = value_names.size(), n_gq = gq_names.size();
  const std::string run_id = io::new_run_id();

  std::vector<MethodRun> runs;
  for (const FittedDraws& f : fitted) {
    const auto t0 = detail::Clock::now();
    MethodRun run;
    run.compile_ms = first.compile_ms;
    run.run_id = run_id;
    run.method_block = {"method = generate_quantities", "  generate_quantities",
                        config_line(2, "fitted_params", f.name, false)};
    const auto where = detail::locate(f, vars);
    std::vector<size_t> method_cols;
    for (size_t i = 0; i < f.columns.size(); ++i)
      if (is_method_column(f.columns[i])) method_cols.push_back(i);
    DrawTable& t = run.draws;
    for (size_t i : method_cols) t.columns.push_back(f.columns[i]);
    t.num_method_columns = method_cols.size();
    t.columns.insert(t.columns.end(), value_names.begin(), value_names.end());
    t.columns.insert(t.columns.end(), gq_names.begin(), gq_names.end());
    if (f.num_rows == 0) throw std::runtime_error(f.name + ": no draws");
    t.values.reserve(f.num_rows * t.columns.size());

    Rng rng(seed, stan::GeneratedQuantities::kGqStreamBase + f.chain);
    std::vector<std::pair<std::string, std::vector<double>>> given;
    std::vector<double> x(density->dim()), row(t.columns.size());
    for (size_t r = 0; r < f.num_rows; ++r) {
      const double* in = f.values.data() + r * f.columns.size();
      given.clear();
      for (size_t k = 0; k < vars.size(); ++k) {
        if (where[k].empty()) continue;
        std::vector<double> v;
        for (size_t i : where[k]) v.push_back(in[i]);
        given.emplace_back(vars[k].name, std::move(v));
      }
      std::string error;
      if (!density->unconstrain(given, x.data(), &error))
        throw std::runtime_error(fmt::format("{}, draw {}: {}", f.name, r + 1, error));
      for (size_t m = 0; m < method_cols.size(); ++m) row[m] = in[method_cols[m]];
      double* values = row.data() + method_cols.size();
      density->constrain(x.data(), values);
      try {
        gq.eval(values, rng, values + n_values);
      } catch (const std::exception& e) {
        // As Stan: the draw keeps its parameters, its generated quantities become NaN.
        std::fill(values + n_values, values + n_values + n_gq, std::nan(""));
        if (t.gq_failures++ == 0) t.first_gq_failure = e.what();
      }
      t.values.insert(t.values.end(), row.begin(), row.end());
    }
    run.seconds = detail::seconds_since(t0);
    run.notes.push_back(fmt::format("{}: {} draws, as chain {}", f.name, f.num_rows, f.chain + 1));
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace exmc::services
