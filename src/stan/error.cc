// Formats Stan front-end errors as "file:line:col: error: message" plus a caret snippet.
#include "exmc/stan/error.hpp"

#include <fmt/format.h>

namespace exmc::stan {
namespace {

std::string make_snippet(int line, int column, const std::string& src) {
  if (line <= 0 || src.empty()) return "";
  const std::string num = std::to_string(line);
  const std::string pad(num.size(), ' ');
  std::string caret;
  for (int i = 1; i < column && i <= static_cast<int>(src.size()); ++i)
    caret += src[static_cast<size_t>(i - 1)] == '\t' ? '\t' : ' ';
  return fmt::format(" {} | {}\n {} | {}^", num, src, pad, caret);
}

std::string format_what(const std::string& file, int line, int column, const std::string& msg,
                        const std::string& snippet) {
  std::string w = file;
  if (line > 0) w += fmt::format(":{}:{}", line, column);
  w += ": error: " + msg;
  if (!snippet.empty()) w += "\n" + snippet;
  return w;
}

}  // namespace

Error::Error(std::string file, int line, int column, std::string message, std::string source_line)
    : std::runtime_error(format_what(file, line, column, message,
                                     make_snippet(line, column, source_line))),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(std::move(message)),
      snippet_(make_snippet(line, column, source_line)) {}

DataError::DataError(std::string data_file, std::string variable, std::string message)
    : Error(std::move(data_file), 0, 0, std::move(message)), variable_(std::move(variable)) {}

}  // namespace exmc::stan
