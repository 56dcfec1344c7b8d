// Output checks before a run: not an input, not a directory, in a writable folder.
#include "exmc/io/output_files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace exmc::io {

namespace fs = std::filesystem;

namespace {

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ea, eb, ec;
  if (fs::exists(a, ea) && fs::exists(b, eb)) {
    const bool eq = fs::equivalent(a, b, ec);
    if (!ec) return eq;
  }
  // One of them does not exist yet: the same file only if it is the same name.
  return fs::weakly_canonical(fs::absolute(a), ec) == fs::weakly_canonical(fs::absolute(b), ec);
}

}  // namespace

void check_output_file(const std::string& output, const std::vector<NamedFile>& inputs,
                       const std::string& option) {
  if (output.empty()) throw std::runtime_error(option + " is empty");
  const fs::path out(output);
  for (const auto& in : inputs) {
    if (in.path.empty()) continue;
    if (same_file(out, in.path))
      throw std::runtime_error(option + " " + output + " is the " + in.role + " file " + in.path +
                               ": refusing to overwrite an input");
  }
  std::error_code ec;
  const auto st = fs::status(out, ec);
  if (fs::is_directory(st))
    throw std::runtime_error(option + " " + output + " is a directory, not a file");
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw std::runtime_error(option + " " + output + " exists and is not a regular file");
  // The run writes a temporary beside the output and renames it: the folder must be writable.
  fs::path folder = out.parent_path();
  if (folder.empty()) folder = ".";
  if (!fs::is_directory(folder, ec))
    throw std::runtime_error(option + " " + output + ": the folder " + folder.string() +
                             " does not exist");
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    throw std::runtime_error(option + " " + output + ": cannot write in the folder " + folder.string() +
                             ": " + std::strerror(errno));
}

bool remove_previous_output(const std::string& path) {
  std::error_code ec;
  const auto st = fs::symlink_status(path, ec);
  if (!fs::exists(st) || fs::is_directory(st)) return false;
  if (!fs::remove(path, ec) && ec)
    throw std::runtime_error("cannot remove the previous " + path + ": " + ec.message());
  return true;
}

}  // namespace exmc::io
