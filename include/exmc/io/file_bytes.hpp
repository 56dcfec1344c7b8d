// A whole file as bytes, read with one allocation of the file's size (a stringstream copy of a
// 9 MB data file cost ~50 ms in its regrowths). Works on pipes and other files without a size.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace exmc::io {

// A whole file's bytes for reading in place: a regular file is mapped (its pages come from the
// page cache in one go: ~3 ms for 9 MB where read() into fresh memory took ~38 ms in page
// faults), anything else read. Null when the file cannot be opened or read.
class FileBytes {
 public:
  static std::unique_ptr<FileBytes> open(const std::string& path);
  ~FileBytes();
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  std::string_view view() const { return {data_, size_}; }

 private:
  FileBytes() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::string read_;  // when not mapped
};

// False when the file cannot be opened or read (out is then unspecified); callers say which
// file in their own words.
bool read_file_bytes(const std::string& path, std::string& out);

}  // namespace exmc::io
