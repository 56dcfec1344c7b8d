#include "program_limits.hpp"

#include <vector>

#include "exmc/stan/error.hpp"

namespace exmc::services::detail {
namespace {

bool word_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool word_char(char c) { return word_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

void check_program_limits(std::string_view text, const std::string& file) {
  int line = 1;
  size_t line_start = 0;
  auto fail = [&](size_t at, const std::string& what) {
    size_t end = text.find('\n', line_start);
    if (end == std::string_view::npos) end = text.size();
    // A program written on one long line would print all of it under the message.
    const std::string source = end - line_start <= 200 ? std::string(text.substr(line_start, end - line_start)) : "";
    throw stan::ParseError(file, line, int(at - line_start) + 1, what, source);
  };
  int depth = 0, operators = 0;
  std::vector<int> elses(1, 0);  // per open block level
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = i + 1;
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {  // to the end of the line
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (c == '#') {  // #include and old-style comments: the rest of the line
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      for (i += 2; i < text.size() && !(text[i] == '*' && i + 1 < text.size() && text[i + 1] == '/'); ++i)
        if (text[i] == '\n') {
          ++line;
          line_start = i + 1;
        }
      ++i;
      continue;
    }
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\') ++i;
      continue;
    }
    if (word_start(c)) {
      const size_t start = i;
      while (i + 1 < text.size() && word_char(text[i + 1])) ++i;
      if (text.substr(start, i + 1 - start) == "else" && ++elses.back() > kMaxElsePerBlock)
        fail(start, "more than " + std::to_string(kMaxElsePerBlock) +
                        " 'else' branches in one block, more than the front end can follow: use a loop, an "
                        "array lookup or several blocks");
      continue;
    }
    switch (c) {
      case '(': case '[': case '{':
        if (++depth > kMaxNesting)
          fail(i, "nested more than " + std::to_string(kMaxNesting) +
                      " deep (parentheses, brackets and blocks together), more than the front end can follow");
        if (c == '{') {
          operators = 0;
          elses.push_back(0);
        }
        break;
      case ')': case ']': case '}':
        if (depth > 0) --depth;  // unbalanced text is the parser's to report
        if (c == '}') {
          operators = 0;
          if (elses.size() > 1) elses.pop_back();
        }
        break;
      case ';':
        operators = 0;
        break;
      case '+': case '-': case '*': case '/': case '%': case '^': case '\\': case '!':
      case '<': case '>': case '?': case '&': case '|':
        if (++operators > kMaxOperatorsPerStatement)
          fail(i, "more than " + std::to_string(kMaxOperatorsPerStatement) +
                      " operators in one statement, more than the front end can follow: split the expression "
                      "into several statements (or use sum() over a vector)");
        break;
      default:
        break;
    }
  }
}

}  // namespace exmc::services::detail
