// Stan JSON's fast reader (see read_stan_json_fast in stan_json.hpp).
#include <charconv>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "exmc/io/stan_json.hpp"
#include "stan_json_tokens.hpp"

namespace exmc::io {
namespace {

using detail::bare_non_finite_at;
using detail::special_number;

// The fast reader: one pass over the text, numbers by std::from_chars straight into each
// variable's values, the shape checked as arrays close. It reads the common case only and says
// false for everything else, so the general reader is the one to phrase every error.
class FastReader {
 public:
  explicit FastReader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool read(std::vector<StanJsonValue>& vars) {
    if (!skip_ws() || *p_ != '{') return false;
    ++p_;
    if (!skip_ws()) return false;
    if (*p_ == '}') {
      ++p_;
      return !skip_ws();  // nothing may follow the object
    }
    for (;;) {
      StanJsonValue v;
      if (!string_body(v.name) || !skip_ws() || *p_ != ':') return false;
      ++p_;
      if (!value(v)) return false;
      vars.push_back(std::move(v));
      if (!skip_ws()) return false;
      if (*p_ == '}') {
        ++p_;
        return !skip_ws();
      }
      if (*p_ != ',') return false;
      ++p_;
      if (!skip_ws()) return false;
    }
  }

 private:
  // Deeper values go to the general reader (a Stan value of rank 8 needs 8 levels).
  static constexpr size_t kMaxRank = 32;

  // Skips JSON whitespace; false at the end of the text.
  bool skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r')) ++p_;
    return p_ != end_;
  }

  // A string of printable ASCII without escapes (anything else: the general reader).
  bool string_body(std::string& out) {
    if (p_ == end_ || *p_ != '"') return false;
    const char* start = ++p_;
    while (p_ != end_ && *p_ != '"') {
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    if (p_ == end_) return false;
    out.assign(start, p_);
    ++p_;
    return true;
  }

  // JSON's number grammar exactly; an integer (no fraction, no exponent) must fit int64_t.
  bool number(double& v, bool& integer) {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return false;
    }
    integer = true;
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return false;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return false;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (integer) {
      int64_t i = 0;
      const auto r = std::from_chars(start, p_, i);
      if (r.ec != std::errc() || r.ptr != p_) return false;
      v = static_cast<double>(i);
      return true;
    }
    const auto r = std::from_chars(start, p_, v);
    return r.ec == std::errc() && r.ptr == p_;
  }

  bool leaf(StanJsonValue& v) {
    double x = 0;
    bool integer = false;
    if (p_ != end_ && *p_ == '"') {
      std::string word;
      if (!string_body(word) || !special_number(word, &x)) return false;
    } else if (const auto token = bare_non_finite_at(std::string_view(p_, end_ - p_), 0); !token.empty()) {
      special_number(std::string(token), &x);
      p_ += token.size();
    } else if (!number(x, integer)) {
      return false;
    }
    if (!integer) v.is_integer = false;
    v.values.push_back(x);
    return true;
  }

  bool value(StanJsonValue& v) {
    if (!skip_ws()) return false;
    if (*p_ != '[') return leaf(v);  // a scalar: dims {}
    rank_ = 0;
    sizes_.clear();
    if (!array(v, 0)) return false;
    if (sizes_.size() == 1 && sizes_[0] == 0 && v.values.empty()) {
      v.dims = {0};  // [] (an empty array anywhere deeper: the general reader)
      return true;
    }
    if (rank_ == 0) return false;
    v.dims = sizes_;
    return true;
  }

  // The array opening at p_, `depth` arrays deep. rank_ (0: no number yet) is the depth of every
  // number; sizes_[k] the length of every array k deep, fixed by the first to close.
  bool array(StanJsonValue& v, size_t depth) {
    if (depth >= kMaxRank || (rank_ != 0 && depth >= rank_)) return false;
    ++p_;  // '['
    if (!skip_ws()) return false;
    size_t count = 0;
    if (*p_ == ']') {
      ++p_;
      return depth == 0 && close(depth, 0);
    }
    for (;;) {
      if (!skip_ws()) return false;
      if (*p_ == '[') {
        if (!array(v, depth + 1)) return false;
      } else {
        if (rank_ == 0) rank_ = depth + 1;
        if (rank_ != depth + 1 || !leaf(v)) return false;
      }
      ++count;
      if (!skip_ws()) return false;
      if (*p_ == ']') {
        ++p_;
        return close(depth, count);
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  bool close(size_t depth, size_t count) {
    if (sizes_.size() <= depth) sizes_.resize(depth + 1, kUnknown);
    if (sizes_[depth] == kUnknown) sizes_[depth] = count;
    return sizes_[depth] == count;
  }

  static constexpr size_t kUnknown = ~size_t(0);
  const char* p_;
  const char* end_;
  size_t rank_ = 0;
  std::vector<size_t> sizes_;
};

}  // namespace

namespace detail {

bool read_stan_json_fast(std::string_view text, std::vector<StanJsonValue>& vars) {
  vars.clear();
  return FastReader(text).read(vars);
}

}  // namespace detail
}  // namespace exmc::io
