#include "exmc/io/file_bytes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace exmc::io {

bool read_file_bytes(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return false;
  }
  out.clear();
  // A regular file's size, plus one byte so that reaching the end needs no regrowth; anything
  // else (a pipe, /dev/stdin) grows as it arrives.
  out.resize(S_ISREG(st.st_mode) ? size_t(st.st_size) + 1 : size_t(1) << 16);
  size_t used = 0;
  for (;;) {
    if (used == out.size()) out.resize(out.size() * 2);
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    used += size_t(n);
  }
  ::close(fd);
  out.resize(used);
  return true;
}

std::unique_ptr<FileBytes> FileBytes::open(const std::string& path) {
  std::unique_ptr<FileBytes> f(new FileBytes());
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat now {};
    void* m = MAP_FAILED;
    // The size of the file opened (it may have changed since the stat).
    if (::fstat(fd, &now) == 0 && S_ISREG(now.st_mode) && now.st_size > 0)
      m = ::mmap(nullptr, size_t(now.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    ::close(fd);
    if (m != MAP_FAILED) {
      f->data_ = static_cast<const char*>(m);
      f->size_ = size_t(now.st_size);
      f->mapped_ = true;
      return f;
    }
  }
  if (!read_file_bytes(path, f->read_)) return nullptr;
  f->data_ = f->read_.data();
  f->size_ = f->read_.size();
  return f;
}

FileBytes::~FileBytes() {
  if (mapped_) ::munmap(const_cast<char*>(data_), size_);
}

}  // namespace exmc::io
