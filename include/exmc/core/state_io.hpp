// Bytes for a sampler's whole state (checkpoints): every double by its bit pattern, so a state
// read back continues the computation exactly where it stopped. Fields carry no names; each
// class writes and reads its own in one order, and the reader checks lengths and tags so a file
// from another version or model fails with a message instead of restoring garbage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace exmc {

class StateWriter {
 public:
  StateWriter() = default;
  // A writer that keeps no bytes and only counts them (size()): a first pass over a state tells
  // the real writer its size (reserve), whose buffer is then allocated once instead of grown by
  // doubling (up to three times the state at once while the last growth copies).
  static StateWriter counter() {
    StateWriter w;
    w.counting_ = true;
    return w;
  }
  void reserve(size_t n) { buf_.reserve(n); }
  size_t size() const { return counting_ ? counted_ : buf_.size(); }
  void u64(uint64_t v);
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f64(double v);
  void boolean(bool v) { u64(v ? 1 : 0); }
  void bytes(std::string_view s);  // length-prefixed
  void f64s(const std::vector<double>& v);
  void u64s(const std::vector<uint64_t>& v);
  // A four-character section mark the reader checks (catches a reader and writer out of step).
  void tag(const char (&t)[5]);
  const std::string& data() const { return buf_; }
  std::string take() { return std::move(buf_); }

 private:
  void put(const char* p, size_t n) {
    if (counting_) counted_ += n;
    else buf_.append(p, n);
  }
  std::string buf_;
  bool counting_ = false;
  size_t counted_ = 0;
};

// Throws std::runtime_error("... state: ...") on a short buffer, a wrong tag or a length that
// disagrees with what the reader expects.
class StateReader {
 public:
  explicit StateReader(std::string_view data) : data_(data) {}
  uint64_t u64();
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64();
  bool boolean();
  std::string bytes();
  std::vector<double> f64s();
  // Reads a vector that must have `expected` entries (a state of another model is refused).
  void f64s_into(std::vector<double>& out, size_t expected, const char* what);
  std::vector<uint64_t> u64s();
  void tag(const char (&t)[5]);
  bool done() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  void need(size_t n, const char* what);
  void need_count(uint64_t n, const char* what);  // n numbers of 8 bytes
  std::string_view data_;
  size_t pos_ = 0;
};

// FNV-1a, 64 bits: a checksum over a checkpoint so a damaged file is refused, not resumed.
uint64_t fnv1a64(std::string_view s, uint64_t h = 14695981039346656037ull);

}  // namespace exmc
