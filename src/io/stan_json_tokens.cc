#include "stan_json_tokens.hpp"

#include <cctype>
#include <limits>

namespace exmc::io::detail {
namespace {

// The non-finite values CmdStan's reader (rapidjson with kParseNanAndInfFlag) takes as bare
// tokens where a value goes; Python's json.dump writes NaN, Infinity and -Infinity so. Longest
// first, so that Infinity is not read as Inf followed by "inity".
constexpr std::string_view kBareNonFinite[] = {"-Infinity", "Infinity", "-Inf", "Inf", "NaN"};

bool ends_token(std::string_view text, size_t at) {
  if (at >= text.size()) return true;
  const char c = text[at];
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ',' || c == ']' || c == '}';
}

}  // namespace

// Stan writes non-finite values as strings; the spellings CmdStan accepts.
bool special_number(const std::string& s, double* out) {
  std::string t;
  for (char c : s) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const double inf = std::numeric_limits<double>::infinity();
  if (t == "nan" || t == "-nan" || t == "+nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
  } else if (t == "inf" || t == "infinity" || t == "+inf" || t == "+infinity") {
    *out = inf;
  } else if (t == "-inf" || t == "-infinity") {
    *out = -inf;
  } else {
    return false;
  }
  return true;
}

// The bare token of kBareNonFinite starting at text[at] and ending a token there, or "".
std::string_view bare_non_finite_at(std::string_view text, size_t at) {
  for (std::string_view t : kBareNonFinite)
    if (text.substr(at, t.size()) == t && ends_token(text, at + t.size())) return t;
  return {};
}

}  // namespace exmc::io::detail
