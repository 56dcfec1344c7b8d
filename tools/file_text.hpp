// A whole file as bytes, for the commands that read programs, data and records whole.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "exmc/core/state_io.hpp"
#include "exmc/io/file_bytes.hpp"

namespace exmc::cli {

// Throws std::runtime_error("cannot read PATH") when the file cannot be opened.
inline std::string read_text(const std::string& path) {
  std::string text;
  if (!io::read_file_bytes(path, text)) throw std::runtime_error("cannot read " + path);
  return text;
}

// A file by its content, for runs continued later (exmc sample --resume, exmc batch run again):
// continuing against an edited model or data would splice two posteriors into one result.
// "(none)" for no file, "(unreadable)" for one that cannot be read.
inline std::string content_fingerprint(const std::string& path) {
  if (path.empty()) return "(none)";
  std::string bytes;
  if (!io::read_file_bytes(path, bytes)) return "(unreadable)";
  return fmt::format("{:016x} ({} bytes)", fnv1a64(bytes), bytes.size());
}

}  // namespace exmc::cli
