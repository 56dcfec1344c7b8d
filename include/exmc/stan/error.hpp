// Errors of the Stan front end: every one names file:line:column and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace exmc::stan {

// what() reads
//   model.stan:12:5: error: expected ';' after expression, found 'real'
//      12 |     real x
//         |     ^
// (the snippet lines only when the source line is known). line/column are 1-based; 0 when the
// error has no position (data errors name the variable instead).
class Error : public std::runtime_error {
 public:
  Error(std::string file, int line, int column, std::string message, std::string source_line = "");
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }
  // The "   12 | ...\n      |     ^" caret snippet, or "" without a source line.
  const std::string& snippet() const { return snippet_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string message_;
  std::string snippet_;
};

// Lexical and syntax errors.
class ParseError : public Error {
 public:
  using Error::Error;
};

// Scope, type and block-rule errors found after parsing.
class SemanticError : public Error {
 public:
  using Error::Error;
};

// Data that do not match the data block: file is the data file, line/column are 0, and
// message() names the variable ("data variable 'N': expected int, found 2.5").
class DataError : public Error {
 public:
  DataError(std::string data_file, std::string variable, std::string message);
  const std::string& variable() const { return variable_; }

 private:
  std::string variable_;
};

}  // namespace exmc::stan
