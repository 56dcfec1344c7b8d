// Simulation-based calibration: simulate with the simulator's generated quantities, refit with
// services::SampleJob, rank, test.
#include "file_text.hpp"
#include "sbc.hpp"

#include "batch_folder.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <boost/math/special_functions/gamma.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "exmc/core/rng.hpp"
#include "exmc/distributed/scheduler.hpp"
#include "exmc/services/program.hpp"
#include "exmc/services/sample.hpp"
#include "exmc/stan/ast.hpp"
#include "exmc/stan/generated_quantities.hpp"

namespace exmc::cli {
namespace {

// The simulator's stream (per simulation); far from NUTS's 0..chains and the services' streams.
constexpr uint64_t kSimulationStream = 7'000'000'000ull;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Column-major flat values of `shape` as Stan JSON (nested arrays, row-major nesting); values
// that are whole numbers are written as integers so int data reads back.
nlohmann::json to_stan_json(const double* v, const std::vector<size_t>& shape) {
  auto number = [](double x) -> nlohmann::json {
    if (std::isfinite(x) && std::floor(x) == x && std::fabs(x) < 9e15) return static_cast<long long>(x);
    return x;
  };
  if (shape.empty()) return number(v[0]);
  // Element (i1, ..., ik) sits at i1 + d1 * (i2 + d2 * (...)).
  std::function<nlohmann::json(size_t, size_t, size_t)> build = [&](size_t dim, size_t offset,
                                                                    size_t stride) -> nlohmann::json {
    auto arr = nlohmann::json::array();
    for (size_t i = 0; i < shape[dim]; ++i) {
      const size_t off = offset + i * stride;
      arr.push_back(dim + 1 == shape.size() ? number(v[off]) : build(dim + 1, off, stride * shape[dim]));
    }
    return arr;
  };
  return build(0, 0, 1);
}

}  // namespace

struct Sbc::State {
  std::string model_text;
  nlohmann::json base_data;
  services::Program simulator;
  std::unique_ptr<stan::GeneratedQuantities> sim_gq;
  std::vector<std::string> sim_flat;          // flat names of the simulator's quantities
  std::vector<VarInfo> sim_vars;
  std::vector<std::string> model_flat;        // flat names of the model's row (values, then gq)
  std::vector<std::string> ranked;            // names ranked
  std::vector<size_t> ranked_sim_index, ranked_row_index;
  // The model's parameters: name, offset and size of their values among the simulator's.
  struct Slice {
    std::string name;
    size_t offset, size;
  };
  std::vector<Slice> params;
};

namespace {
// Draws a chain keeps: Stan's rule keeps iteration m when m % thin == 0, so ceil(draws / thin).
uint64_t kept_draws(unsigned draws, unsigned thin) {
  const unsigned t = std::max(1u, thin);
  return draws / t + (draws % t ? 1 : 0);
}
}  // namespace

void check_sbc_options(unsigned chains, unsigned draws, unsigned thin, unsigned rank_draws) {
  if (rank_draws < 1) throw std::invalid_argument("--rank-draws must be >= 1");
  const uint64_t per_fit = uint64_t(chains) * kept_draws(draws, thin);
  if (per_fit < rank_draws)
    throw std::invalid_argument(fmt::format("--rank-draws {} is more than the {} posterior draws per fit", rank_draws,
                                            per_fit));
}

Sbc::Sbc(SbcSettings settings) : s_(std::move(settings)), st_(std::make_unique<State>()) {
  check_sbc_options(s_.chains, s_.draws, s_.thin, s_.rank_draws);
  st_->model_text = read_text(s_.model_path);
  st_->base_data = s_.data_path.empty() ? nlohmann::json::object() : nlohmann::json::parse(read_text(s_.data_path));
  st_->simulator = services::Program::load(s_.simulator_path, s_.data_path);
  // Its generated quantities are evaluated without any parameter values: a parameter of the
  // simulator's would be read unset, and the "true" values drawn from it would be nothing's.
  for (const auto& st : st_->simulator.loaded().program->block(stan::BlockKind::Parameters).stmts)
    if (st.kind == stan::StmtKind::Decl)
      throw std::invalid_argument(fmt::format(
          "{}: a simulator has no parameters (it declares '{}'): it draws the model's parameters and data with "
          "_rng calls in its generated quantities",
          s_.simulator_path, st.decl.at(0).name));
  st_->sim_gq = std::make_unique<stan::GeneratedQuantities>(*st_->simulator.loaded().program,
                                                           st_->simulator.loaded().data, std::vector<VarInfo>{});
  if (st_->sim_gq->empty())
    throw std::invalid_argument(s_.simulator_path + ": the simulator has no generated quantities");
  st_->sim_vars = st_->sim_gq->vars();
  st_->sim_flat = flat_names(st_->sim_vars);
  // The model with the base data: which names are parameters (ranked) and the row layout.
  const auto model = services::Program::load(s_.model_path, s_.data_path);
  services::SampleSettings ss;
  ss.chains = 1;
  services::SampleJob probe(model, ss, 1);
  st_->model_flat = probe.names();
  // Matched by flat name, a quantity of another shape (vector[1] mu for the model's real mu)
  // matched none and was left out of the test and of the data without a word.
  for (const auto& sv : st_->sim_vars)
    for (const auto& mv : probe.vars())
      if (mv.name == sv.name && mv.shape != sv.shape) {
        const auto shape = [](const std::vector<size_t>& d) {
          return d.empty() ? std::string("is a scalar") : fmt::format("has shape [{}]", fmt::join(d, ","));
        };
        throw std::invalid_argument(fmt::format("{}: '{}' {} here and {} in the model {}", s_.simulator_path,
                                                sv.name, shape(sv.shape), shape(mv.shape), s_.model_path));
      }
  // The ranks are uniform only when the data come from the model's whole prior: a parameter
  // left out (held at a value of the simulator's) made every other one's test meaningless.
  for (const auto& st : model.loaded().program->block(stan::BlockKind::Parameters).stmts) {
    if (st.kind != stan::StmtKind::Decl) continue;
    const std::string& name = st.decl.at(0).name;
    size_t offset = 0;
    for (const auto& v : st_->sim_vars) {
      if (v.name == name) {
        st_->params.push_back({name, offset, v.size()});
        break;
      }
      offset += v.size();
    }
    if (st_->params.empty() || st_->params.back().name != name)
      throw std::invalid_argument(fmt::format(
          "{}: it does not draw the model's parameter '{}' ({}): SBC needs every parameter's true value drawn from "
          "its prior, and the data drawn given them",
          s_.simulator_path, name, s_.model_path));
  }
  std::map<std::string, size_t> row_index;
  for (size_t k = 0; k < probe.num_values(); ++k) row_index[st_->model_flat[k]] = k;
  for (size_t k = 0; k < st_->sim_flat.size(); ++k)
    if (auto it = row_index.find(st_->sim_flat[k]); it != row_index.end()) {
      st_->ranked.push_back(st_->sim_flat[k]);
      st_->ranked_sim_index.push_back(k);
      st_->ranked_row_index.push_back(it->second);
    }
  if (st_->ranked.empty())
    throw std::invalid_argument(s_.simulator_path +
                                ": no generated quantity is named like a parameter of the model (nothing to rank)");
}

Sbc::~Sbc() = default;

const std::vector<std::string>& Sbc::names() const { return st_->ranked; }

SbcSimulation Sbc::run(size_t i, const std::function<void(double)>& on_progress) const {
  SbcSimulation out;
  out.simulation = i;
  out.names = st_->ranked;
  // 1. Simulate: true values and data.
  std::vector<double> sim(total_size(st_->sim_vars));
  Rng rng(s_.seed, kSimulationStream + i);
  double no_values = 0;
  // A simulation is a pure function of the seed and its number: a simulator or fit that fails
  // fails every attempt alike, so the batch is told not to retry it (InputError). Out of memory
  // and an interruption are the machine's, and stay retryable.
  const auto deterministic = [i](const auto& step) {
    try {
      step();
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const distributed::InputError&) {
      throw;
    } catch (const std::exception& e) {
      throw distributed::InputError(fmt::format("simulation {}: {}", i, e.what()));
    }
  };
  deterministic([&] { st_->sim_gq->eval(&no_values, rng, sim.data()); });
  auto data = st_->base_data;
  std::map<std::string, bool> is_param;
  for (const auto& n : st_->ranked) is_param[n.substr(0, n.find('.'))] = true;
  size_t offset = 0;
  for (const auto& v : st_->sim_vars) {
    if (!is_param.count(v.name)) data[v.name] = to_stan_json(sim.data() + offset, v.shape);
    offset += v.size();
  }
  // 2. Refit.
  std::optional<services::Program> program;
  deterministic([&] { program.emplace(services::Program::from_source(st_->model_text, s_.model_path, data.dump())); });
  services::SampleSettings ss;
  ss.chains = s_.chains;
  ss.threads = 1;
  ss.warmup = s_.warmup;
  ss.draws = s_.draws;
  ss.thin = s_.thin;
  ss.adapt_delta = s_.adapt_delta;
  ss.max_depth = s_.max_depth;
  ss.metric = s_.metric;
  out.fit_seed = splitmix64(s_.seed ^ splitmix64(i + 1)) % 4294967291ull;
  std::optional<services::SampleJob> job;
  deterministic([&] { job.emplace(*program, ss, out.fit_seed); });
  // A true value outside the model's support (sigma = -1 for real<lower=0> sigma) can never be
  // matched by a draw: every rank came out 0 and the report blamed the model. Checked with the
  // model's own transforms, given this simulation's data (bounds may depend on it).
  {
    std::vector<std::pair<std::string, std::vector<double>>> values;
    for (const auto& p : st_->params)
      values.emplace_back(p.name, std::vector<double>(sim.begin() + p.offset, sim.begin() + p.offset + p.size));
    std::vector<double> x(job->density().dim());
    std::string why;
    if (!job->density().unconstrain(values, x.data(), &why))
      throw distributed::InputError(fmt::format(
          "simulation {}: the simulator drew a parameter outside the model's support ({}): {}; it must draw each "
          "parameter from the model's prior",
          i, s_.model_path, why));
    // A transformed parameter the simulator also gives (theta = mu + tau * eta) is ranked like a
    // parameter, which means something only when the simulator's value is the model's at the
    // drawn parameters. One computed otherwise (another formula, a value outside the model's
    // declared bounds) ranked as the model's miscalibration; refused, naming the element.
    std::vector<double> model_row(job->num_values());
    deterministic([&] { job->density().constrain(x.data(), model_row.data()); });
    for (size_t k = 0; k < st_->ranked.size(); ++k) {
      const std::string& name = st_->ranked[k];
      const std::string base = name.substr(0, name.find('.'));
      if (std::any_of(st_->params.begin(), st_->params.end(), [&](const auto& p) { return p.name == base; }))
        continue;
      const double a = sim[st_->ranked_sim_index[k]], b = model_row[st_->ranked_row_index[k]];
      // Rounding apart: the model may sum in another order, and x went through the transforms.
      const bool same = (std::isnan(a) && std::isnan(b)) || a == b ||
                        std::abs(a - b) <= 1e-8 * std::max({1.0, std::abs(a), std::abs(b)});
      if (!same)
        throw distributed::InputError(fmt::format(
            "simulation {}: the simulator's '{}' is {:.6g}, but the model's transformed parameter '{}' at the drawn "
            "parameters is {:.6g} ({}): ranking it would test the simulator's formula, not the fit; compute it as "
            "the model does, or give it another name (then it is not ranked)",
            i, name, a, name, b, s_.model_path));
    }
  }
  const size_t kept = kept_draws(s_.draws, s_.thin);
  const size_t nr = st_->ranked.size();
  std::vector<std::vector<double>> draws(s_.chains);  // per chain: [draw][ranked]
  for (auto& d : draws) d.reserve(kept * nr);
  services::SampleObserver obs;
  const double total_iterations = double(s_.chains) * (s_.warmup + s_.draws);
  std::vector<unsigned> done(s_.chains, 0);
  obs.on_iteration = [&](unsigned chain, unsigned n) {
    done[chain] = n;
    if (on_progress && s_.chains == 1) on_progress(double(n * s_.thin) / total_iterations);
  };
  obs.on_draw = [&](const services::SampleDraw& d) {
    if (d.warmup) return;
    for (size_t k = 0; k < nr; ++k) draws[d.chain].push_back(d.row[st_->ranked_row_index[k]]);
  };
  const auto run = job->run(obs);
  for (const auto& c : run.result.chains) {
    if (!c.error.empty()) throw distributed::InputError(fmt::format("simulation {}: chain {}: {}", i, c.chain + 1, c.error));
    out.divergences += c.divergences;
  }
  if (run.result.cancelled) throw std::runtime_error("cancelled");
  // 3. Rank each true value among L draws spread evenly over the chains' draws (thinning
  // towards independent draws, as SBC asks).
  std::vector<const double*> all;
  for (const auto& d : draws)
    for (size_t j = 0; j + nr <= d.size(); j += nr) all.push_back(d.data() + j);
  const size_t n = all.size(), L = s_.rank_draws;
  if (n < L) throw distributed::InputError(fmt::format("simulation {}: {} draws, fewer than {}", i, n, L));
  out.ranks.assign(nr, 0);
  for (size_t l = 0; l < L; ++l) {
    const double* row = all[l * n / L];
    for (size_t k = 0; k < nr; ++k)
      if (row[k] < sim[st_->ranked_sim_index[k]]) ++out.ranks[k];
  }
  return out;
}

std::string SbcSimulation::to_json() const {
  nlohmann::json j;
  j["simulation"] = simulation;
  j["fit_seed"] = fit_seed;
  j["names"] = names;
  j["ranks"] = ranks;
  j["divergences"] = divergences;
  return j.dump();
}

SbcSimulation SbcSimulation::from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  SbcSimulation s;
  s.simulation = j.at("simulation").get<size_t>();
  s.fit_seed = j.at("fit_seed").get<uint64_t>();
  s.names = j.at("names").get<std::vector<std::string>>();
  s.ranks = j.at("ranks").get<std::vector<unsigned>>();
  s.divergences = j.at("divergences").get<uint64_t>();
  return s;
}

