// libFuzzer target: a metric file (`exmc sample --load-metric FILE.json`, written by
// --save-metric; CmdStan's metric files too) -> nuts::AdaptationState::load, then what a run
// does with it: the metric it stands for, its JSON written back (which must read back to the
// same bits), and, when small, a few iterations of a chain that starts from it (warm_start,
// no adaptation) on a standard normal of its dimension.
// A refusal must be a std::invalid_argument or std::runtime_error whose message names the file
// (exmc sample prints it as the run's error); anything else (a library's exception type with its
// own wording, a crash, a sanitizer report, a leak, a hang, a huge allocation) is a finding.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/runtime/run_chains.hpp"

namespace {

const std::string& as_file(const std::string& bytes) {
  static const int fd = memfd_create("metric", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    __builtin_trap();
  return path;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string& path = as_file(text);
  exmc::nuts::AdaptationState s;
  try {
    s = exmc::nuts::AdaptationState::load(path);
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).rfind(path + ": ", 0) != 0) __builtin_trap();
    return 0;
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find(path) == std::string::npos) __builtin_trap();
    return 0;
  } catch (...) {
    __builtin_trap();  // an exception exmc sample reports without the file's name
  }
  const size_t d = s.dim;
  if (s.inv_metric.size() != (s.metric_kind == exmc::nuts::MetricKind::Dense ? d * d : d)) __builtin_trap();
  if (!(s.step_size > 0)) __builtin_trap();
  // What --save-metric writes reads back to the same state, bit for bit.
  const auto again = exmc::nuts::AdaptationState::from_json(s.to_json());
  if (again.dim != d || again.metric_kind != s.metric_kind || !same_bits(again.inv_metric, s.inv_metric) ||
      std::memcmp(&again.step_size, &s.step_size, sizeof(double)) != 0)
    __builtin_trap();
  if (d == 0 || d > 16) return 0;
  const auto density = exmc::make_log_density(d, [d](const double* x, double* g) {
    double lp = 0;
    for (size_t i = 0; i < d; ++i) lp -= 0.5 * x[i] * x[i], g[i] = -x[i];
    return lp;
  });
  exmc::runtime::RunConfig cfg;
  cfg.num_chains = 1;
  cfg.num_threads = 1;
  cfg.sampler.num_warmup = 0;
  cfg.sampler.num_samples = 3;
  cfg.sampler.max_depth = 6;
  cfg.sampler.adapt = false;
  cfg.sampler.metric = s.metric_kind;
  cfg.sampler.warm_start = s;
  try {
    const auto result = exmc::runtime::run_chains(*density, cfg);
    if (result.chains.at(0).error.empty() && result.chains[0].num_draws() != 3) __builtin_trap();
  } catch (const std::exception&) {
  }
  return 0;
}
