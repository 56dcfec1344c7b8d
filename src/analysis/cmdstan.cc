// CmdStan CSV chains -> Draws (parameters + lp__) and per-chain sampler statistics.
#include "exmc/analysis/cmdstan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <utility>

#include <sys/stat.h>

#include <fmt/format.h>

#include "exmc/analysis/convergence.hpp"

namespace exmc::analysis {
namespace {

bool fixed_param_run(const io::CmdStanCsv& c) {
  const auto it = c.config.find("algorithm");
  return it != c.config.end() && it->second == "fixed_param";
}

// CmdStan writes lp__ = 0 throughout for these: a row of zeros, not a quantity.
bool lp_is_placeholder(const io::CmdStanCsv& c) {
  const auto method = c.config.find("method");
  return fixed_param_run(c) || (method != c.config.end() && method->second == "variational");
}

bool is_sampler_column(const std::string& name, bool lp_placeholder) {
  return name.size() > 2 && name.compare(name.size() - 2, 2, "__") == 0 && (name != "lp__" || lp_placeholder);
}

void check_same_shape(const std::vector<io::CmdStanCsv>& chains) {
  if (chains.empty()) throw std::runtime_error("no CmdStan CSV files given");
  const auto& first = chains[0];
  for (const auto& c : chains) {
    if (c.columns != first.columns)
      throw std::runtime_error(c.path + ": columns differ from those of " + first.path);
    if (c.num_rows != first.num_rows)
      throw std::runtime_error(c.path + ": " + std::to_string(c.num_rows) + " draws, but " +
                               first.path + " has " + std::to_string(first.num_rows));
  }
  if (first.num_rows == 0) throw std::runtime_error(no_draws_message(first));
}

// The draws a sampler's header promises: ceil(num_samples / thin), as CmdStan and exmc write them.
// Returns 0 when the header does not say (not a sample run, or no num_samples line).
size_t promised_draws(const io::CmdStanCsv& c) {
  const auto method = c.config.find("method");
  const auto n = c.config.find("num_samples");
  if (method == c.config.end() || method->second != "sample" || n == c.config.end()) return 0;
  const auto thin_it = c.config.find("thin");
  char* end = nullptr;
  const unsigned long long samples = std::strtoull(n->second.c_str(), &end, 10);
  if (n->second.empty() || *end != '\0') return 0;
  unsigned long long thin = 1;
  if (thin_it != c.config.end()) {
    thin = std::strtoull(thin_it->second.c_str(), &end, 10);
    if (thin_it->second.empty() || *end != '\0' || thin == 0) return 0;
  }
  return size_t((samples + thin - 1) / thin);
}

}  // namespace

// One file named twice ("a.csv a.csv", or "a.csv ./a.csv") would be read as two chains that agree
// perfectly: R-hat near 1 and the effective sample size doubled, for a chain that mixed badly.
void check_distinct_files(const std::vector<std::string>& paths) {
  // One stat per file and a map of (device, inode), not a comparison of every pair: a summary of
  // thousands of files stays linear.
  std::map<std::pair<dev_t, ino_t>, size_t> seen_files;
  std::map<std::string, size_t> seen_names;  // files that cannot be stat'ed: by name
  for (size_t j = 0; j < paths.size(); ++j) {
    struct stat st {};
    size_t i = j;
    if (::stat(paths[j].c_str(), &st) == 0) i = seen_files.emplace(std::make_pair(st.st_dev, st.st_ino), j).first->second;
    else i = seen_names.emplace(paths[j], j).first->second;
    if (i == j) continue;
    throw std::runtime_error(fmt::format(
        "{} (files {} and {}); each file is one chain, and a chain read twice makes R-hat and the "
        "effective sample size look better than they are",
        paths[i] == paths[j] ? paths[i] + " is given twice" : paths[i] + " and " + paths[j] + " are one file", i + 1,
        j + 1));
  }
}

std::string no_draws_message(const io::CmdStanCsv& c) {
  if (c.num_warmup_rows > 0)
    return fmt::format("{}: no draws after warmup (its {} warmup rows are not draws of the posterior)", c.path,
                       c.num_warmup_rows);
  // variational --draws 0: the approximation's mean (CmdStan's first row), which is not a draw.
  if (!c.approximation_mean.empty())
    return c.path + ": no draws: only the variational approximation's mean (the first row), which is not a draw";
  return c.path + ": no draws";
}

namespace {

// truncation_warnings' line for one file, appended to out.
void add_truncation_warning(const io::CmdStanCsv& c, std::vector<std::string>& out) {
  const size_t promised = promised_draws(c);
  if (c.column("chain__") >= 0 || promised == 0 || c.num_rows >= promised) return;
  const auto thin = c.config.find("thin");
  out.push_back(fmt::format("{}: {} draws, but its header says num_samples = {}{}, so {} were to come: the file "
                            "looks cut short (a run still writing it, or a copy stopped part-way); only the "
                            "{} draws it has are used",
                            c.path, c.num_rows, c.config.at("num_samples"),
                            thin != c.config.end() && thin->second != "1" ? ", thin = " + thin->second : "",
                            promised, c.num_rows));
}

}  // namespace

std::vector<std::string> truncation_warnings(const std::vector<io::CmdStanCsv>& files) {
  std::vector<std::string> out;
  for (const auto& c : files) add_truncation_warning(c, out);
  return out;
}

Draws draws_from_cmdstan(const std::vector<io::CmdStanCsv>& chains) {
  check_same_shape(chains);
  const auto& first = chains[0];
  std::vector<size_t> cols;
  std::vector<std::string> names;
  const bool no_lp = lp_is_placeholder(first);
  for (size_t i = 0; i < first.columns.size(); ++i) {
    if (is_sampler_column(first.columns[i], no_lp)) continue;
    cols.push_back(i);
    names.push_back(first.columns[i]);
  }
  // A file of sampler columns only summarised to an empty table and diagnose found "R-hat values
  // satisfactory for all parameters" of none, exit 0.
  if (names.empty())
    throw std::runtime_error(first.path + ": no quantities: every column is one of the sampler's (a name ending in "
                                          "__), so there are no parameters or generated quantities to summarise");
  Draws d(chains.size(), first.num_rows, names);
  for (size_t v = 0; v < cols.size(); ++v)
    for (size_t c = 0; c < chains.size(); ++c)
      for (size_t r = 0; r < first.num_rows; ++r) d.at(v, c, r) = chains[c].at(r, cols[v]);
  return d;
}

SamplerStats sampler_stats_from_cmdstan(const std::vector<io::CmdStanCsv>& chains) {
  check_same_shape(chains);
  SamplerStats s;
  const auto& first = chains[0];
  auto it = first.config.find("max_depth");
  if (it != first.config.end()) {
    // std::stoi's own message is the one word "stoi".
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 1 || v > 1000)
      throw std::runtime_error(first.path + ": max_depth = '" + it->second + "' in the header is not a tree depth");
    s.max_depth = static_cast<int>(v);
  }
  const long div = first.column("divergent__"), td = first.column("treedepth__"),
             en = first.column("energy__"), acc = first.column("accept_stat__"),
             nl = first.column("n_leapfrog__"), eps = first.column("stepsize__"),
             lp = first.column("lp__");
  s.has_divergent = div >= 0;
  s.has_treedepth = td >= 0;
  s.has_energy = en >= 0;
  s.fixed_param = fixed_param_run(first);
  for (const auto& c : chains) {
    ChainStats cs;
    const size_t n = c.num_rows;
    cs.draws = n;
    std::vector<double> energy, accept;
    for (size_t r = 0; r < n; ++r) {
      // The sampler writes 0/1 and whole depths: a NaN there (a hand-edited or damaged file) was
      // counted as a divergence (NaN != 0) and said nothing.
      for (const auto& [col, name] : {std::pair{div, "divergent__"}, std::pair{td, "treedepth__"}})
        if (col >= 0 && std::isnan(c.at(r, col)))
          throw std::runtime_error(c.path + ": " + name + " is not a number in draw " + std::to_string(r + 1) +
                                   " (the sampler writes numbers there: the file was edited or damaged)");
      if (lp >= 0 && acc >= 0 && !s.fixed_param) cs.stuck.add(c.at(r, lp), c.at(r, acc));
      if (div >= 0 && c.at(r, div) != 0) ++cs.divergent;
      if (td >= 0 && c.at(r, td) >= s.max_depth) ++cs.treedepth_hits;
      if (en >= 0) energy.push_back(c.at(r, en));
      if (acc >= 0) accept.push_back(c.at(r, acc));
      if (nl >= 0) cs.gradient_evals += c.at(r, nl);
    }
    if (en >= 0 && n >= 2) {
      double num = 0;
      for (size_t r = 1; r < n; ++r) num += (energy[r] - energy[r - 1]) * (energy[r] - energy[r - 1]);
      const double sdv = sd(energy.data(), n);
      cs.ebfmi = (num / static_cast<double>(n)) / (sdv * sdv);
    } else {
      cs.ebfmi = std::nan("");
    }
    cs.mean_accept_stat = acc >= 0 ? mean(accept.data(), n) : std::nan("");
    cs.step_size = c.has_adaptation ? c.step_size : (eps >= 0 ? c.at(0, eps) : std::nan(""));
    s.chains.push_back(cs);
  }
  return s;
}