UniformityTest rank_uniformity(const std::vector<unsigned>& ranks, unsigned max_rank, unsigned bins) {
  if (bins < 2 || (max_rank + 1) % bins != 0)
    throw std::invalid_argument(fmt::format("--bins {} must be >= 2 and divide the {} possible ranks", bins,
                                            max_rank + 1));
  UniformityTest t;
  t.counts.assign(bins, 0);
  const unsigned width = (max_rank + 1) / bins;
  for (unsigned r : ranks) ++t.counts[std::min(r, max_rank) / width];
  const double expected = double(ranks.size()) / bins;
  for (unsigned c : t.counts) t.statistic += (c - expected) * (c - expected) / expected;
  t.df = bins - 1;
  if (ranks.empty()) {
    t.statistic = t.p_value = std::numeric_limits<double>::quiet_NaN();
    return t;
  }
  t.p_value = boost::math::gamma_q(0.5 * t.df, 0.5 * t.statistic);
  return t;
}

int report_sbc(const std::filesystem::path& dir, const std::vector<std::string>& names,
               const std::vector<std::optional<SbcSimulation>>& simulations, unsigned rank_draws, unsigned bins,
               uint64_t seed, std::ostream& out, std::ostream& err) {
  using nlohmann::json;
  std::vector<std::vector<unsigned>> ranks(names.size());
  std::ostringstream csv;
  csv << "simulation,fit_seed,divergences";
  for (const auto& nm : names) csv << "," << nm;
  csv << "\n";
  uint64_t divergent_fits = 0;
  size_t ok = 0;
  for (size_t i = 0; i < simulations.size(); ++i) {
    if (!simulations[i]) continue;
    const SbcSimulation& s = *simulations[i];
    ++ok;
    csv << i << "," << s.fit_seed << "," << s.divergences;
    divergent_fits += s.divergences > 0;
    for (size_t k = 0; k < names.size(); ++k) {
      csv << "," << s.ranks[k];
      ranks[k].push_back(s.ranks[k]);
    }
    csv << "\n";
  }
  write_atomically(dir / "ranks.csv", csv.str());
  json summary = {{"simulations", ok}, {"rank_draws", rank_draws}, {"bins", bins}, {"seed", seed},
                  {"fits_with_divergences", divergent_fits}, {"quantities", json::array()}};
  out << fmt::format("SBC: {} simulations, ranks among {} posterior draws, chi-square over {} bins\n", ok,
                     rank_draws, bins);
  out << fmt::format("{:<20} {:>10} {:>4} {:>10}  counts\n", "quantity", "chi2", "df", "p-value");
  // No completed simulation: no test (the table said chi2 -nan and p-value 1.0000 for every
  // quantity, and "smallest p-value 1.0000", a clean bill from nothing). null in the JSON.
  double min_p = 1;
  for (size_t k = 0; k < names.size(); ++k) {
    const auto t = rank_uniformity(ranks[k], rank_draws, bins);
    std::string counts;
    for (unsigned c : t.counts) counts += fmt::format("{} ", c);
    json q = {{"name", names[k]}, {"chi2", nullptr}, {"df", t.df}, {"p_value", nullptr}, {"counts", t.counts}};
    if (ok == 0) {
      out << fmt::format("{:<20} {:>10} {:>4} {:>10}  {}\n", names[k], "-", t.df, "-", counts);
    } else {
      min_p = std::min(min_p, t.p_value);
      q["chi2"] = t.statistic;
      q["p_value"] = t.p_value;
      out << fmt::format("{:<20} {:>10.2f} {:>4} {:>10.4f}  {}\n", names[k], t.statistic, t.df, t.p_value, counts);
    }
    summary["quantities"].push_back(q);
  }
  if (ok == 0) {
    summary["min_p_value"] = nullptr;
    write_atomically(dir / "sbc_summary.json", summary.dump(1) + "\n");
    err << "exmc batch: error: no simulation completed: there are no ranks to test\n";
    return 1;
  }
  summary["min_p_value"] = min_p;
  const size_t failed = simulations.size() - ok;
  summary["failed_simulations"] = failed;
  write_atomically(dir / "sbc_summary.json", summary.dump(1) + "\n");
  out << fmt::format("smallest p-value {:.4f} over {} quantities (Bonferroni 0.05 threshold {:.4f}); {} fits had "
                     "divergences\n",
                     min_p, names.size(), 0.05 / double(names.size()), divergent_fits);
  if (double(ok) < 5.0 * bins)
    err << fmt::format("exmc batch: warning: {} simulation{} over {} bins ({:.1f} expected per bin): the chi-square "
                       "p-values are unreliable below 5 per bin (--simulations {} or more, or fewer --bins)\n",
                       ok, ok == 1 ? "" : "s", bins, double(ok) / bins, 5 * bins);
  // The table is of the simulations that completed. When which ones fail depends on the values
  // drawn (a simulator that rejects some draws, a fit that fails for some data sets), those are
  // draws from another prior, and a correct fit's ranks are not uniform: the p-values tested a
  // selection the table did not mention.
  if (failed > 0)
    err << fmt::format("exmc batch: warning: {} of {} simulations failed and are left out of the ranks: if their "
                       "failing depends on the values drawn, the others are not draws from the prior and the "
                       "p-values test that selection, not the fit (see status.tsv; fix the failures before reading "
                       "the table)\n",
                       failed, simulations.size());
  return failed == 0 ? 0 : 1;
}

}  // namespace exmc::cli
