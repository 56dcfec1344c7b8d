// pathfinder service: multi-path Pathfinder on the sampler's own density (non-centring as NUTS
// would use it), draws written with CmdStan 2.33's columns.
#include <algorithm>
#include <cmath>

#include "exmc/services/methods.hpp"
#include "timing.hpp"

namespace exmc::services {
using detail::Clock;
using detail::seconds_since;

pathfinder::PathfinderResult run_pathfinder(const LogDensity& density, const PathfinderSettings& s, uint64_t seed,
                                            std::vector<std::string>* warnings) {
  pathfinder::PathfinderOptions o = s.options;
  o.init_radius = s.init.radius;
  if (!s.init.file.empty() || !s.init.values.empty()) o.init = initial_point(density, s.init, seed, 0, warnings);
  return pathfinder::pathfinder(density, o, seed);
}

pathfinder::PathfinderResult init_from_pathfinder(const LogDensity& density, uint64_t seed, runtime::RunConfig& cfg,
                                                  unsigned total_chains, const std::string& init_name) {
  auto& sc = cfg.sampler;
  if (sc.warm_start)
    throw std::invalid_argument(init_name + " pathfinder and a loaded metric both set the initial metric");
  auto pf = run_pathfinder(density, PathfinderSettings{}, seed);
  const auto& draws = pf.draws;
  const size_t d = density.dim(), n = draws.size();
  if (n < 2) throw std::runtime_error(init_name + " pathfinder: Pathfinder returned fewer than two draws");
  cfg.chain_init_x.clear();
  const size_t total = std::max<size_t>(total_chains, cfg.num_chains);
  for (unsigned c = 0; c < cfg.num_chains; ++c) {
    const double* x = draws.draw((cfg.chain_offset + c) * n / total);
    cfg.chain_init_x.emplace_back(x, x + d);
  }
  std::vector<double> mean(d, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < d; ++k) mean[k] += draws.draw(i)[k] / double(n);
  const bool dense = sc.metric == nuts::MetricKind::Dense;
  nuts::AdaptationState a;
  a.dim = d;
  a.metric_kind = dense ? nuts::MetricKind::Dense : nuts::MetricKind::Diag;
  a.inv_metric.assign(dense ? d * d : d, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const double* x = draws.draw(i);
    for (size_t r = 0; r < d; ++r) {
      if (!dense) {
        a.inv_metric[r] += (x[r] - mean[r]) * (x[r] - mean[r]) / double(n - 1);
        continue;
      }
      for (size_t k = 0; k < d; ++k) a.inv_metric[k * d + r] += (x[r] - mean[r]) * (x[k] - mean[k]) / double(n - 1);
    }
  }
  // Resampling can leave a coordinate without spread: the unit metric stays there.
  for (size_t r = 0; r < d; ++r) {
    double& v = a.inv_metric[dense ? r * d + r : r];
    if (!(v > 0) || !std::isfinite(v)) v = 1.0;
  }
  a.step_size = sc.init_step_size;
  sc.warm_start = a;
  return pf;
}

namespace {

MethodRun run_method(const Program& program, const PathfinderSettings& s, uint64_t seed) {
  MethodRun run;
  const auto density = detail::compile_timed(program, {}, run);
  detail::require_parameters(program, *density);
  const auto t0 = Clock::now();
  const auto result = run_pathfinder(detail::CancellableDensity(*density, s.cancel), s, seed, &run.warnings);
  detail::throw_if_cancelled(s.cancel);
  run.seconds = seconds_since(t0);
  run.grad_evals = result.grad_evals;

  const auto& o = s.options;
  const pathfinder::PathfinderOptions d;
  auto& b = run.method_block;
  b.push_back("method = pathfinder");
  b.push_back("  pathfinder");
  b.push_back(config_line(2, "init_alpha", format_number(o.init_alpha), o.init_alpha == d.init_alpha));
  tolerance_lines(b, o, 2);
  b.push_back(config_line(2, "history_size", std::to_string(o.history_size), o.history_size == d.history_size));
  b.push_back(config_line(2, "num_psis_draws", std::to_string(o.num_psis_draws), o.num_psis_draws == d.num_psis_draws));
  b.push_back(config_line(2, "num_paths", std::to_string(o.num_paths), o.num_paths == d.num_paths));
  b.push_back(config_line(2, "psis_resample", o.psis_resample ? "1" : "0", o.psis_resample));
  b.push_back(config_line(2, "max_lbfgs_iters", std::to_string(o.max_lbfgs_iters), o.max_lbfgs_iters == d.max_lbfgs_iters));
  b.push_back(config_line(2, "num_draws", std::to_string(o.num_draws), o.num_draws == d.num_draws));
  b.push_back(config_line(2, "num_elbo_draws", std::to_string(o.num_elbo_draws), o.num_elbo_draws == d.num_elbo_draws));
  run.extra.push_back({"exmc_pareto_k", format_number(result.pareto_k)});

  size_t failed = 0;
  for (size_t p = 0; p < result.paths.size(); ++p) {
    const auto& path = result.paths[p];
    if (!path.ok()) {
      ++failed;
      run.warnings.push_back("path " + std::to_string(p + 1) + " failed: " + path.error);
      continue;
    }
    run.notes.push_back("path " + std::to_string(p + 1) + ": best ELBO " + format_number(path.best_elbo) +
                        " at L-BFGS iteration " + std::to_string(path.best_iteration) + " (" +
                        optimize::describe(path.lbfgs_termination) + ")");
  }
  if (o.psis_resample && o.num_paths > 1 && result.paths.size() - failed > 1) {
    if (std::isnan(result.pareto_k))  // --single-path-draws 1: "k = inf, the approximation is poor" before
      run.notes.push_back("Pareto k of the importance ratios could not be estimated: too few draws (PSIS needs 25 "
                          "or more; --num-paths x --single-path-draws)");
    else
      run.notes.push_back("Pareto k of the importance ratios: " + format_number(result.pareto_k));
    if (result.pareto_k > 0.7)
      run.warnings.push_back("Pareto k = " + format_number(result.pareto_k) +
                             " > 0.7: the approximation is poor; treat the draws as a rough guide (or initial "
                             "values for `exmc sample`) only");
  }

  TableBuilder table(program, *density, {"lp_approx__", "lp__"}, seed);
  const auto& draws = result.draws;
  for (size_t i = 0; i < draws.size(); ++i) {
    detail::throw_if_cancelled(s.cancel);
    const double lp[2] = {draws.log_q[i], draws.log_p[i]};
    table.add(draws.draw(i), lp);
  }
  run.draws = table.take();
  detail::warn_of_runaway_values(run);
  return run;
}

}  // namespace

MethodRun pathfinder(const Program& program, const PathfinderSettings& s, uint64_t seed) {
  return detail::cancellable(s.cancel, [&] { return run_method(program, s, seed); });
}

}  // namespace exmc::services
