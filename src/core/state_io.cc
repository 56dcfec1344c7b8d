#include "exmc/core/state_io.hpp"

#include <cstring>
#include <stdexcept>

namespace exmc {

void StateWriter::u64(uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);  // little endian
  put(b, 8);
}

void StateWriter::f64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  u64(bits);
}

void StateWriter::bytes(std::string_view s) {
  u64(s.size());
  put(s.data(), s.size());
}

void StateWriter::f64s(const std::vector<double>& v) {
  u64(v.size());
  for (double x : v) f64(x);
}

void StateWriter::u64s(const std::vector<uint64_t>& v) {
  u64(v.size());
  for (uint64_t x : v) u64(x);
}

void StateWriter::tag(const char (&t)[5]) { put(t, 4); }

void StateReader::need(size_t n, const char* what) {
  if (data_.size() - pos_ < n)
    throw std::runtime_error(std::string("sampler state: truncated (reading ") + what + ")");
}

void StateReader::need_count(uint64_t n, const char* what) {
  // n * 8 wraps from n = 2^61 on: such a length passed need() and went to std::vector, which
  // refused it with "cannot create std::vector larger than max_size()".
  if (n > (data_.size() - pos_) / 8)
    throw std::runtime_error(std::string("sampler state: truncated (reading ") + what + ")");
}

uint64_t StateReader::u64() {
  need(8, "a number");
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
  pos_ += 8;
  return v;
}

double StateReader::f64() {
  const uint64_t bits = u64();
  double v;
  std::memcpy(&v, &bits, 8);
  return v;
}

bool StateReader::boolean() {
  const uint64_t v = u64();
  if (v > 1) throw std::runtime_error("sampler state: corrupt (a flag is neither 0 nor 1)");
  return v == 1;
}

std::string StateReader::bytes() {
  const uint64_t n = u64();
  need(n, "bytes");
  std::string s(data_.substr(pos_, n));
  pos_ += n;
  return s;
}

std::vector<double> StateReader::f64s() {
  const uint64_t n = u64();
  need_count(n, "a vector");
  std::vector<double> v(n);
  for (auto& x : v) x = f64();
  return v;
}

void StateReader::f64s_into(std::vector<double>& out, size_t expected, const char* what) {
  const uint64_t n = u64();
  if (n != expected)
    throw std::runtime_error(std::string("sampler state: ") + what + " has " + std::to_string(n) +
                             " values, expected " + std::to_string(expected) +
                             " (a state of another model?)");
  need_count(n, what);
  out.resize(n);
  for (auto& x : out) x = f64();
}

std::vector<uint64_t> StateReader::u64s() {
  const uint64_t n = u64();
  need_count(n, "a vector");
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = u64();
  return v;
}

void StateReader::tag(const char (&t)[5]) {
  need(4, t);
  if (std::memcmp(data_.data() + pos_, t, 4) != 0)
    throw std::runtime_error(std::string("sampler state: expected section '") + t +
                             "' (written by another version?)");
  pos_ += 4;
}

uint64_t fnv1a64(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace exmc
