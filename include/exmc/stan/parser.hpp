// Recursive-descent parser from Stan source text to the AST (ast.hpp); syntax only.
#pragma once

#include <string>

#include "exmc/stan/ast.hpp"

namespace exmc::stan {

// Parses a whole program. `file` names the source in errors. Throws ParseError with
// file:line:column and what was expected. Blocks must appear in Stan's order.
// Does not check scopes or types: see check() in semantic.hpp (or parse_and_check).
Program parse(const std::string& source, const std::string& file = "model.stan");
// Reads and parses a file; throws Error when it cannot be read.
Program parse_file(const std::string& path);
// Parses one expression (for tests and tools); the whole text must be one expression.
Expr parse_expression(const std::string& source, const std::string& file = "<expr>");

// True for Stan's type keywords (int, real, vector, ..., array).
bool is_type_keyword(const std::string& word);
// True for words a variable may not be named (type keywords, block and control keywords).
bool is_reserved_word(const std::string& word);

}  // namespace exmc::stan
