// Umbrella header for exmc's analysis layer: draws, diagnostics, summaries, PSIS-LOO, diagnose.
#pragma once

#include "exmc/analysis/cmdstan.hpp"
#include "exmc/analysis/convergence.hpp"
#include "exmc/analysis/diagnose.hpp"
#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/psis.hpp"
#include "exmc/analysis/summary.hpp"
