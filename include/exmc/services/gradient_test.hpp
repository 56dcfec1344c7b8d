// CmdStan's `diagnose` method (test = gradient): a program's gradient at one point against
// finite differences of its log density, coordinate by coordinate, on the unconstrained scale.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exmc/services/program.hpp"

namespace exmc::services {

struct GradientTestSettings {
  InitSpec init;          // the point: uniform(-R, R) unconstrained, or constrained values by name
  double epsilon = 1e-6;  // the finite differences' step (CmdStan's default)
  // A coordinate fails when |gradient - finite difference| > error * max(1, |finite difference|)
  // + 100 * 2^-52 * max(1, |log p|) / epsilon (the differences' own rounding). CmdStan's 1e-6,
  // relative to the gradient where it is large.
  double error = 1e-6;
};

struct GradientTestRow {
  std::string name;  // the coordinate's variable (a simplex's coordinates share its name)
  double value = 0;  // the point's coordinate (unconstrained)
  double model = 0;  // the program's gradient
  double finite_diff = 0;
  double error = 0;  // model - finite_diff
  bool fails = false;
};

struct GradientTest {
  double log_prob = 0;  // at the point; Stan's scale (its transforms, the log-Jacobians)
  std::vector<GradientTestRow> rows;
  size_t failures = 0;
  std::vector<std::string> warnings;
};

// Compiled as log_prob compiles (Stan's parameterisation, no automatic non-centring, with the
// log-Jacobians). Throws std::runtime_error when the log density or its gradient is not finite
// at the point, naming it.
GradientTest gradient_test(const Program& program, const GradientTestSettings& settings, uint64_t seed);

// CmdStan's text ("TEST GRADIENT MODE", the log probability, then param idx, value, model,
// finite diff and error per coordinate), with each coordinate's name after it.
std::string format_gradient_test(const GradientTest& test);

}  // namespace exmc::services
