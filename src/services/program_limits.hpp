// Stan text nested or chained deeper than the front end can follow, refused before it tries.
//
// The parser, checker and lowering (src/stan) recurse once per nesting level, operator or
// `else`, and have no depth counters of their own yet: on an 8 MB stack about 4,500 nested
// parentheses, 6,000 nested blocks, a sum of 12,000 terms, 20,000 unary minuses or a chain of
// 10,000 `else if`s ended the process with SIGSEGV. This lexical pass (comments and strings
// skipped) finds the first place a limit is passed, far below those and far above any real
// program, and says so as a parse error with its line and column.
#pragma once

#include <string>
#include <string_view>

namespace exmc::services::detail {

inline constexpr int kMaxNesting = 256;                 // ( [ { together
inline constexpr int kMaxOperatorsPerStatement = 4000;  // + - * / % ^ \ ! < > ? & | between ; { }
inline constexpr int kMaxElsePerBlock = 1000;           // `else`s at one level of one block

// Throws stan::ParseError naming `file`, the line and the column where a limit is passed.
void check_program_limits(std::string_view text, const std::string& file);

}  // namespace exmc::services::detail
