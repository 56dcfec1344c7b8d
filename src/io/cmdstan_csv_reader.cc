// Parses CmdStan CSV output: '#' comments (config, adaptation, timing), one header row, numbers.
#include "exmc/io/cmdstan_csv_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

// How many rows a file holds, counted before it is parsed so that the draws take one allocation
// of their final size: grown by doubling, 720 MB of draws passed through a 512 MB and a 1 GB
// block, both held while the one was copied into the other.
struct RowCount {
  size_t rows = 0;  // lines that are neither comments nor empty: the header and the data rows
  size_t rows_before_adaptation = 0;  // of those, the ones before "# Adaptation terminated"
  bool has_adaptation = false;
  void line(std::string_view l) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) return;
    if (l[0] != '#') {
      ++rows;
    } else if (!has_adaptation && l.size() < 64 && trim(std::string(l.substr(1))) == "Adaptation terminated") {
      has_adaptation = true;
      rows_before_adaptation = rows;
    }
  }
};

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// f(line) for each line of the text, without its '\n'. A UTF-8 byte order mark (a file saved by
// a spreadsheet or Windows editor) at the start is skipped: it would otherwise become part of the
// first column's name, and "\xEF\xBB\xBFlp__" is not lp__.
template <class F>
void each_line(std::string_view text, F&& f) {
  size_t next = text.substr(0, 3) == kBom ? 3 : 0;
  while (next < text.size()) {
    const size_t nl = text.find('\n', next);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    f(text.substr(next, end - next));
    next = end + 1;
  }
}

// The same for an open file read a block at a time, so that a large file's text is never in
// memory whole (it was, beside the draws parsed from it: 550 MB more for 10^7 draws). False on a
// read error.
template <class F>
bool each_line(int fd, F&& f) {
  constexpr size_t kBlock = size_t(1) << 20;
  std::string buf;
  bool first = true;
  for (;;) {
    const size_t kept = buf.size();  // the start of a line not yet ended: no '\n' in it
    buf.resize(kept + kBlock);
    ssize_t n;
    do n = ::read(fd, buf.data() + kept, kBlock);
    while (n < 0 && errno == EINTR);
    if (n < 0) return false;
    buf.resize(kept + size_t(n));
    size_t begin = 0;
    if (first) {
      // Too few bytes yet (a pipe) to tell a byte order mark from a line: read on.
      if (buf.size() < 3 && n != 0 && std::memchr(buf.data(), '\n', buf.size()) == nullptr) continue;
      if (std::string_view(buf).substr(0, 3) == kBom) begin = 3;
      first = false;
    }
    for (size_t scan = std::max(kept, begin);;) {
      const void* nl = std::memchr(buf.data() + scan, '\n', buf.size() - scan);
      if (nl == nullptr) break;
      const size_t end = size_t(static_cast<const char*>(nl) - buf.data());
      f(std::string_view(buf).substr(begin, end - begin));
      begin = scan = end + 1;
    }
    if (n == 0) {
      if (begin < buf.size()) f(std::string_view(buf).substr(begin));
      return true;
    }
    buf.erase(0, begin);
  }
}

// The parse of one file, given a line at a time.
class Parser {
 public:
  // count: the file's rows, to reserve the draws' room; null when not known (a pipe).
  Parser(const std::string& path, const RowCount* count) : count_(count) { out_.path = path; }

  void line(std::string_view text) {
    const std::string& path = out_.path;
    line_.assign(text);
    std::string& line = line_;
    ++lineno_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return;
    if (line[0] == '#') {
      comment(trim(line.substr(1)));
      return;
    }
    if (!have_header_) {
      header(line);
      return;
    }
    const size_t num_fields = size_t(std::count(line.begin(), line.end(), ',')) + 1;
    if (num_fields != out_.columns.size())
      fail(path, lineno_, "row has " + std::to_string(num_fields) + " fields, the header has " +
                              std::to_string(out_.columns.size()));
    if (const long bad = parse_row(line, out_.values); bad >= 0) {
      const std::vector<std::string> fields = split_commas(line);
      fail(path, lineno_, "column " + std::to_string(bad + 1) + " (" + out_.columns[size_t(bad)] + "): '" +
                              trim(fields[size_t(bad)]) + "' is not a number");
    }
    ++out_.num_rows;
  }

  CmdStanCsv finish() {
    if (!have_header_) {
      // "file:0:" named no line of an empty file.
      if (lineno_ == 0)
        throw std::runtime_error(out_.path + ": the file is empty (a CmdStan CSV starts with its header)");
      fail(out_.path, lineno_, "no header row (column names) found");
    }
    // CmdStan's variational output starts with the approximation's mean, not a draw.
    const auto method = out_.config.find("method");
    if (method != out_.config.end() && method->second == "variational" && out_.num_rows > 0) {
      const auto first_row_end = out_.values.begin() + std::ptrdiff_t(out_.columns.size());
      out_.approximation_mean.assign(out_.values.begin(), first_row_end);
      out_.values.erase(out_.values.begin(), first_row_end);
      --out_.num_rows;
    }
    return std::move(out_);
  }

