// CmdStan CSV writer: comment header, column names, adaptation block, rows, timing footer.
#include "exmc/io/cmdstan_csv_writer.hpp"

#include "exmc/io/format_number.hpp"
#include "exmc/io/run_checkpoint.hpp"
#include "exmc/io/temporaries.hpp"
#include "exmc/core/state_io.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

namespace exmc::io {

namespace {
std::string dflt(bool is_default) { return is_default ? " (Default)" : ""; }
std::string hex(uint64_t v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%0*llx", digits, static_cast<unsigned long long>(v));
  return b;
}

// A temporary of this writer's own beside `path` (same folder, so the final rename is atomic),
// created exclusively: two runs with one output, or a stale temporary of a killed run, can never
// end up writing into one file. The suffix is random; O_EXCL makes a collision a retry, not a
// shared file.
FILE* open_unique_temp(const std::string& path, std::string* tmp) {
  std::random_device rd;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const uint64_t r = (uint64_t{rd()} << 32) ^ rd() ^ (uint64_t(::getpid()) << 16);
    *tmp = path + "." + hex(r, 16) + ".tmp";
    // Tracked from its creation on: Ctrl-C in a method command removes it (io/temporaries.hpp).
    const int fd = create_tracked_temporary(*tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      throw std::runtime_error("cannot create " + *tmp + " (the temporary of " + path +
                               "): " + std::strerror(errno));
    }
    FILE* f = ::fdopen(fd, "w");
    if (!f) {
      const int e = errno;
      ::close(fd);
      std::remove(tmp->c_str());
      untrack_temporary(*tmp);
      throw std::runtime_error("cannot open " + *tmp + " for writing: " + std::strerror(e));
    }
    return f;
  }
  throw std::runtime_error("cannot create a unique temporary beside " + path);
}

}  // namespace

std::string new_run_id() {
  std::random_device rd;
  return hex((uint64_t{rd()} << 32) ^ rd(), 16);
}

namespace {

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}
}  // namespace

CmdStanCsvWriter::CmdStanCsvWriter(std::string path, const CmdStanCsvHeader& h,
                                   const std::vector<std::string>& stat_names,
                                   const std::vector<std::string>& param_names)
    : path_(std::move(path)), n_stats_(stat_names.size()), n_params_(param_names.size()) {
  set_precision(h.sig_figs);
  f_ = open_unique_temp(path_, &tmp_);
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 16);

  std::string s;
  auto line = [&](const std::string& l) { s += "# " + l + "\n"; };
  line("stan_version_major = 2");
  line("stan_version_minor = 36");
  line("stan_version_patch = 0");
  line("model = " + h.model);
  if (h.method_block.empty()) {
    line("method = sample (Default)");
    line("  sample");
    line("    num_samples = " + std::to_string(h.num_samples) + dflt(h.num_samples == 1000));
    line("    num_warmup = " + std::to_string(h.num_warmup) + dflt(h.num_warmup == 1000));
    line("    save_warmup = " + std::to_string(h.save_warmup ? 1 : 0) + dflt(!h.save_warmup));
    line("    thin = " + std::to_string(h.thin) + dflt(h.thin == 1));
    line("    adapt");
    line("      engaged = " + std::to_string(h.adapt_engaged ? 1 : 0) + dflt(h.adapt_engaged));
    line("      gamma = " + num(h.gamma) + dflt(h.gamma == 0.05));
    line("      delta = " + num(h.delta) + dflt(h.delta == 0.8));
    line("      kappa = " + num(h.kappa) + dflt(h.kappa == 0.75));
    line("      t0 = " + num(h.t0) + dflt(h.t0 == 10));
    line("      init_buffer = " + std::to_string(h.init_buffer) + dflt(h.init_buffer == 75));
    line("      term_buffer = " + std::to_string(h.term_buffer) + dflt(h.term_buffer == 50));
    line("      window = " + std::to_string(h.window) + dflt(h.window == 25));
    if (h.fixed_param) {
      line("    algorithm = fixed_param");
    } else {
      line("    algorithm = hmc (Default)");
      line("      hmc");
      line("        engine = nuts (Default)");
      line("          nuts");
      line("            max_depth = " + std::to_string(h.max_depth) + dflt(h.max_depth == 10));
      line("        metric = " + h.metric + dflt(h.metric == "diag_e"));
      line("        metric_file = " + h.metric_file + dflt(h.metric_file.empty()));
      line("        stepsize = " + num(h.stepsize) + dflt(h.stepsize == 1));
      line("        stepsize_jitter = " + num(h.stepsize_jitter) + dflt(h.stepsize_jitter == 0));
    }
    line("    num_chains = " + std::to_string(h.num_chains) + dflt(h.num_chains == 1));
  } else {
    for (const auto& l : h.method_block) line(l);
  }
  line("id = " + std::to_string(h.id) + dflt(h.id == 1));
  line("data");
  line("  file = " + h.data_file);
  line("init = " + h.init + dflt(h.init == "2"));
  line("random");
  line("  seed = " + std::to_string(h.seed));
  line("output");
  line("  file = " + (h.output_file.empty() ? path_ : h.output_file));
  line("  diagnostic_file =  (Default)");
  line("  refresh = 100 (Default)");
  line("  sig_figs = " + std::to_string(h.sig_figs) + dflt(h.sig_figs == -1));
  if (!h.run_id.empty()) line("exmc_run_id = " + h.run_id);
  for (const auto& [k, v] : h.extra) line(k + " = " + v);
  bool first = true;
  for (const auto* names : {&stat_names, &param_names})
    for (const auto& n : *names) {
      if (!first) s += ",";
      s += n;
      first = false;
    }
  s += "\n";
  std::fputs(s.c_str(), f_);
  check_io("writing the header");
}

