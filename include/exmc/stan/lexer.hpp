// Tokenizer for Stan source: identifiers, numbers, strings, operators, comments skipped.
#pragma once

#include <string>
#include <vector>

#include "exmc/stan/ast.hpp"

namespace exmc::stan {

enum class Tok {
  Ident,
  IntLit,
  RealLit,
  ImagLit,
  String,
  Op,  // punctuation and operators; text holds the spelling ("<=", ".*=", "%/%", "'", ...)
  End,
};

struct Token {
  Tok kind = Tok::End;
  std::string text;
  Loc loc;
};

// Splits `source` into tokens, the last of kind End. Skips whitespace, `//` and `#` line
// comments and `/* */` block comments. Throws ParseError (file:line:col) for an unterminated
// comment or string, a malformed number, or a character that starts no token.
std::vector<Token> lex(const std::string& source, const std::string& file);

// The text of line `line` (1-based) of `source`, without its newline ("" when out of range).
std::string source_line(const std::string& source, int line);

}  // namespace exmc::stan