 private:
  void comment(const std::string& body) {
    const std::string& path = out_.path;
    if (body == "Adaptation terminated") {
      // A second one would move the draws back among the warmup rows (save_warmup = 1) or
      // mix two adaptations' step sizes and metrics: not one chain's file.
      if (out_.has_adaptation) fail(path, lineno_, "a second '# Adaptation terminated' line (one chain per file)");
      adapt_ = AfterTerminated;
      out_.has_adaptation = true;
      if (save_warmup()) {
        out_.num_warmup_rows = out_.num_rows;
        out_.warmup_values.swap(out_.values);
        out_.num_rows = 0;
        if (count_ != nullptr) reserve_rows(count_->rows - count_->rows_before_adaptation);
      }
      return;
    }
    if (adapt_ == AfterTerminated) {
      if (body.rfind("Step size =", 0) == 0) {
        if (!parse_number(body.substr(11), &out_.step_size))
          fail(path, lineno_, "step size '" + trim(body.substr(11)) + "' is not a number");
      } else if (body.find("inverse mass matrix") != std::string::npos) {
        out_.dense_metric = body.rfind("Diagonal", 0) != 0;
        adapt_ = InMetric;
      }
      return;
    }
    if (adapt_ == InMetric) {
      if (body.empty() || body.find_first_of("0123456789") == std::string::npos ||
          body.find('=') != std::string::npos || body.find(':') != std::string::npos) {
        adapt_ = None;
      } else {
        for (const std::string& f : split_commas(body)) {
          double v;
          if (!parse_number(f, &v)) fail(path, lineno_, "inverse metric entry '" + trim(f) + "' is not a number");
          out_.inv_metric.push_back(v);
        }
        if (!out_.dense_metric) adapt_ = None;
        return;
      }
    }
    add_config_entry(body, out_.config);
  }

  void header(const std::string& line) {
    const std::string& path = out_.path;
    out_.columns = split_commas(line);
    // Compared by a map, not pairwise: bym2's 11,537 columns made 66 million comparisons.
    std::unordered_map<std::string_view, size_t> first;
    first.reserve(out_.columns.size());
    for (auto& c : out_.columns) c = trim(c);
    for (size_t i = 0; i < out_.columns.size(); ++i) {
      if (out_.columns[i].empty()) fail(path, lineno_, "header column " + std::to_string(i + 1) + " has no name");
      // A repeated name (columns pasted together by hand) made two summary rows of one name,
      // and every lookup by name (log_lik, lp__, the sampler columns) silently took the first.
      const auto [it, fresh] = first.emplace(out_.columns[i], i);
      if (!fresh)
        fail(path, lineno_, "header columns " + std::to_string(it->second + 1) + " and " + std::to_string(i + 1) +
                                " are both named '" + out_.columns[i] + "'");
    }
    have_header_ = true;
    // The header is one of the rows counted; with save_warmup the warmup rows come first, kept
    // apart when "# Adaptation terminated" comes.
    if (count_ != nullptr) {
      const size_t rows = save_warmup() && count_->has_adaptation ? count_->rows_before_adaptation : count_->rows;
      reserve_rows(rows > 0 ? rows - 1 : 0);
    }
  }

  bool save_warmup() const {
    const auto sw = out_.config.find("save_warmup");
    return sw != out_.config.end() && (sw->second == "1" || sw->second == "true");
  }
  // Reserved, not filled: pages not yet written take no memory, so a file whose later rows turn
  // out to be damaged costs nothing more than before.
  void reserve_rows(size_t rows) { out_.values.reserve(rows * out_.columns.size()); }

  const RowCount* count_;
  CmdStanCsv out_;
  std::string line_;
  size_t lineno_ = 0;
  bool have_header_ = false;
  // Adaptation block state: after "Adaptation terminated" come the step size, a title line,
  // then one line of metric values (diag_e) or d lines (dense_e).
  enum { None, AfterTerminated, InMetric } adapt_ = None;
};

struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

long CmdStanCsv::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<long>(i);
  return -1;
}

CmdStanCsv parse_cmdstan_csv(const std::string& text, const std::string& path) {
  RowCount count;
  each_line(text, [&](std::string_view l) { count.line(l); });
  Parser parser(path, &count);
  each_line(text, [&](std::string_view l) { parser.line(l); });
  return parser.finish();
}

CmdStanCsv read_cmdstan_csv(const std::string& path) {
  const std::string cannot = path + ": cannot open file for reading";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(cannot);
  const FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) throw std::runtime_error(cannot);
  // A regular file is read twice, the second time from the page cache (0.1 s a GB): once to count
  // its rows, once to parse them. Anything else (a pipe) is read once, its draws grown as they come.
  RowCount count;
  const bool counted = S_ISREG(st.st_mode);
  if (counted && (!each_line(fd, [&](std::string_view l) { count.line(l); }) || ::lseek(fd, 0, SEEK_SET) != 0))
    throw std::runtime_error(cannot);
  Parser parser(path, counted ? &count : nullptr);
  if (!each_line(fd, [&](std::string_view l) { parser.line(l); })) throw std::runtime_error(cannot);
  return parser.finish();
}

std::map<std::string, std::string> read_cmdstan_csv_config(const std::string& path) {
  std::map<std::string, std::string> config;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line) && !line.empty() && line[0] == '#') add_config_entry(trim(line.substr(1)), config);
  return config;
}

}  // namespace exmc::io