CmdStanCsvWriter::CmdStanCsvWriter(std::string path, const Continue& from, const CmdStanCsvHeader& h,
                                   const std::vector<std::string>& stat_names,
                                   const std::vector<std::string>& param_names)
    : path_(std::move(path)), tmp_(from.temp_path), n_stats_(stat_names.size()), n_params_(param_names.size()),
      rows_(from.rows) {
  set_precision(h.sig_figs);
  const int fd = ::open(tmp_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT && ::access(path_.c_str(), F_OK) == 0) {
      finished_ = true;  // completed and renamed before the interruption
      return;
    }
    // Gone (deleted since): the chain's checkpoint describes draws no longer there, so only
    // starting it again can help; say how, as the message alone left the user stuck.
    const std::string what_to_do =
        e != ENOENT ? ""
                    : "; remove " + checkpoint_path(path_) +
                          " to start that chain afresh, or run without --resume to start the whole run afresh";
    throw std::runtime_error("cannot continue " + tmp_ + " (the interrupted run's draws for " + path_ +
                             "): " + std::strerror(e) + what_to_do);
  }
  // Locked as a fresh temporary is (io/temporaries.hpp), for as long as this writer holds it: a
  // second --resume of this output at the same time cut it back and wrote its rows into it too,
  // and a plain run's sweep took it for an abandoned one and removed it.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK)
      throw std::runtime_error("cannot continue " + tmp_ + " (the interrupted run's draws for " + path_ +
                               "): another process is writing it, probably another exmc sample --resume of this "
                               "output; left as it is");
    throw std::runtime_error("cannot lock " + tmp_ + ": " + std::strerror(e));
  }
  // Still the temporary (not renamed into place by a writer that finished between the open and
  // the lock): cut back and continued, a completed file would lose its footer.
  struct stat held{}, named{};
  if (::fstat(fd, &held) != 0 || ::stat(tmp_.c_str(), &named) != 0 || held.st_ino != named.st_ino ||
      held.st_dev != named.st_dev) {
    ::close(fd);
    if (::access(tmp_.c_str(), F_OK) != 0 && ::access(path_.c_str(), F_OK) == 0) {
      finished_ = true;  // another process completed it meanwhile
      return;
    }
    throw std::runtime_error("cannot continue " + tmp_ + " (the interrupted run's draws for " + path_ +
                             "): it was replaced while being opened; left as it is");
  }
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0 || uint64_t(size) < from.offset) {
    ::close(fd);
    throw std::runtime_error(tmp_ + " holds " + std::to_string(size) + " bytes, fewer than the " +
                             std::to_string(from.offset) + " its checkpoint saw written");
  }
  hashed_bytes_ = 0;
  if (!hash_range(fd, from.offset)) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error("cannot read " + tmp_ + ": " + std::strerror(e));
  }
  if (content_hash_ != from.content_hash) {
    ::close(fd);
    throw std::runtime_error(tmp_ + " (the interrupted run's draws for " + path_ +
                             ") was changed since its checkpoint: its first " + std::to_string(from.offset) +
                             " bytes are not those the run wrote; remove " + checkpoint_path(path_) +
                             " to start that chain afresh, or run without --resume to start the whole run afresh");
  }
  if (::ftruncate(fd, off_t(from.offset)) != 0 || ::lseek(fd, 0, SEEK_END) != off_t(from.offset)) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error("cannot cut " + tmp_ + " back to its checkpoint: " + std::strerror(e));
  }
  f_ = ::fdopen(fd, "w");
  if (!f_) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error("cannot open " + tmp_ + " for writing: " + std::strerror(e));
  }
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 16);
}

