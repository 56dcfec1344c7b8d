#include "exmc/io/temporaries.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <mutex>

namespace exmc::io {

namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::vector<std::string>& registry() {
  static std::vector<std::string> r;
  return r;
}

void forget_locked(const std::string& path) {
  auto& r = registry();
  const auto it = std::find(r.begin(), r.end(), path);
  if (it != r.end()) r.erase(it);
}

}  // namespace

namespace {

// An unnamed file in `path`'s folder, locked, then linked under `path` (failing with EEXIST
// where the name is taken): the name never appears unlocked. -1 with errno set where the file
// system has no unnamed files or /proc is missing (the caller then creates it by name).
int create_locked_by_link(const std::string& path, int flags, unsigned mode) {
  namespace fs = std::filesystem;
  fs::path folder = fs::path(path).parent_path();
  if (folder.empty()) folder = ".";
  const int access = flags & O_ACCMODE;
  const int fd = ::open(folder.c_str(), O_TMPFILE | (access == O_RDONLY ? O_RDWR : access) | (flags & O_CLOEXEC),
                        mode_t(mode));
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX) != 0 ||
      ::linkat(AT_FDCWD, ("/proc/self/fd/" + std::to_string(fd)).c_str(), AT_FDCWD, path.c_str(),
               AT_SYMLINK_FOLLOW) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

}  // namespace

int create_tracked_temporary(const std::string& path, int flags, unsigned mode) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  int fd = create_locked_by_link(path, flags, mode);
  if (fd < 0 && errno != EEXIST) {
    // No unnamed files here: created by name and locked at once (a prober may see the name in
    // between, unlocked, for the microseconds that takes).
    fd = ::open(path.c_str(), flags, mode_t(mode));
    if (fd >= 0) ::flock(fd, LOCK_EX);
  }
  if (fd >= 0) registry().push_back(path);
  return fd;
}

bool remove_if_abandoned(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  struct stat st{};
  // Held by this process too (flock locks belong to open files, not processes): never its own.
  const bool free = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  bool removed = false;
  if (free) {
    // Still the file locked (not one renamed away and another created under the name since).
    struct stat now{};
    removed = ::stat(path.c_str(), &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev &&
              ::unlink(path.c_str()) == 0;
  }
  ::close(fd);
  return removed;
}

void untrack_temporary(const std::string& path) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  forget_locked(path);
}

int rename_tracked_temporary(const std::string& temporary, const std::string& final_path) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  const int rc = std::rename(temporary.c_str(), final_path.c_str());
  if (rc == 0) forget_locked(temporary);
  return rc;
}

std::vector<std::string> remove_tracked_temporaries_for_exit() {
  // Never unlocked: the caller ends the process, and a writer thread still running must not
  // rename its temporary into place after it was judged unfinished.
  registry_mutex().lock();
  std::vector<std::string> removed;
  for (const auto& p : registry())
    if (std::remove(p.c_str()) == 0) removed.push_back(p);
  registry().clear();
  return removed;
}

}  // namespace exmc::io
