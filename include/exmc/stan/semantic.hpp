// Semantic checks of a parsed Stan program: scopes, block rules, obvious type errors, names.
#pragma once

#include <string>

#include "exmc/stan/ast.hpp"

namespace exmc::stan {

// Expression types as the checker sees them. Unknown switches checks off (a built-in whose
// return type the table does not model); it never produces an error by itself.
struct ExprType {
  enum Base { Unknown, Int, Real, Complex, Vector, RowVector, Matrix, Void };
  Base base = Unknown;
  int array_dims = 0;
  bool operator==(const ExprType&) const = default;
};
std::string type_string(const ExprType& t);  // "array[,] real", "vector", "unknown"

// Throws SemanticError (file:line:column, message) for the first problem found:
// undeclared or redeclared identifiers, assignments to variables of an earlier block (data in
// the model block, parameters anywhere), loop variables or function arguments; assignments and
// initialisations of an incompatible type (vector into real, real into int); non-int sizes,
// loop bounds and indexes; too many indexes; unknown functions and distributions; wrong
// argument counts for user functions; '~'/'target +=' outside the model block and _lp
// functions; _rng calls outside transformed data, generated quantities and _rng functions;
// integer parameters; constraints on local variables; break/continue outside loops;
// return statements that do not match the function.
void check(const Program& program);

// parse() then check().
Program parse_and_check(const std::string& source, const std::string& file = "model.stan");

// The built-in library the checker knows: function names (exp, rep_vector, normal_lpdf, ...)
// and distribution family names usable after '~' (normal, poisson_log, ...).
bool is_builtin_function(const std::string& name);
bool is_builtin_distribution(const std::string& family);

}  // namespace exmc::stan
