// Pretty-printer from the AST back to Stan source (parse(print(p)) == p).
#pragma once

#include <string>

#include "exmc/stan/ast.hpp"

namespace exmc::stan {

// Canonical layout: two-space indents, one statement per line, spaces around binary
// operators. Keeps the grouping parentheses and the array syntax (old or new) of the AST, and
// adds parentheses where a hand-built AST needs them for the precedence to survive.
std::string print_program(const Program& p);
std::string print_expr(const Expr& e);
std::string print_type(const SizedType& t);
// Switches every declaration and argument type to the pre-2.33 array syntax (`real x[N]`,
// `real[] x`), e.g. to run a program through an older Stan.
void use_old_array_syntax(Program& p);  // without the name (old-syntax arrays: no sizes)

}  // namespace exmc::stan
