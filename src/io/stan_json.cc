// Stan JSON reader: nested rectangular arrays flattened row-major, with NaN/Inf strings or tokens.
#include "exmc/io/stan_json.hpp"

#include "exmc/io/file_bytes.hpp"
#include "stan_json_tokens.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace exmc::io {
namespace {

using detail::bare_non_finite_at;
using detail::special_number;
using nlohmann::json;

std::string shape_str(const std::vector<size_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

struct Flattener {
  const std::string& source;
  const std::string& name;
  StanJsonValue& out;
  bool dims_fixed = false;  // set once the first leaf fixed the shape

  [[noreturn]] void fail(const std::string& what) const {
    throw StanJsonError(fmt::format("{}: variable '{}': {}", source, name, what));
  }

  std::string where(const std::vector<size_t>& path) const {
    if (path.empty()) return "";
    std::string s = " at [";
    for (size_t i = 0; i < path.size(); ++i) s += (i ? "," : "") + std::to_string(path[i] + 1);
    return s + "]";
  }

  void leaf(const json& j, const std::vector<size_t>& path) {
    double v = 0;
    bool integer = false;
    if (j.is_number_integer() || j.is_number_unsigned()) {
      integer = true;
      v = j.is_number_unsigned() ? static_cast<double>(j.get<uint64_t>())
                                 : static_cast<double>(j.get<int64_t>());
    } else if (j.is_number_float()) {
      v = j.get<double>();
    } else if (j.is_string() && special_number(j.get<std::string>(), &v)) {
    } else if (j.is_boolean()) {
      // As CmdStan's reader. The interfaces convert before writing (cmdstanpy, cmdstanr and
      // exmc's Python module take True/False as 1/0); a file is read as it is, but says how.
      fail("expected a number, found boolean" + where(path) +
           " (Stan has no bool type: write 1 for true, 0 for false)");
    } else if (j.is_null()) {
      fail("expected a number, found null" + where(path));
    } else if (j.is_object()) {
      fail("expected a number or array, found an object" + where(path));
    } else {
      fail(fmt::format("expected a number, found \"{}\"{}", j.get<std::string>(), where(path)));
    }
    if (!integer) out.is_integer = false;
    out.values.push_back(v);
  }

  // The shape of an array is fixed by its first path to a leaf; every other sub-array must
  // match it, which rejects ragged arrays with the index where the mismatch occurs.
  void walk(const json& j, std::vector<size_t>& path) {
    const size_t depth = path.size();
    if (!j.is_array()) {
      if (dims_fixed && depth != out.dims.size())
        fail(fmt::format("ragged array: expected {} nested levels, found a number{}",
                         out.dims.size(), where(path)));
      dims_fixed = true;
      leaf(j, path);
      return;
    }
    if (!dims_fixed) {
      out.dims.push_back(j.size());
      if (j.empty()) {
        dims_fixed = true;
        return;
      }
    } else {
      if (depth >= out.dims.size())
        fail(fmt::format("ragged array: expected a number, found an array{}", where(path)));
      if (out.dims[depth] != j.size())
        fail(fmt::format("ragged array: expected {} elements, found {}{} (shape {})",
                         out.dims[depth], j.size(), where(path), shape_str(out.dims)));
      if (j.empty()) return;
    }
    for (size_t i = 0; i < j.size(); ++i) {
      path.push_back(i);
      walk(j[i], path);
      path.pop_back();
    }
  }
};

// nlohmann's parser refuses bare NaN and Infinity, so the general reader quotes each that stands
// where a value goes (after ':', '[', or ',' inside an array: never a key, never the whole
// document) and then reads it as the string, which special_number takes. `quoted` gets the
// offset in `text` of each token quoted, for mapping a parse error's position back.
std::string quote_bare_non_finite(const std::string& text, std::vector<size_t>& quoted) {
  std::string out;
  std::vector<char> open;  // '{' or '[' per container entered
  char prev = 0;           // the last structural character (or 'v' after a value's first byte)
  bool in_string = false;
  size_t copied = 0;       // text[0, copied) is in out
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; prev = 'v'; continue;
      case '{': case '[': open.push_back(c); prev = c; continue;
      case '}': case ']': if (!open.empty()) open.pop_back(); prev = c; continue;
      case ':': case ',': prev = c; continue;
      case ' ': case '\n': case '\t': case '\r': continue;
      default: break;
    }
    const bool value_position = prev == ':' || prev == '[' || (prev == ',' && !open.empty() && open.back() == '[');
    prev = 'v';
    if (!value_position) continue;
    const std::string_view token = bare_non_finite_at(text, i);
    if (token.empty()) continue;
    out.append(text, copied, i - copied);
    out += '"';
    out += token;
    out += '"';
    quoted.push_back(i);
    i += token.size() - 1;
    copied = i + 1;
  }
  if (quoted.empty()) return text;
  out.append(text, copied, std::string::npos);
  return out;
}

