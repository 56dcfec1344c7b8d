// Output checks before a run: not an input, not a directory, in a writable folder.
#include "exmc/io/output_files.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
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

// access() answers from the permission bits, which root passes everywhere: in /proc, /sys or a
// folder of a file system that refuses new files, the check passed and the run failed only when
// it wrote its result, after all its work. So a file is created there: an unnamed one (O_TMPFILE
// leaves nothing behind whatever happens), else, where the file system has no unnamed files, a
// uniquely named one removed at once. False with errno set when neither can be created.
bool can_create_in(const fs::path& folder, const std::string& output) {
  int fd = ::open(folder.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) return ::close(fd), true;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return false;
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char suffix[40];
    std::snprintf(suffix, sizeof suffix, ".%08x%08x.probe", rd(), rd());
    const std::string probe = output + suffix;
    fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      ::unlink(probe.c_str());
      return true;
    }
    if (errno == ENOENT) errno = EACCES;  // the folder exists (checked), but takes no new names
    if (errno != EEXIST) return false;
  }
  return true;  // only name collisions: the folder takes files
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
  if (::access(folder.c_str(), W_OK | X_OK) != 0 || !can_create_in(folder, output))
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

namespace {
std::atomic<FreeSpaceQuery> g_free_space_query{nullptr};
}  // namespace

std::optional<uint64_t> free_space(const std::string& folder) {
  if (const auto query = g_free_space_query.load()) return query(folder);
  struct statvfs vfs{};
  if (::statvfs(folder.empty() ? "." : folder.c_str(), &vfs) != 0) return std::nullopt;
  return uint64_t(vfs.f_bavail) * uint64_t(vfs.f_frsize);
}

void set_free_space_query(FreeSpaceQuery query) { g_free_space_query.store(query); }

}  // namespace exmc::io
