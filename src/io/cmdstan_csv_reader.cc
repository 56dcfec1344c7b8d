// Parses CmdStan CSV output: '#' comments (config, adaptation, timing), one header row, numbers.
#include "exmc/io/cmdstan_csv_reader.hpp"

#include "exmc/io/file_bytes.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

namespace exmc::io {
namespace {

[[noreturn]] void fail(const std::string& path, size_t line, const std::string& what) {
  throw std::runtime_error(path + ":" + std::to_string(line) + ": " + what);
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// A "key = value" comment's entry ("(Default)" dropped); the first occurrence of a key stands.
void add_config_entry(const std::string& body, std::map<std::string, std::string>& config) {
  const size_t eq = body.find('=');
  if (eq == std::string::npos) return;
  std::string key = trim(body.substr(0, eq));
  std::string value = trim(body.substr(eq + 1));
  const size_t def = value.find("(Default)");
  if (def != std::string::npos) value = trim(value.substr(0, def));
  if (!key.empty()) config.emplace(std::move(key), std::move(value));
}

// Numbers as CmdStan writes them, plus the spellings of non-finite values it and R use.
bool parse_number(const std::string& field, double* out) {
  const std::string f = trim(field);
  if (f.empty()) return false;
  if (f == "nan" || f == "NaN" || f == "NA" || f == "-nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (f == "inf" || f == "Inf" || f == "+inf") { *out = std::numeric_limits<double>::infinity(); return true; }
  if (f == "-inf" || f == "-Inf") { *out = -std::numeric_limits<double>::infinity(); return true; }
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(f.c_str(), &end);
  if (end != f.c_str() + f.size()) return false;
  *out = v;
  return true;
}

// A data row's fields into `values`: parsed in place with from_chars (correctly rounded, as
// strtod), a field it does not take whole ("+1", "NA", "1e999", spaces) by parse_number. The
// substrings, trims and strtod calls per value were most of `exmc summary`'s reading time.
// Returns the 0-based index of the first field that is not a number, or -1.
long parse_row(std::string_view line, std::vector<double>& values) {
  size_t start = 0;
  for (long i = 0;; ++i) {
    const size_t comma = line.find(',', start);
    const std::string_view field = line.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                      : comma - start);
    double v;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
    if (ec != std::errc() || end != field.data() + field.size() || field.empty()) {
      if (!parse_number(std::string(field), &v)) return i;
    }
    values.push_back(v);
    if (comma == std::string_view::npos) return -1;
    start = comma + 1;
  }
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(',', start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

}  // namespace

long CmdStanCsv::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<long>(i);
  return -1;
}

CmdStanCsv parse_cmdstan_csv(const std::string& text, const std::string& path) {
  CmdStanCsv out;
  out.path = path;
  // A UTF-8 byte order mark (a file saved by a spreadsheet or Windows editor) would otherwise
  // become part of the first column's name: "\xEF\xBB\xBFlp__" is not lp__.
  const bool bom = text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0;
  // Lines are taken from the text in place (a stream over a copy of it doubled the memory a
  // large file takes while it is read).
  size_t next = bom ? 3 : 0;
  const auto getline = [&](std::string& line) {
    if (next >= text.size()) return false;
    const size_t nl = text.find('\n', next);
    const size_t end = nl == std::string::npos ? text.size() : nl;
    line.assign(text, next, end - next);
    next = end + 1;
    return true;
  };
  std::string line;
  size_t lineno = 0;
  bool have_header = false;
  // Adaptation block state: after "Adaptation terminated" come the step size, a title line,
  // then one line of metric values (diag_e) or d lines (dense_e).
  enum { None, AfterTerminated, InMetric } adapt = None;
  while (getline(line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '#') {
      const std::string body = trim(line.substr(1));
      if (body == "Adaptation terminated") {
        // A second one would move the draws back among the warmup rows (save_warmup = 1) or
        // mix two adaptations' step sizes and metrics: not one chain's file.
        if (out.has_adaptation)
          fail(path, lineno, "a second '# Adaptation terminated' line (one chain per file)");
        adapt = AfterTerminated;
        out.has_adaptation = true;
        const auto sw = out.config.find("save_warmup");
        if (sw != out.config.end() && (sw->second == "1" || sw->second == "true")) {
          out.num_warmup_rows = out.num_rows;
          out.warmup_values.swap(out.values);
          out.num_rows = 0;
        }
        continue;
      }
      if (adapt == AfterTerminated) {
        if (body.rfind("Step size =", 0) == 0) {
          if (!parse_number(body.substr(11), &out.step_size))
            fail(path, lineno, "step size '" + trim(body.substr(11)) + "' is not a number");
        } else if (body.find("inverse mass matrix") != std::string::npos) {
          out.dense_metric = body.rfind("Diagonal", 0) != 0;
          adapt = InMetric;
        }
        continue;
      }
      if (adapt == InMetric) {
        if (body.empty() || body.find_first_of("0123456789") == std::string::npos ||
            body.find('=') != std::string::npos || body.find(':') != std::string::npos) {
          adapt = None;
        } else {
          for (const std::string& f : split_commas(body)) {
            double v;
            if (!parse_number(f, &v))
              fail(path, lineno, "inverse metric entry '" + trim(f) + "' is not a number");
            out.inv_metric.push_back(v);
          }
          if (!out.dense_metric) adapt = None;
          continue;
        }
      }
      add_config_entry(body, out.config);
      continue;
    }
    if (!have_header) {
      out.columns = split_commas(line);
      // Compared by a map, not pairwise: bym2's 11,537 columns made 66 million comparisons.
      std::unordered_map<std::string_view, size_t> first;
      first.reserve(out.columns.size());
      for (auto& c : out.columns) c = trim(c);
      for (size_t i = 0; i < out.columns.size(); ++i) {
        if (out.columns[i].empty())
          fail(path, lineno, "header column " + std::to_string(i + 1) + " has no name");
        // A repeated name (columns pasted together by hand) made two summary rows of one name,
        // and every lookup by name (log_lik, lp__, the sampler columns) silently took the first.
        const auto [it, fresh] = first.emplace(out.columns[i], i);
        if (!fresh)
          fail(path, lineno, "header columns " + std::to_string(it->second + 1) + " and " + std::to_string(i + 1) +
                                 " are both named '" + out.columns[i] + "'");
      }
      have_header = true;
      continue;
    }
    const size_t num_fields = size_t(std::count(line.begin(), line.end(), ',')) + 1;
    if (num_fields != out.columns.size())
      fail(path, lineno, "row has " + std::to_string(num_fields) + " fields, the header has " +
                             std::to_string(out.columns.size()));
    if (const long bad = parse_row(line, out.values); bad >= 0) {
      const std::vector<std::string> fields = split_commas(line);
      fail(path, lineno, "column " + std::to_string(bad + 1) + " (" + out.columns[size_t(bad)] + "): '" +
                             trim(fields[size_t(bad)]) + "' is not a number");
    }
    ++out.num_rows;
  }
  if (!have_header) {
    // "file:0:" named no line of an empty file.
    if (lineno == 0) throw std::runtime_error(path + ": the file is empty (a CmdStan CSV starts with its header)");
    fail(path, lineno, "no header row (column names) found");
  }
  // CmdStan's variational output starts with the approximation's mean, not a draw.
  const auto method = out.config.find("method");
  if (method != out.config.end() && method->second == "variational" && out.num_rows > 0) {
    const auto first_row_end = out.values.begin() + std::ptrdiff_t(out.columns.size());
    out.approximation_mean.assign(out.values.begin(), first_row_end);
    out.values.erase(out.values.begin(), first_row_end);
    --out.num_rows;
  }
  return out;
}

CmdStanCsv read_cmdstan_csv(const std::string& path) {
  std::string text;
  if (!read_file_bytes(path, text)) throw std::runtime_error(path + ": cannot open file for reading");
  return parse_cmdstan_csv(text, path);
}

std::map<std::string, std::string> read_cmdstan_csv_config(const std::string& path) {
  std::map<std::string, std::string> config;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line) && !line.empty() && line[0] == '#') add_config_entry(trim(line.substr(1)), config);
  return config;
}

}  // namespace exmc::io