std::string line_col(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < std::min(byte, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return fmt::format("{}:{}", line, col > 1 ? col - 1 : 1);
}

}  // namespace

double StanJsonValue::at(const std::vector<size_t>& index) const {
  if (index.size() != dims.size())
    throw StanJsonError(fmt::format("variable '{}': index of rank {} for a value of shape {}",
                                    name, index.size(), shape_str(dims)));
  size_t flat = 0;
  for (size_t k = 0; k < dims.size(); ++k) {
    if (index[k] >= dims[k])
      throw StanJsonError(fmt::format("variable '{}': index {} out of range for shape {}", name,
                                      index[k] + 1, shape_str(dims)));
    flat = flat * dims[k] + index[k];
  }
  return values[flat];
}

std::vector<double> StanJsonValue::column_major() const { return to_column_major(values, dims); }

double StanJsonValue::as_double() const {
  if (!is_scalar())
    throw StanJsonError(
        fmt::format("variable '{}': expected a scalar, found shape {}", name, shape_str(dims)));
  return values[0];
}

int64_t StanJsonValue::as_int() const {
  const double v = as_double();
  if (!(std::nearbyint(v) == v) || std::fabs(v) > 9007199254740992.0)
    throw StanJsonError(fmt::format("variable '{}': expected an integer, found {}", name, v));
  return static_cast<int64_t>(v);
}

std::vector<int64_t> StanJsonValue::as_ints() const {
  std::vector<int64_t> r;
  r.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!(std::nearbyint(v) == v) || std::fabs(v) > 9007199254740992.0)
      throw StanJsonError(fmt::format("variable '{}': expected integers, found {} at element {}",
                                      name, v, i + 1));
    r.push_back(static_cast<int64_t>(v));
  }
  return r;
}