uint64_t CmdStanCsvWriter::sync() {
  if (!f_) return 0;
  std::fflush(f_);
  check_io("writing draws");
  const int fd = ::fileno(f_);
  if (::fdatasync(fd) != 0)
    throw std::runtime_error("cannot sync " + tmp_ + " to disk: " + std::strerror(errno));
  const off_t end = ::lseek(fd, 0, SEEK_CUR);
  if (end < 0) throw std::runtime_error("cannot tell the size of " + tmp_ + ": " + std::strerror(errno));
  return uint64_t(end);
}

uint64_t CmdStanCsvWriter::content_hash() {
  if (f_ && !hash_range(::fileno(f_), uint64_t(::lseek(::fileno(f_), 0, SEEK_CUR))))
    throw std::runtime_error("cannot read back " + tmp_ + ": " + std::strerror(errno));
  return content_hash_;
}

bool CmdStanCsvWriter::hash_range(int fd, uint64_t end) {
  char buf[1 << 16];
  while (hashed_bytes_ < end) {
    const size_t want = size_t(std::min<uint64_t>(sizeof buf, end - hashed_bytes_));
    const ssize_t got = ::pread(fd, buf, want, off_t(hashed_bytes_));
    if (got <= 0) return false;
    content_hash_ = fnv1a64(std::string_view(buf, size_t(got)), content_hash_);
    hashed_bytes_ += uint64_t(got);
  }
  return true;
}

CmdStanCsvWriter::~CmdStanCsvWriter() {
  if (f_) std::fclose(f_);
  if (!finished_) std::remove(tmp_.c_str());
  untrack_temporary(tmp_);
}

void CmdStanCsvWriter::check_io(const char* what) {
  if (std::ferror(f_)) {
    io_failed_ = true;
    throw std::runtime_error("I/O error " + std::string(what) + " in " + tmp_ + ": " +
                             std::strerror(errno));
  }
}

void CmdStanCsvWriter::set_precision(int sig_figs) {
  if (sig_figs > 18)
    throw std::invalid_argument("significant digits must be at most 18 (17 keeps every double), got " +
                                std::to_string(sig_figs));
  // CmdStan sets its stream's precision to any sig_figs >= 0, and precision 0 in %g means 1
  // digit: 0 wrote 6 digits under a header saying sig_figs = 0.
  precision_ = sig_figs >= 0 ? std::max(sig_figs, 1) : 6;
  std::snprintf(fmt_, sizeof fmt_, "%%.%dg", precision_);
  row_.assign((n_stats_ + n_params_) * (kMaxFormattedChars + 1) + 1, '\0');
}

