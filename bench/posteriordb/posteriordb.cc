#include "posteriordb.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "exmc/analysis/convergence.hpp"
#include "exmc/analysis/draws.hpp"
#include "exmc/graph/compile.hpp"
#include "exmc/io/stan_json.hpp"
#include "exmc/runtime/run_chains.hpp"
#include "exmc/services/methods.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/load.hpp"

namespace exmc::posteriordb {
namespace fs = std::filesystem;

namespace {

double number_or_nan(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::numeric_limits<double>::quiet_NaN();
  return it->get<double>();
}

// One line of an exception text: the caret snippet of a stan::Error is for terminals.
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string fixed(double x, int digits) {
  return std::isfinite(x) ? fmt::format("{:.{}f}", x, digits) : std::string("NA");
}

// "mean(beta[2] z=5.1)" or, when more failed, "mean(beta[2] z=5.1 +2)".
std::string with_count(const std::string& what, size_t count) {
  return count > 1 ? fmt::format("{} +{})", what.substr(0, what.size() - 1), count - 1) : what;
}

// A NaN z (an undefined MCSE) is worse than any number, and stays the worst.
bool is_worse(double z, double worst) {
  if (std::isnan(worst)) return false;
  return std::isnan(z) || std::abs(z) > std::abs(worst);
}

}  // namespace

Reference read_reference(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read the reference file", file.string()));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
  auto params = j.find("parameters");
  if (params == j.end() || !params->is_object() || params->empty())
    throw std::runtime_error(fmt::format("{}: expected a non-empty object 'parameters'", file.string()));
  Reference ref;
  // reference_inference.method_arguments.control, each level optional.
  const nlohmann::json* control = &j;
  for (const char* key : {"reference_inference", "method_arguments", "control"}) {
    auto it = control->is_object() ? control->find(key) : control->end();
    control = it != control->end() && it->is_object() ? &*it : nullptr;
    if (!control) break;
  }
  if (control) {
    double delta = number_or_nan(*control, "adapt_delta");
    double depth = number_or_nan(*control, "max_treedepth");
    if (std::isfinite(delta) && delta > 0 && delta < 1) ref.adapt_delta = delta;
    if (std::isfinite(depth) && depth >= 1) ref.max_treedepth = static_cast<int>(depth);
  }
  for (const auto& [name, q] : params->items()) {
    RefQuantity r;
    r.name = name;
    r.flat_name = to_flat_name(name);
    r.mean = number_or_nan(q, "mean");
    r.sd = number_or_nan(q, "sd");
    if (!std::isfinite(r.mean) || !std::isfinite(r.sd) || r.sd < 0)
      throw std::runtime_error(fmt::format(
          "{}: parameter '{}': expected numbers 'mean' and 'sd' >= 0", file.string(), name));
    // The reference is itself a Monte Carlo estimate; its error enters the comparison.
    double ess = number_or_nan(q, "ref_ess_bulk");
    if (!std::isfinite(ess) || ess <= 0) ess = number_or_nan(q, "n_draws");
    if (!std::isfinite(ess) || ess <= 0) ess = 10000;  // posteriordb's reference size
    double pdb_mcse = number_or_nan(q, "pdb_mcse_mean");
    r.mcse_mean = std::isfinite(pdb_mcse) && pdb_mcse > 0 ? pdb_mcse : r.sd / std::sqrt(ess);
    r.mcse_sd = r.sd / std::sqrt(2 * ess);
    ref.quantities.push_back(std::move(r));
  }
  return ref;
}

std::string to_flat_name(const std::string& name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == '[' || c == ',') out += '.';
    else if (c == ']' || c == ' ') continue;
    else out += c;
  }
  return out;
}