namespace {
// Permutes between the two orders; `to_col` picks the direction.
std::vector<double> permute(const std::vector<double>& in, const std::vector<size_t>& dims,
                            bool to_col) {
  if (dims.size() <= 1) return in;
  size_t n = 1;
  for (size_t d : dims) n *= d;
  if (n != in.size())
    throw StanJsonError(fmt::format("reorder: {} values for shape {}", in.size(), shape_str(dims)));
  std::vector<double> out(n);
  const size_t r = dims.size();
  std::vector<size_t> idx(r, 0);
  // Walk in row-major order; compute the column-major offset incrementally via strides.
  std::vector<size_t> cstride(r);
  size_t s = 1;
  for (size_t k = 0; k < r; ++k) {
    cstride[k] = s;
    s *= dims[k];
  }
  for (size_t i = 0; i < n; ++i) {
    size_t c = 0;
    for (size_t k = 0; k < r; ++k) c += idx[k] * cstride[k];
    if (to_col) {
      out[c] = in[i];
    } else {
      out[i] = in[c];
    }
    for (size_t k = r; k-- > 0;) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}
}  // namespace

std::vector<double> to_column_major(const std::vector<double>& row_major,
                                    const std::vector<size_t>& dims) {
  return permute(row_major, dims, true);
}

std::vector<double> to_row_major(const std::vector<double>& column_major,
                                 const std::vector<size_t>& dims) {
  return permute(column_major, dims, false);
}

StanJsonData StanJsonData::from_file(const std::string& path) {
  // "cannot open data file" was said of --init and --mode files too, and of a directory.
  if (std::error_code ec; std::filesystem::is_directory(path, ec))
    throw StanJsonError(fmt::format("{}: cannot read it: a directory, not a file", path));
  const int before = errno;
  errno = 0;
  const auto bytes = FileBytes::open(path);
  if (!bytes)
    throw StanJsonError(fmt::format("{}: cannot read it{}", path, errno ? std::string(": ") + std::strerror(errno) : ""));
  errno = before;
  return from_string(bytes->view(), path);
}

namespace detail {

StanJsonData read_stan_json_general(const std::string& text, const std::string& source) {
  // nlohmann's words for an empty file: "syntax error while parsing value - unexpected end of
  // input; expected '[', '{', or a literal".
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw StanJsonError(fmt::format("{}: the file is empty (Stan JSON is an object: {{\"name\": value, ...}})", source));
  // Checked while parsing, through nlohmann's parser callback:
  // - nesting depth: the reader below (and the parsed value's destructor) recurse once per
  //   level, so input nested 100,000 deep overflowed the stack; Stan values need a few levels;
  // - duplicate keys: nlohmann keeps the last value silently, which would read data other than
  //   what the file's first occurrence says.
  std::vector<std::set<std::string>> keys;  // one set per object being parsed
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth)
          throw StanJsonError(fmt::format("{}: JSON nested deeper than {} levels (arrays or objects)",
                                          source, kMaxJsonDepth));
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::key: {
        const auto& k = parsed.get_ref<const std::string&>();
        if (!keys.empty() && !keys.back().insert(k).second)
          throw StanJsonError(keys.size() == 1
                                  ? fmt::format("{}: duplicate key '{}': variable '{}' is given twice", source, k, k)
                                  : fmt::format("{}: duplicate key '{}' in a nested object", source, k));
        break;
      }
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  json j;
  std::vector<size_t> quoted;  // bare NaN / Infinity tokens quoted for nlohmann
  try {
    j = json::parse(quote_bare_non_finite(text, quoted), check);
  } catch (const json::parse_error& e) {
    std::string msg = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line L, column C: ".
    const auto colon = msg.find(": ", msg.find("parse error"));
    if (colon != std::string::npos) msg = msg.substr(colon + 2);
    // Its position counts the 2 quotes added around each token before it.
    size_t byte = e.byte;
    for (size_t k = 0; k < quoted.size() && quoted[k] + 2 * k < e.byte; ++k) byte -= std::min<size_t>(byte, 2);
    throw StanJsonError(
        fmt::format("{}:{}: invalid JSON: {}", source, line_col(text, byte), msg));
  } catch (const json::out_of_range& e) {
    // A number beyond the double range (1e400) is not a parse_error to nlohmann: its raw
    // "[json.exception.out_of_range.406] number overflow parsing '1e400'" named no file.
    const std::string msg = e.what();
    const auto q = msg.find('\'');
    const std::string token = q == std::string::npos ? "" : msg.substr(q + 1, msg.rfind('\'') - q - 1);
    const size_t at = token.empty() ? std::string::npos : text.find(token);
    throw StanJsonError(fmt::format("{}{}: number {} is beyond the range of a double", source,
                                    at == std::string::npos ? "" : ":" + line_col(text, at + 1),
                                    token.empty() ? "(unknown)" : token));
  }
  if (!j.is_object())
    throw StanJsonError(fmt::format("{}: Stan JSON data must be an object {{\"name\": value, ...}}",
                                    source));
  StanJsonData d;
  d.source_ = source;
  for (auto it = j.begin(); it != j.end(); ++it) {
    StanJsonValue v;
    v.name = it.key();
    Flattener f{source, v.name, v};
    std::vector<size_t> path;
    f.walk(it.value(), path);
    d.vars_.emplace(v.name, std::move(v));
  }
  return d;
}

}  // namespace detail

StanJsonData StanJsonData::from_string(std::string_view text, const std::string& source) {
  std::vector<StanJsonValue> vars;
  if (detail::read_stan_json_fast(text, vars)) {
    StanJsonData d;
    d.source_ = source;
    bool duplicate = false;
    for (auto& v : vars) duplicate = duplicate || !d.vars_.emplace(v.name, std::move(v)).second;
    if (!duplicate) return d;  // a duplicate key is the general reader's error to report
  }
  return detail::read_stan_json_general(std::string(text), source);
}

const StanJsonValue& StanJsonData::at(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end())
    throw StanJsonError(fmt::format("{}: no variable '{}'", source_, name));
  return it->second;
}

const StanJsonValue* StanJsonData::find(const std::string& name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : &it->second;
}

std::vector<std::string> StanJsonData::names() const {
  std::vector<std::string> r;
  for (const auto& [k, _] : vars_) r.push_back(k);
  return r;
}

void StanJsonData::set(const std::string& name, std::vector<size_t> dims,
                       std::vector<double> values, bool is_integer) {
  size_t n = 1;
  for (size_t dd : dims) n *= dd;
  if (n != values.size())
    throw StanJsonError(fmt::format("variable '{}': {} values for shape {}", name, values.size(),
                                    shape_str(dims)));
  StanJsonValue v;
  v.name = name;
  v.dims = std::move(dims);
  v.values = std::move(values);
  v.is_integer = is_integer;
  vars_[name] = std::move(v);
}

}  // namespace exmc::io