void CmdStanCsvWriter::write_draw(const double* stats, const double* values) {
  // One row is formatted in memory and written with one call: a stdio call per value and per
  // comma took the stream's lock each time (12% of sampling time on a 10-parameter model).
  // format_g writes printf's %.{p}g text without printf (format_number.hpp): the sampling loop's
  // largest cost after the gradient on models with many outputs.
  char* out = row_.data();
  for (size_t i = 0; i < n_stats_; ++i) {
    if (i) *out++ = ',';
    out = format_g(out, stats[i], precision_);
  }
  for (size_t i = 0; i < n_params_; ++i) {
    if (i || n_stats_) *out++ = ',';
    out = format_g(out, values[i], precision_);
  }
  *out++ = '\n';
  std::fwrite(row_.data(), 1, size_t(out - row_.data()), f_);
  ++rows_;
  if (rows_ % 256 == 0) check_io("writing draws");
}

void CmdStanCsvWriter::write_adaptation(double step_size, bool dense,
                                        const std::vector<double>& inv, size_t d) {
  std::fputs("# Adaptation terminated\n# Step size = ", f_);
  std::fprintf(f_, fmt_, step_size);
  std::fputs(dense ? "\n# Elements of inverse mass matrix:\n"
                   : "\n# Diagonal elements of inverse mass matrix:\n",
             f_);
  // Formatted by format_g (printf's %.{p}g text) into one line, written with one call: three
  // stdio calls per value took 6 s for a 4,000-dimension dense metric (16 million values).
  const size_t rows = dense ? d : 1;
  std::vector<char> line(d * (kMaxFormattedChars + 2) + 3);
  for (size_t r = 0; r < rows; ++r) {
    char* out = line.data();
    *out++ = '#';
    *out++ = ' ';
    for (size_t k = 0; k < d; ++k) {
      if (k) {
        *out++ = ',';
        *out++ = ' ';
      }
      out = format_g(out, dense ? inv[k * d + r] : inv[k], precision_);
    }
    *out++ = '\n';
    std::fwrite(line.data(), 1, size_t(out - line.data()), f_);
  }
  check_io("writing the adaptation block");
}

void CmdStanCsvWriter::flush() { std::fflush(f_); }

void CmdStanCsvWriter::close_incomplete() {
  if (finished_ || !f_) return;
  std::fclose(f_);
  f_ = nullptr;
  finished_ = true;  // keeps the temporary file
  untrack_temporary(tmp_);
}

void CmdStanCsvWriter::finish(double warmup_seconds, double sampling_seconds) {
  if (finished_) return;
  std::fprintf(f_, "# \n#  Elapsed Time: %g seconds (Warm-up)\n", warmup_seconds);
  std::fprintf(f_, "#                %g seconds (Sampling)\n", sampling_seconds);
  std::fprintf(f_, "#                %g seconds (Total)\n# \n", warmup_seconds + sampling_seconds);
  close_and_rename();
}

void CmdStanCsvWriter::finish(double seconds) {
  if (finished_) return;
  std::fprintf(f_, "# \n#  Elapsed Time: %g seconds\n# \n", seconds);
  close_and_rename();
}

void CmdStanCsvWriter::close_and_rename() {
  check_io("writing the timing footer");
  if (std::fflush(f_) != 0) {
    io_failed_ = true;
    throw std::runtime_error("I/O error writing " + tmp_ + ": " + std::strerror(errno));
  }
  // Renamed while still open, so still locked: a --resume of this output that opened the
  // temporary meanwhile gets its lock only once the name is gone, and never cuts back a
  // completed file (cmdstan_csv_writer.hpp, Continue).
  if (rename_tracked_temporary(tmp_, path_) != 0)
    throw std::runtime_error("cannot rename " + tmp_ + " to " + path_ + ": " +
                             std::strerror(errno));
  finished_ = true;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!closed) {
    // Every byte was handed to the kernel by the fflush above; a close that still fails (a
    // network file system's late write error) leaves a file that must not pass for complete.
    const int e = errno;
    io_failed_ = true;
    std::remove(path_.c_str());
    throw std::runtime_error("I/O error closing " + path_ + ": " + std::strerror(e));
  }
}

}  // namespace exmc::io
