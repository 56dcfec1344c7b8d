// exmc summary | diagnose | loo: the analysis layer over CmdStan CSV files.
#include <exception>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>

#include "cli.hpp"
#include "exmc/analysis/approximation.hpp"
#include "exmc/analysis/particles.hpp"
#include "exmc/analysis/cmdstan.hpp"
#include "exmc/analysis/diagnose.hpp"
#include "exmc/analysis/format.hpp"
#include "exmc/analysis/psis.hpp"
#include "exmc/analysis/summary.hpp"

namespace exmc::cli {
namespace {

void print_warnings(const char* command, const analysis::CmdStanRun& run, std::ostream& err) {
  for (const auto& w : run.warnings) err << "exmc " << command << ": warning: " << w << "\n";
}

}  // namespace

int summary(const std::vector<std::string>& files, const std::string& format, bool sampler_stats,
            std::ostream& out, std::ostream& err, bool allow_mixed_runs) {
  try {
    auto run = analysis::read_cmdstan_run(files, allow_mixed_runs);
    analysis::release_parsed_rows(run);
    print_warnings("summary", run, err);
    const auto f = analysis::parse_format(format);
    out << analysis::format_summary(analysis::summarise(run.draws), f);
    if (sampler_stats && f == analysis::Format::Table && run.stats.has_divergent) {
      out << "\n" << analysis::format_sampler_stats(run.stats, f);
    }
    return 0;
  } catch (const std::exception& e) {
    err << "exmc summary: error: " << e.what() << "\n";
    return 1;
  }
}

int diagnose(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
             bool allow_mixed_runs) {
  try {
    auto run = analysis::read_cmdstan_run(files, allow_mixed_runs);
    print_warnings("diagnose", run, err);
    const std::string method = analysis::cmdstan_method(run.chains.front());
    if (analysis::is_approximation_method(method) || method == "optimize") {
      out << analysis::diagnose_approximation(run.chains).report;
      return 0;
    }
    if (method == "smc") {
      out << analysis::diagnose_particles(run.chains).report;
      return 0;
    }
    // log_prob's rows are the points it was given, with g_ columns: R-hat and ESS of them said
    // "the chains have not mixed" of gradients, as if they were draws.
    if (method == "log_prob")
      throw std::runtime_error(run.chains.front().path + ": method = log_prob: the log density and its gradient at "
                               "given points, not draws; diagnose checks draws (exmc sample, or the approximations "
                               "of variational, laplace and pathfinder)");
    analysis::release_parsed_rows(run);
    const auto result =
        analysis::diagnose(analysis::summarise(run.draws), run.stats, run.draws.num_chains);
    out << result.report;
    // As CmdStan's diagnose: problems found are a report, not a failure of the command.
    return 0;
  } catch (const std::exception& e) {
    err << "exmc diagnose: error: " << e.what() << "\n";
    return 1;
  }
}

int loo(const std::vector<std::string>& files, const std::string& log_lik, const std::string& format,
        std::ostream& out, std::ostream& err, bool allow_mixed_runs) {
  try {
    auto run = analysis::read_cmdstan_run(files, allow_mixed_runs);
    analysis::release_parsed_rows(run);
    print_warnings("loo", run, err);
    const auto ll = analysis::loglik_from_draws(run.draws, log_lik);
    const auto r = analysis::loo(ll, analysis::relative_eff(ll, run.draws.num_chains));
    out << analysis::format_loo(r, analysis::parse_format(format));
    // Any quantity of the draws gives numbers: say when these look unlike log p(y[n] | parameters)
    // per observation (a parameter, a prediction), as loo's own p_loo > N check does.
    if (ll.num_obs == 1)
      err << "exmc loo: warning: '" << log_lik << "' is one number per draw: LOO leaves out one observation at a "
          << "time and needs the log-likelihood of each (log_lik[1], ..., log_lik[N]); with one there is no "
          << "standard error\n";
    if (r.p.estimate > static_cast<double>(ll.num_obs))
      err << fmt::format("exmc loo: warning: p_loo ({:.1f}) exceeds the number of observations ({}): '{}' looks "
                         "unlike a pointwise log-likelihood (log p(y[n] | parameters) per observation n), or the "
                         "model is badly misspecified\n",
                         r.p.estimate, ll.num_obs, log_lik);
    return 0;
  } catch (const std::exception& e) {
    err << "exmc loo: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace exmc::cli