std::vector<std::string> list_posteriors(const fs::path& root) {
  std::vector<std::string> out;
  if (!fs::is_directory(root))
    throw std::runtime_error(fmt::format("{}: not a directory (expected posteriordb's folder)",
                                         root.string()));
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory() && fs::exists(entry.path() / "model.stan") &&
        fs::exists(entry.path() / "reference.json"))
      out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<std::string>& fast_subset() {
  // Small, well-conditioned posteriors that cover scalars, vectors with a simplex-free
  // constraint, a hierarchical transformed parameter and a two-component mixture; each
  // takes well under a second of sampling.
  static const std::vector<std::string> subset = {
      "eight_schools-eight_schools_noncentered",
      "kidiq-kidscore_momiq",
      "earnings-logearn_height",
      "mesquite-logmesquite_logvolume",
      "sblri-blr",
      "arK-arK",
  };
  return subset;
}

bool is_gated(const std::string& posterior) {
  return posterior != "eight_schools-eight_schools_centered";
}

std::vector<std::string> select_posteriors(const std::vector<std::string>& available,
                                           const std::string& name) {
  std::vector<std::string> out;
  for (const auto& p : available) {
    auto dash = p.find('-');
    if (p == name || (dash != std::string::npos && p.substr(dash + 1) == name)) out.push_back(p);
  }
  return out;
}

const char* status_name(Status s) {
  switch (s) {
    case Status::Pass: return "pass";
    case Status::Fail: return "FAIL";
    case Status::NotLowered: return "not-lowered";
    case Status::Error: return "error";
  }
  return "?";
}

double Outcome::ess_per_second() const {
  const double seconds = sample_seconds + init_seconds;
  return seconds > 0 ? min_ess_bulk / seconds : std::numeric_limits<double>::quiet_NaN();
}

void grade(const std::vector<VarStats>& vars, const Reference& ref, uint64_t divergences,
           size_t post_warmup_draws, const Criteria& criteria, Outcome& out) {
  out.failures.clear();
  out.checks.clear();
  out.divergences = divergences;
  out.post_warmup_draws = post_warmup_draws;

  // R-hat and bulk ESS over every non-constant output: a parameter the reference leaves out
  // (theta_trans) still has to mix. NaN on a varying quantity is a failure, not a skip.
  out.max_rhat = 0;
  out.min_ess_bulk = std::numeric_limits<double>::infinity();
  bool rhat_nan = false, ess_nan = false;
  for (const auto& v : vars) {
    if (!(v.sd > 0)) continue;
    if (!std::isfinite(v.rhat)) {
      if (!rhat_nan) out.max_rhat_variable = v.name;
      rhat_nan = true;
    } else if (!rhat_nan && v.rhat > out.max_rhat) {
      out.max_rhat = v.rhat;
      out.max_rhat_variable = v.name;
    }
    if (!std::isfinite(v.ess_bulk)) {
      if (!ess_nan) out.min_ess_variable = v.name;
      ess_nan = true;
    } else if (!ess_nan && v.ess_bulk < out.min_ess_bulk) {
      out.min_ess_bulk = v.ess_bulk;
      out.min_ess_variable = v.name;
    }
  }
  if (rhat_nan) out.max_rhat = std::numeric_limits<double>::quiet_NaN();
  if (ess_nan) out.min_ess_bulk = std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(out.min_ess_bulk)) out.min_ess_bulk = std::numeric_limits<double>::quiet_NaN();

  if (rhat_nan || out.max_rhat >= criteria.max_rhat)
    out.failures.push_back(fmt::format("rhat({}={})", out.max_rhat_variable, fixed(out.max_rhat, 3)));
  if (ess_nan || out.min_ess_bulk < criteria.min_ess_bulk)
    out.failures.push_back(fmt::format("ess({}={})", out.min_ess_variable, fixed(out.min_ess_bulk, 0)));

  // Mean and sd against the reference. The difference of two Monte Carlo estimates has the
  // error sqrt(mcse_exmc^2 + mcse_ref^2); the gate is 4 of that.
  size_t missing = 0, mean_fails = 0, sd_fails = 0;
  std::string first_missing;
  out.worst_z_mean = out.worst_z_sd = 0;
  for (const auto& q : ref.quantities) {
    QuantityCheck c;
    c.name = q.name;
    c.ref_mean = q.mean;
    c.ref_sd = q.sd;
    auto it = std::find_if(vars.begin(), vars.end(),
                           [&](const VarStats& v) { return v.name == q.flat_name; });
    if (it == vars.end()) {
      if (missing++ == 0) first_missing = q.name;
      out.checks.push_back(c);
      continue;
    }
    c.found = true;
    c.mean = it->mean;
    c.sd = it->sd;
    double dm = it->mean - q.mean, ds = it->sd - q.sd;
    c.z_mean = dm / std::hypot(it->mcse_mean, q.mcse_mean);
    c.z_sd = ds / std::hypot(it->mcse_sd, q.mcse_sd);
    c.z_mean_exmc = dm / it->mcse_mean;
    c.z_sd_exmc = ds / it->mcse_sd;
    // A degenerate quantity (sd 0 in both) matches when the values agree exactly.
    if (dm == 0) c.z_mean = c.z_mean_exmc = 0;
    if (ds == 0) c.z_sd = c.z_sd_exmc = 0;
    bool mean_ok = std::abs(c.z_mean) <= criteria.max_abs_z;  // false for NaN
    bool sd_ok = std::abs(c.z_sd) <= criteria.max_abs_z;
    c.pass = mean_ok && sd_ok;
    if (is_worse(c.z_mean, out.worst_z_mean)) {
      out.worst_z_mean = c.z_mean;
      out.worst_mean_quantity = q.name;
    }
    if (is_worse(c.z_sd, out.worst_z_sd)) {
      out.worst_z_sd = c.z_sd;
      out.worst_sd_quantity = q.name;
    }
    mean_fails += !mean_ok;
    sd_fails += !sd_ok;
    out.checks.push_back(c);
  }
  if (mean_fails)
    out.failures.push_back(with_count(
        fmt::format("mean({} z={})", out.worst_mean_quantity, fixed(out.worst_z_mean, 1)), mean_fails));
  if (sd_fails)
    out.failures.push_back(with_count(
        fmt::format("sd({} z={})", out.worst_sd_quantity, fixed(out.worst_z_sd, 1)), sd_fails));
  if (missing)
    out.failures.push_back(with_count(fmt::format("missing({})", first_missing), missing));

  double fraction = post_warmup_draws ? double(divergences) / double(post_warmup_draws) : 0;
  if (fraction > criteria.max_divergent_fraction)
    out.failures.push_back(fmt::format("divergent({:.1f}%)", 100 * fraction));

  out.status = out.failures.empty() ? Status::Pass : Status::Fail;
}

