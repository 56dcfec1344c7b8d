#include "exmc/io/temporaries.hpp"

#include <fcntl.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdio>
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

int create_tracked_temporary(const std::string& path, int flags, unsigned mode) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  const int fd = ::open(path.c_str(), flags, mode_t(mode));
  if (fd >= 0) registry().push_back(path);
  return fd;
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
