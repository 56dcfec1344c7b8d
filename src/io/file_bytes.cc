#include "exmc/io/file_bytes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace exmc::io {

namespace {

// The rest of an open file into out (sized by `expected`, grown as needed); closes fd.
bool read_all(int fd, size_t expected, std::string& out) {
  out.clear();
  // One byte more than expected, so that reaching the end needs no regrowth.
  out.resize(expected + 1);
  size_t used = 0;
  for (;;) {
    if (used == out.size()) out.resize(out.size() * 2);
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      out.resize(used);
      return n == 0;
    }
    used += size_t(n);
  }
}

// An open descriptor and what fstat says of it; -1 for a file that cannot be opened or is a
// directory.
int open_file(const std::string& path, struct stat& st) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool read_file_bytes(const std::string& path, std::string& out) {
  struct stat st {};
  const int fd = open_file(path, st);
  // A regular file's size; anything else (a pipe, /dev/stdin) grows as it arrives.
  return fd >= 0 && read_all(fd, S_ISREG(st.st_mode) ? size_t(st.st_size) : size_t(1) << 16, out);
}

std::unique_ptr<FileBytes> FileBytes::open(const std::string& path) {
  std::unique_ptr<FileBytes> f(new FileBytes());
  struct stat st {};
  const int fd = open_file(path, st);
  if (fd < 0) return nullptr;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void* m = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (m != MAP_FAILED) {
      ::close(fd);
      f->data_ = static_cast<const char*>(m);
      f->size_ = size_t(st.st_size);
      f->mapped_ = true;
      return f;
    }
  }
  if (!read_all(fd, S_ISREG(st.st_mode) ? size_t(st.st_size) : size_t(1) << 16, f->read_)) return nullptr;
  f->data_ = f->read_.data();
  f->size_ = f->read_.size();
  return f;
}

FileBytes::~FileBytes() {
  if (mapped_) ::munmap(const_cast<char*>(data_), size_);
}

}  // namespace exmc::io
