// How close an approximation's draws (variational, laplace, pathfinder) are to the posterior,
// from what their CmdStan CSV files hold: the Pareto k of the importance ratios p/q (Yao,
// Vehtari, Simpson and Gelman 2018, "Yes, but did it work?"). R-hat and ESS of such draws, which
// are independent by construction, say nothing about it.
#pragma once

#include <string>
#include <vector>

#include "exmc/analysis/diagnose.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::analysis {

// The files' method ("sample" when the header names none, as in CmdStan's older files).
std::string cmdstan_method(const io::CmdStanCsv& file);

// True for the methods diagnose_approximation() reports on.
bool is_approximation_method(const std::string& method);

// One "  name: largest magnitude X" line per column (sampler and method columns, ending in "__",
// left out) whose finite values reach beyond `limit` in magnitude in any of the files: the
// listing of runaway_section (diagnose.hpp). Empty when none does.
std::string runaway_listing(const std::vector<io::CmdStanCsv>& files, double limit);

// The k of log_p__ - log_g__ over every file's draws (variational and laplace write both, as
// CmdStan does), or the k pathfinder recorded (exmc_pareto_k: its draws are already resampled,
// so their own ratios would mislead). Thresholds as loo's: k <= 0.5 the approximation is close;
// up to 0.7 importance sampling can correct it; beyond, it is poor (a problem). Throws
// std::runtime_error naming the file for method = optimize (one point, nothing to check) and
// for files that hold neither the columns nor the recorded k.
DiagnoseResult diagnose_approximation(const std::vector<io::CmdStanCsv>& files);

}  // namespace exmc::analysis