// The outcome of a run that stopped at a step (status, the step's name, the error's first line).
Outcome stopped(Outcome out, Status status, const char* step, const std::exception& e) {
  out.status = status;
  out.failures = {step};
  out.message = first_line(e.what());
  return out;
}

Outcome run_posterior(const fs::path& root, const std::string& posterior, const RunOptions& options,
                      const Criteria& criteria) {
  using Clock = std::chrono::steady_clock;
  Outcome out;
  out.posterior = posterior;
  out.gated = is_gated(posterior);
  const fs::path dir = root / posterior;
  auto t0 = Clock::now();

  Reference ref;
  try {
    ref = read_reference(dir / "reference.json");
  } catch (const std::exception& e) {
    return stopped(out, Status::Error, "reference", e);
  }

  // Parse, check, bind data, lower: a parse or data error is an error; anything the lowering
  // refuses is "not lowered" (a missing feature, reported with its file:line:column).
  stan::LoadedProgram loaded;
  fs::path data = dir / "data.json";
  try {
    loaded = stan::load_program((dir / "model.stan").string(),
                                fs::exists(data) ? data.string() : std::string());
  } catch (const stan::ParseError& e) {
    return stopped(out, Status::Error, "parse", e);
  } catch (const stan::SemanticError& e) {
    return stopped(out, Status::Error, "check", e);
  } catch (const stan::DataError& e) {
    return stopped(out, Status::Error, "data", e);
  } catch (const io::StanJsonError& e) {
    return stopped(out, Status::Error, "data", e);
  } catch (const std::exception& e) {
    return stopped(out, Status::NotLowered, "lower", e);
  }

  std::unique_ptr<graph::CompiledDensity> density;
  try {
    density = options.single_precision ? loaded.model->compile<float>() : loaded.model->compile<double>();
  } catch (const std::exception& e) {
    out.status = Status::Error;
    out.failures = {"compile"};
    out.message = first_line(e.what());
    return out;
  }
  out.dim = density->dim();
  out.load_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  runtime::RunConfig cfg;
  cfg.num_chains = options.chains;
  cfg.num_threads = options.threads;
  cfg.seed = options.seed;
  cfg.sampler.num_warmup = options.warmup;
  cfg.sampler.num_samples = options.draws;
  cfg.progress.enabled = false;
  if (options.reference_control && ref.adapt_delta > 0) cfg.sampler.dual_averaging.delta = ref.adapt_delta;
  if (options.reference_control && ref.max_treedepth > 0) cfg.sampler.max_depth = ref.max_treedepth;
  out.adapt_delta = cfg.sampler.dual_averaging.delta;
  out.max_treedepth = cfg.sampler.max_depth;
  if (options.init == RunOptions::Init::Pathfinder) {
    try {
      auto ti = Clock::now();
      auto pf = services::init_from_pathfinder(*density, options.seed, cfg);
      out.init_seconds = std::chrono::duration<double>(Clock::now() - ti).count();
      out.init_grad_evals = pf.grad_evals;
    } catch (const std::exception& e) {
      return stopped(out, Status::Error, "init", e);
    }
  }
  runtime::RunResult run;
  try {
    run = runtime::run_chains(*density, cfg);
    run.throw_if_failed();
  } catch (const std::exception& e) {
    return stopped(out, Status::Error, "sample", e);
  }
  out.sample_seconds = run.wall_seconds;

  // Chains -> the variable-major Draws layout every diagnostic reads.
  const size_t num_vars = run.names.size();
  size_t draws_per_chain = run.chains.empty() ? 0 : run.chains[0].num_draws();
  for (const auto& c : run.chains) draws_per_chain = std::min(draws_per_chain, c.num_draws());
  analysis::Draws draws(run.chains.size(), draws_per_chain, run.names);
  uint64_t divergences = 0;
  out.grad_evals = out.warmup_grad_evals = out.init_grad_evals;
  for (size_t c = 0; c < run.chains.size(); ++c) {
    const auto& chain = run.chains[c];
    out.grad_evals += chain.grad_evals;
    out.warmup_grad_evals += chain.warmup_grad_evals;
    divergences += chain.divergences;
    ChainSummary summary;
    summary.divergences = chain.divergences;
    summary.recoveries = chain.recoveries;
    summary.step_size = chain.adaptation.step_size;
    for (const auto& st : chain.stats) {
      summary.mean_tree_depth += st.tree_depth;
      summary.mean_accept += st.accept_stat;
      summary.mean_lp += st.lp;
    }
    if (!chain.stats.empty()) {
      double n = double(chain.stats.size());
      summary.mean_tree_depth /= n;
      summary.mean_accept /= n;
      summary.mean_lp /= n;
    }
    out.chains.push_back(summary);
    for (size_t d = 0; d < draws_per_chain; ++d)
      for (size_t v = 0; v < num_vars; ++v) draws.at(v, c, d) = chain.draw(d)[v];
  }

  std::vector<VarStats> stats(num_vars);
  for (size_t v = 0; v < num_vars; ++v) {
    analysis::ChainView view{draws.variable(v), draws_per_chain, draws.num_chains};
    auto& s = stats[v];
    s.name = run.names[v];
    s.mean = analysis::mean(view.x, view.size());
    s.sd = analysis::sd(view.x, view.size());
    if (s.sd > 0) {
      s.mcse_mean = analysis::mcse_mean(view);
      s.mcse_sd = analysis::mcse_sd(view);
      s.rhat = analysis::rhat(view);
      s.ess_bulk = analysis::ess_bulk(view);
    }
  }
  grade(stats, ref, divergences, draws_per_chain * draws.num_chains, criteria, out);
  return out;
}

}  // namespace exmc::posteriordb
