// diagnose for SMC's particles: distinct points, their scale, the evidence the run recorded.
#include "exmc/analysis/particles.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "exmc/analysis/approximation.hpp"

namespace exmc::analysis {
namespace {

size_t distinct_lp(const io::CmdStanCsv& f, size_t lp_column) {
  std::vector<double> lp(f.num_rows);
  for (size_t r = 0; r < f.num_rows; ++r) lp[r] = f.at(r, lp_column);
  std::sort(lp.begin(), lp.end());
  // == and not unique()'s ==: every NaN is its own point (a NaN lp__ is refused when written).
  size_t distinct = 0;
  for (size_t r = 0; r < lp.size(); ++r) distinct += r == 0 || !(lp[r] == lp[r - 1]);
  return distinct;
}

std::string config_or_empty(const io::CmdStanCsv& f, const char* key) {
  const auto it = f.config.find(key);
  return it == f.config.end() ? std::string() : it->second;
}

}  // namespace

DiagnoseResult diagnose_particles(const std::vector<io::CmdStanCsv>& files) {
  if (files.empty()) throw std::runtime_error("no CmdStan CSV files given");
  for (const auto& f : files)
    if (cmdstan_method(f) != "smc")
      throw std::runtime_error(f.path + ": method = " + cmdstan_method(f) + ", not smc");
  DiagnoseResult r;
  std::string& out = r.report;
  out += "Processing CmdStan output.\n\n";
  out += "These are the final particles of sequential Monte Carlo (method = smc), one equally weighted "
         "population: R-hat and ESS along their order do not apply. What can fail is that the mutations did "
         "not move them (then they are copies of a few points) or that the density is unbounded.\n\n";
  const double limit = DiagnoseThresholds{}.runaway;
  if (const std::string listing = runaway_listing(files, limit); !listing.empty()) {
    r.runaway = true;
    out += runaway_section(listing, limit, "its particles run off");
  }
  out += "Checking the particles.\n";
  for (const auto& f : files) {
    const long lp = f.column("lp__");
    if (lp < 0) throw std::runtime_error(f.path + ": no lp__ column: not a file exmc smc wrote");
    const size_t n = f.num_rows, distinct = distinct_lp(f, size_t(lp));
    const std::string who = files.size() > 1 ? f.path + ": " : "";
    if (2 * distinct < n) {
      r.copies = true;
      out += fmt::format(
          "{}{} {} of the {} particles {} distinct: the mutations hardly moved them, so they are copies of a "
          "few points, and their means, quantiles and the log marginal likelihood are unreliable. Try --kernel "
          "hmc, a --reference-scale that covers the posterior, or more --particles.\n",
          who, who.empty() ? "Only" : "only", distinct, n, distinct == 1 ? "is" : "are");
    } else {
      out += fmt::format("{}{} of the {} particles are distinct (by lp__).\n", who, distinct, n);
    }
    if (const std::string lml = config_or_empty(f, "exmc_log_marginal_likelihood"); !lml.empty()) {
      const std::string se = config_or_empty(f, "exmc_log_marginal_likelihood_se");
      out += fmt::format("{}{} run recorded a log marginal likelihood of {} ({}).\n", who, who.empty() ? "The" : "the", lml,
                         se.empty() ? "one run: no standard error" : "se " + se + " over its runs");
    }
  }
  out += r.ok() ? "\nProcessing complete, no problems detected.\n" : "\nProcessing complete.\n";
  return r;
}

}  // namespace exmc::analysis