void check_one_run(const std::vector<io::CmdStanCsv>& chains) {
  auto id_of = [](const io::CmdStanCsv& c) -> std::string {
    const auto it = c.config.find("exmc_run_id");
    return it == c.config.end() ? "" : it->second;
  };
  for (size_t i = 1; i < chains.size(); ++i) {
    const std::string a = id_of(chains[0]), b = id_of(chains[i]);
    if (a == b) continue;
    auto said = [](const std::string& id) { return id.empty() ? std::string("no run id") : "run " + id; };
    throw std::runtime_error(chains[0].path + " (" + said(a) + ") and " + chains[i].path + " (" + said(b) +
                             ") are from different runs; pass --allow-mixed-runs to combine them anyway");
  }
}

std::vector<io::CmdStanCsv> split_chains(io::CmdStanCsv file) {
  // Returned as {std::move(file)}, the file was copied (an initializer list's elements are
  // const): a third copy of every draw at the peak of `exmc summary`, 720 MB for 10^7 draws.
  std::vector<io::CmdStanCsv> out;
  const long col = file.column("chain__");
  if (col < 0) {
    out.push_back(std::move(file));
    return out;
  }
  std::vector<double> ids;  // in order of first appearance
  for (size_t r = 0; r < file.num_rows; ++r) {
    const double id = file.at(r, size_t(col));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  if (ids.size() <= 1) {
    out.push_back(std::move(file));
    return out;
  }
  const size_t width = file.columns.size();
  for (const double id : ids) {
    io::CmdStanCsv c;
    c.path = fmt::format("{} (chain__ {})", file.path, id);
    c.columns = file.columns;
    c.config = file.config;
    for (size_t r = 0; r < file.num_rows; ++r)
      if (file.at(r, size_t(col)) == id) {
        c.values.insert(c.values.end(), file.values.begin() + std::ptrdiff_t(r * width),
                        file.values.begin() + std::ptrdiff_t((r + 1) * width));
        ++c.num_rows;
      }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<io::CmdStanCsv> read_cmdstan_chains(const std::vector<std::string>& paths,
                                                std::vector<std::string>& warnings) {
  check_distinct_files(paths);
  std::vector<io::CmdStanCsv> chains;
  for (const auto& p : paths) {
    auto file = io::read_cmdstan_csv(p);
    add_truncation_warning(file, warnings);  // truncation_warnings({file}) copied the file
    for (auto& c : split_chains(std::move(file))) chains.push_back(std::move(c));
  }
  return chains;
}

CmdStanRun read_cmdstan_run(const std::vector<std::string>& paths, bool allow_mixed_runs) {
  CmdStanRun run;
  run.chains = read_cmdstan_chains(paths, run.warnings);
  if (!allow_mixed_runs) check_one_run(run.chains);
  run.draws = draws_from_cmdstan(run.chains);
  run.stats = sampler_stats_from_cmdstan(run.chains);
  return run;
}

void release_parsed_rows(CmdStanRun& run) {
  for (auto& c : run.chains) {
    std::vector<double>().swap(c.values);
    std::vector<double>().swap(c.warmup_values);
  }
}

}  // namespace exmc::analysis
