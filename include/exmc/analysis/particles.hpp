// diagnose for the particles of sequential Monte Carlo (method = smc). They are one equally
// weighted population, not chains: split R-hat and ESS along the particles' order say nothing
// (advice to "run the chains longer" least of all). What can go wrong is that the mutations did
// not move the particles, so they are copies of a few points, or that the density is unbounded.
#pragma once

#include <vector>

#include "exmc/analysis/diagnose.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::analysis {

// Counts the distinct particles of each file (by lp__: copies share it exactly, distinct points
// almost never do at the digits written), flags files where fewer than half are distinct (the
// rule exmc smc warns by at the end of a run), checks the scale of the values as diagnose does
// for draws, and repeats the log marginal likelihood the header records. Throws
// std::runtime_error naming the file for a file of another method or without lp__.
DiagnoseResult diagnose_particles(const std::vector<io::CmdStanCsv>& files);

}  // namespace exmc::analysis
