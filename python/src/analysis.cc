// The analysis layer on draws held in numpy arrays: the same summarise / diagnose / PSIS-LOO
// code `exmc summary`, `exmc diagnose` and `exmc loo` run on CSV files, so the numbers agree.
#include <cmath>
#include <stdexcept>

#include "common.hpp"
#include "exmc/analysis/convergence.hpp"
#include "exmc/analysis/diagnose.hpp"
#include "exmc/analysis/psis.hpp"
#include "exmc/analysis/summary.hpp"

namespace exmc::python {
namespace {

using Array = py::array_t<double, py::array::forcecast>;

long find(const std::vector<std::string>& names, const std::string& name) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<long>(i);
  return -1;
}

// Draws as `exmc summary` builds them from CSV files: lp__ first (when the stats have it and it
// is not the fixed_param sampler's 0), then every value column. stats: (chain, draw, stat);
// values: (chain, draw, column); any strides.
analysis::Draws make_draws(const Array& stats, const std::vector<std::string>& stat_names, const Array& values,
                           const std::vector<std::string>& names, bool fixed_param) {
  if (values.ndim() != 3 || stats.ndim() != 3) throw std::invalid_argument("expected (chain, draw, column) arrays");
  const auto v = values.unchecked<3>();
  const auto s = stats.unchecked<3>();
  const size_t chains = v.shape(0), draws = v.shape(1);
  if (static_cast<size_t>(v.shape(2)) != names.size()) throw std::invalid_argument("values and names differ in length");
  const long lp = fixed_param ? -1 : find(stat_names, "lp__");
  std::vector<std::string> all;
  if (lp >= 0) all.push_back("lp__");
  all.insert(all.end(), names.begin(), names.end());
  analysis::Draws d(chains, draws, all);
  const size_t off = lp >= 0 ? 1 : 0;
  for (size_t c = 0; c < chains; ++c)
    for (size_t i = 0; i < draws; ++i) {
      if (lp >= 0) d.at(0, c, i) = s(c, i, lp);
      for (size_t k = 0; k < names.size(); ++k) d.at(k + off, c, i) = v(c, i, k);
    }
  return d;
}

// Per-chain sampler behaviour as analysis::sampler_stats_from_cmdstan computes it from files.
analysis::SamplerStats make_stats(const Array& stats, const std::vector<std::string>& stat_names, int max_depth,
                                  bool fixed_param) {
  const auto s = stats.unchecked<3>();
  analysis::SamplerStats out;
  out.max_depth = max_depth;
  out.fixed_param = fixed_param;
  const long div = find(stat_names, "divergent__"), td = find(stat_names, "treedepth__"),
             en = find(stat_names, "energy__"), acc = find(stat_names, "accept_stat__"),
             nl = find(stat_names, "n_leapfrog__"), eps = find(stat_names, "stepsize__");
  out.has_divergent = div >= 0;
  out.has_treedepth = td >= 0;
  out.has_energy = en >= 0;
  const size_t n = s.shape(1);
  for (py::ssize_t c = 0; c < s.shape(0); ++c) {
    analysis::ChainStats cs;
    cs.draws = n;
    std::vector<double> energy, accept;
    for (size_t r = 0; r < n; ++r) {
      if (div >= 0 && s(c, r, div) != 0) ++cs.divergent;
      if (td >= 0 && s(c, r, td) >= max_depth) ++cs.treedepth_hits;
      if (en >= 0) energy.push_back(s(c, r, en));
      if (acc >= 0) accept.push_back(s(c, r, acc));
      if (nl >= 0) cs.gradient_evals += s(c, r, nl);
    }
    if (en >= 0 && n >= 2) {
      double num = 0;
      for (size_t r = 1; r < n; ++r) num += (energy[r] - energy[r - 1]) * (energy[r] - energy[r - 1]);
      const double sdv = analysis::sd(energy.data(), n);
      cs.ebfmi = (num / static_cast<double>(n)) / (sdv * sdv);
    } else {
      cs.ebfmi = std::nan("");
    }
    cs.mean_accept_stat = acc >= 0 && n > 0 ? analysis::mean(accept.data(), n) : std::nan("");
    // After warmup the step size is fixed: every draw's stepsize__ is the adapted one.
    cs.step_size = eps >= 0 && n > 0 ? s(c, 0, eps) : std::nan("");
    out.chains.push_back(cs);
  }
  return out;
}

py::dict summarise(const Array& stats, const std::vector<std::string>& stat_names, const Array& values,
                   const std::vector<std::string>& names, bool fixed_param) {
  const auto draws = make_draws(stats, stat_names, values, names, fixed_param);
  analysis::Summary sum;
  {
    py::gil_scoped_release release;
    sum = analysis::summarise(draws);
  }
  const size_t n = sum.rows.size();
  std::vector<std::string> variable(n);
  const char* cols[] = {"mean", "median", "sd", "mad", "q5", "q95", "rhat", "ess_bulk", "ess_tail",
                        "mcse_mean", "mcse_median", "mcse_sd", "mcse_q5", "mcse_q95"};
  double analysis::SummaryRow::*members[] = {
      &analysis::SummaryRow::mean, &analysis::SummaryRow::median, &analysis::SummaryRow::sd,
      &analysis::SummaryRow::mad, &analysis::SummaryRow::q5, &analysis::SummaryRow::q95,
      &analysis::SummaryRow::rhat, &analysis::SummaryRow::ess_bulk, &analysis::SummaryRow::ess_tail,
      &analysis::SummaryRow::mcse_mean, &analysis::SummaryRow::mcse_median, &analysis::SummaryRow::mcse_sd,
      &analysis::SummaryRow::mcse_q5, &analysis::SummaryRow::mcse_q95};
  py::dict out;
  for (size_t i = 0; i < n; ++i) variable[i] = sum.rows[i].variable;
  out["variable"] = variable;
  for (size_t k = 0; k < std::size(cols); ++k) {
    py::array_t<double> col(static_cast<py::ssize_t>(n));
    auto p = col.mutable_unchecked<1>();
    for (size_t i = 0; i < n; ++i) p(i) = sum.rows[i].*members[k];
    out[cols[k]] = col;
  }
  return out;
}

std::string summary_text(const Array& stats, const std::vector<std::string>& stat_names, const Array& values,
                         const std::vector<std::string>& names, const std::string& format, int max_depth,
                         bool fixed_param) {
  const auto draws = make_draws(stats, stat_names, values, names, fixed_param);
  const auto f = analysis::parse_format(format);
  std::string out = analysis::format_summary(analysis::summarise(draws), f);
  const auto ss = make_stats(stats, stat_names, max_depth, fixed_param);
  if (f == analysis::Format::Table && ss.has_divergent) out += "\n" + analysis::format_sampler_stats(ss, f);
  return out;
}

std::string diagnose(const Array& stats, const std::vector<std::string>& stat_names, const Array& values,
                     const std::vector<std::string>& names, int max_depth, bool fixed_param) {
  const auto draws = make_draws(stats, stat_names, values, names, fixed_param);
  const auto ss = make_stats(stats, stat_names, max_depth, fixed_param);
  py::gil_scoped_release release;
  return analysis::diagnose(analysis::summarise(draws), ss, draws.num_chains).report;
}

// log_lik: (chain, draw, observation).
py::dict loo(const Array& log_lik) {
  if (log_lik.ndim() != 3) throw std::invalid_argument("log_lik: expected (chain, draw, observation)");
  const auto a = log_lik.unchecked<3>();
  const size_t chains = a.shape(0), draws = a.shape(1), obs = a.shape(2);
  analysis::LogLik ll;
  ll.num_draws = chains * draws;
  ll.num_obs = obs;
  ll.values.resize(ll.num_draws * obs);
  for (size_t j = 0; j < obs; ++j)
    for (size_t c = 0; c < chains; ++c)
      for (size_t i = 0; i < draws; ++i) ll.values[j * ll.num_draws + c * draws + i] = a(c, i, j);
  analysis::LooResult r;
  {
    py::gil_scoped_release release;
    r = analysis::loo(ll, analysis::relative_eff(ll, chains));
  }
  py::dict out;
  out["elpd_loo"] = r.elpd.estimate;
  out["se_elpd_loo"] = r.elpd.se;
  out["p_loo"] = r.p.estimate;
  out["se_p_loo"] = r.p.se;
  out["looic"] = r.ic.estimate;
  out["se_looic"] = r.ic.se;
  auto arr = [](const std::vector<double>& v) { return py::array_t<double>(v.size(), v.data()); };
  out["pointwise_elpd_loo"] = arr(r.elpd_loo);
  out["pointwise_mcse_elpd_loo"] = arr(r.mcse_elpd_loo);
  out["pointwise_p_loo"] = arr(r.p_loo);
  out["pointwise_looic"] = arr(r.looic);
  out["pareto_k"] = arr(r.pareto_k);
  out["n_eff"] = arr(r.n_eff);
  out["r_eff"] = arr(r.r_eff);
  out["text"] = analysis::format_loo(r, analysis::Format::Table);
  return out;
}

// loo::loo_compare over loo()'s dicts (their totals and pointwise elpd), best model first.
py::list loo_compare(const std::vector<std::string>& names, const std::vector<py::dict>& loos) {
  std::vector<analysis::LooResult> models;
  for (const auto& d : loos) {
    analysis::LooResult r;
    r.elpd = {d["elpd_loo"].cast<double>(), d["se_elpd_loo"].cast<double>()};
    r.p = {d["p_loo"].cast<double>(), d["se_p_loo"].cast<double>()};
    r.ic = {d["looic"].cast<double>(), d["se_looic"].cast<double>()};
    r.elpd_loo = d["pointwise_elpd_loo"].cast<std::vector<double>>();
    models.push_back(std::move(r));
  }
  py::list out;
  for (const auto& row : analysis::loo_compare(names, models)) {
    py::dict d;
    d["model"] = row.model;
    d["elpd_diff"] = row.elpd_diff;
    d["se_diff"] = row.se_diff;
    d["elpd_loo"] = row.elpd_loo;
    d["se_elpd_loo"] = row.se_elpd_loo;
    d["p_loo"] = row.p_loo;
    d["looic"] = row.looic;
    out.append(d);
  }
  return out;
}

}  // namespace

void bind_analysis(py::module_& m) {
  m.def("summarise", &summarise, py::arg("stats"), py::arg("stat_names"), py::arg("values"), py::arg("names"),
        py::arg("fixed_param") = false,
        "exmc summary's columns (lp__ first when the stats have it, then each column)");
  m.def("summary_text", &summary_text, py::arg("stats"), py::arg("stat_names"), py::arg("values"),
        py::arg("names"), py::arg("format") = "table", py::arg("max_depth") = 10, py::arg("fixed_param") = false);
  m.def("diagnose", &diagnose, py::arg("stats"), py::arg("stat_names"), py::arg("values"), py::arg("names"),
        py::arg("max_depth") = 10, py::arg("fixed_param") = false);
  m.def("loo", &loo, py::arg("log_lik"));
  m.def("loo_compare", &loo_compare, py::arg("names"), py::arg("loos"),
        "loo::loo_compare: rows best first (elpd_diff, se_diff, elpd_loo, se_elpd_loo, p_loo, looic)");
}

}  // namespace exmc::python
