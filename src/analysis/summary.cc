// summarise_draws-style rows and sampler-stat summaries, printed as a table, CSV or JSON.
#include "exmc/analysis/summary.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "exmc/analysis/convergence.hpp"

namespace exmc::analysis {
namespace {

std::string full(double v) {
  if (std::isnan(v)) return "NA";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  return fmt::format("{:.17g}", v);
}
std::string json_num(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{:.17g}", v);
}
std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) { o += fmt::format("\\u{:04x}", c); continue; }
    o += c;
  }
  return o + "\"";
}
std::string shown(double v, int decimals) {
  if (std::isnan(v)) return "NA";
  return fmt::format("{:.{}f}", v, decimals);
}
// Three significant digits in fixed notation, as posterior's printed tibble shows estimates;
// in scientific notation beyond 1e7 or below 1e-8 (a run-away draw at 7e86 would otherwise fill
// a line with 87 digits, and a tiny one would show as 0.00000000).
std::string sig3(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NA" : (v > 0 ? "Inf" : "-Inf");
  if (v == 0) return "0";
  const int mag = static_cast<int>(std::floor(std::log10(std::abs(v))));
  if (mag >= 7 || mag < -8) return fmt::format("{:.3g}", v);
  return shown(v, std::clamp(2 - mag, 0, 8));
}

const char* kColumns[] = {"variable", "mean", "median", "sd", "mad", "q5", "q95", "rhat",
                          "ess_bulk", "ess_tail", "mcse_mean", "mcse_median", "mcse_sd",
                          "mcse_q5", "mcse_q95"};

std::vector<double> row_values(const SummaryRow& r) {
  return {r.mean, r.median, r.sd, r.mad, r.q5, r.q95, r.rhat, r.ess_bulk, r.ess_tail,
          r.mcse_mean, r.mcse_median, r.mcse_sd, r.mcse_q5, r.mcse_q95};
}

std::string render_table(const std::vector<std::vector<std::string>>& cells) {
  std::vector<size_t> w(cells[0].size(), 0);
  for (const auto& row : cells)
    for (size_t j = 0; j < row.size(); ++j) w[j] = std::max(w[j], row[j].size());
  std::string out;
  for (const auto& row : cells) {
    for (size_t j = 0; j < row.size(); ++j) {
      if (j == 0) out += fmt::format("{:<{}}", row[j], w[j]);
      else out += fmt::format("  {:>{}}", row[j], w[j]);
    }
    out += '\n';
  }
  return out;
}

}  // namespace

SummaryRow summarise_variable(const Draws& d, size_t v) {
  const ChainView x{d.variable(v), d.num_draws, d.num_chains};
  const size_t n = x.size();
  SummaryRow r;
  r.variable = d.names[v];
  r.mean = mean(x.x, n);
  r.sd = sd(x.x, n);
  // The row's order statistics from one sort (each of median, mad, quantile and ess_quantile
  // copied and partially sorted the draws again): median, 5% and 95% quantiles and the three
  // quantile MCSEs, the same numbers bit for bit. A NaN draw makes them NaN, as those functions do.
  std::vector<double> sorted(x.x, x.x + n);
  const bool nan = std::any_of(sorted.begin(), sorted.end(), [](double v) { return std::isnan(v); });
  if (!nan) std::sort(sorted.begin(), sorted.end());
  const double q50 = nan ? std::nan("") : detail::quantile_sorted(sorted, 0.5);
  r.median = nan ? std::nan("") : detail::median_sorted(sorted);
  r.q5 = nan ? std::nan("") : detail::quantile_sorted(sorted, 0.05);
  r.q95 = nan ? std::nan("") : detail::quantile_sorted(sorted, 0.95);
  r.mad = detail::mad_about(x.x, n, r.median);
  // The shared work of the row's diagnostics done once: the rank-normalised split chains of
  // R-hat and bulk ESS, the 5% and 95% quantiles' ESS (ess_tail and their MCSEs).
  detail::rhat_and_ess_bulk(x, &r.rhat, &r.ess_bulk, nan ? nullptr : &r.median);
  const double ess_q5 = detail::ess_below(x, r.q5), ess_q95 = detail::ess_below(x, r.q95);
  r.ess_tail = std::isnan(ess_q5) || std::isnan(ess_q95) ? std::nan("") : std::min(ess_q5, ess_q95);
  r.mcse_mean = mcse_mean(x);
  r.mcse_sd = mcse_sd(x);
  r.mcse_median = detail::mcse_quantile_sorted(sorted, 0.5, detail::ess_below(x, q50));
  r.mcse_q5 = detail::mcse_quantile_sorted(sorted, 0.05, ess_q5);
  r.mcse_q95 = detail::mcse_quantile_sorted(sorted, 0.95, ess_q95);
  return r;
}

