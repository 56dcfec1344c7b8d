// A whole file as bytes, for the commands that read programs, data and records whole.
#pragma once

#include <stdexcept>
#include <string>

#include "exmc/io/file_bytes.hpp"

namespace exmc::cli {

// Throws std::runtime_error("cannot read PATH") when the file cannot be opened.
inline std::string read_text(const std::string& path) {
  std::string text;
  if (!io::read_file_bytes(path, text)) throw std::runtime_error("cannot read " + path);
  return text;
}

}  // namespace exmc::cli