Summary summarise(const Draws& d) {
  if (d.values.size() != d.num_variables() * d.num_chains * d.num_draws)
    throw std::invalid_argument(fmt::format(
        "draws: {} values, expected {} variables x {} chains x {} draws", d.values.size(),
        d.num_variables(), d.num_chains, d.num_draws));
  // Split R-hat divides by the draws per half-chain: without draws that is an integer division
  // by zero (SIGFPE, a Python session's sudden death after sample(draws=0).summary()).
  if (d.num_draws == 0 || d.num_chains == 0)
    throw std::invalid_argument(fmt::format("no draws to summarise ({} chains x {} draws)", d.num_chains,
                                            d.num_draws));
  // Each row is a pure function of its variable's draws, so rows are dealt to threads in a fixed
  // interleaving (at least 64 rows a thread) and the summary is the same for any thread count.
  // A model with thousands of quantities (bym2's 3,845 parameters and its generated quantities:
  // 11,530 columns) took 24 s on one core, twice its sampling.
  const size_t nv = d.num_variables();
  Summary s;
  s.rows.resize(nv);
  const size_t per_thread = 64;
  const unsigned threads = unsigned(std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()),
                                                     (nv + per_thread - 1) / per_thread));
  std::vector<std::exception_ptr> failures(threads);
  auto work = [&](unsigned t) {
    try {
      for (size_t v = t; v < nv; v += threads) s.rows[v] = summarise_variable(d, v);
    } catch (...) {
      failures[t] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (const auto& f : failures)
    if (f) std::rethrow_exception(f);
  return s;
}

Format parse_format(const std::string& s) {
  if (s == "table") return Format::Table;
  if (s == "csv") return Format::Csv;
  if (s == "json") return Format::Json;
  throw std::invalid_argument("unknown format '" + s + "': expected table, csv or json");
}

std::string format_summary(const Summary& s, Format f) {
  std::string out;
  if (f == Format::Csv) {
    for (size_t j = 0; j < std::size(kColumns); ++j) out += (j ? "," : "") + std::string(kColumns[j]);
    out += '\n';
    for (const auto& r : s.rows) {
      out += r.variable;  // CmdStan names (theta.1, theta[1]) carry no commas
      for (double v : row_values(r)) out += "," + full(v);
      out += '\n';
    }
    return out;
  }
  if (f == Format::Json) {
    out = "[\n";
    for (size_t i = 0; i < s.rows.size(); ++i) {
      const auto vals = row_values(s.rows[i]);
      out += "  {\"variable\": " + json_str(s.rows[i].variable);
      for (size_t j = 0; j < vals.size(); ++j)
        out += fmt::format(", \"{}\": {}", kColumns[j + 1], json_num(vals[j]));
      out += i + 1 < s.rows.size() ? "},\n" : "}\n";
    }
    return out + "]\n";
  }
  std::vector<std::vector<std::string>> cells;
  cells.emplace_back(std::begin(kColumns), std::end(kColumns));
  for (const auto& r : s.rows) {
    std::vector<std::string> row{r.variable};
    const auto vals = row_values(r);
    for (size_t j = 0; j < vals.size(); ++j) {
      const std::string col = kColumns[j + 1];
      if (col == "ess_bulk" || col == "ess_tail") row.push_back(shown(std::round(vals[j]), 0));
      else if (col == "rhat") row.push_back(shown(vals[j], 3));
      else row.push_back(sig3(vals[j]));
    }
    cells.push_back(std::move(row));
  }
  return render_table(cells);
}

std::string format_sampler_stats(const SamplerStats& s, Format f) {
  const char* cols[] = {"chain", "draws", "divergent", "treedepth_hits", "ebfmi",
                        "mean_accept_stat", "step_size", "gradient_evals"};
  std::string out;
  if (f == Format::Json) {
    out = fmt::format("{{\"max_depth\": {}, \"chains\": [\n", s.max_depth);
    for (size_t c = 0; c < s.chains.size(); ++c) {
      const auto& ch = s.chains[c];
      out += fmt::format(
          "  {{\"chain\": {}, \"draws\": {}, \"divergent\": {}, \"treedepth_hits\": {}, "
          "\"ebfmi\": {}, \"mean_accept_stat\": {}, \"step_size\": {}, \"gradient_evals\": {}}}{}\n",
          c + 1, ch.draws, ch.divergent, ch.treedepth_hits, json_num(ch.ebfmi),
          json_num(ch.mean_accept_stat), json_num(ch.step_size), json_num(ch.gradient_evals),
          c + 1 < s.chains.size() ? "," : "");
    }
    return out + "]}\n";
  }
  std::vector<std::vector<std::string>> cells;
  cells.emplace_back(std::begin(cols), std::end(cols));
  for (size_t c = 0; c < s.chains.size(); ++c) {
    const auto& ch = s.chains[c];
    if (f == Format::Csv) {
      cells.push_back({std::to_string(c + 1), std::to_string(ch.draws),
                       std::to_string(ch.divergent), std::to_string(ch.treedepth_hits),
                       full(ch.ebfmi), full(ch.mean_accept_stat), full(ch.step_size),
                       full(ch.gradient_evals)});
    } else {
      cells.push_back({std::to_string(c + 1), std::to_string(ch.draws),
                       std::to_string(ch.divergent), std::to_string(ch.treedepth_hits),
                       shown(ch.ebfmi, 3), shown(ch.mean_accept_stat, 3),
                       std::isnan(ch.step_size) ? std::string("NA") : fmt::format("{:.4g}", ch.step_size),
                       shown(ch.gradient_evals, 0)});
    }
  }
  if (f == Format::Csv) {
    for (const auto& row : cells) {
      for (size_t j = 0; j < row.size(); ++j) out += (j ? "," : "") + row[j];
      out += '\n';
    }
    return out;
  }
  return fmt::format("Sampler statistics (max tree depth {}):\n", s.max_depth) +
         render_table(cells);
}

}  // namespace exmc::analysis
