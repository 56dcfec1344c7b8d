// libFuzzer target: a chain's checkpoint file (`exmc sample --checkpoint-every N`, read back by
// `--resume`) -> io::RunCheckpoint::load, then the chain's state it holds -> what a resume does
// with it: the sampler's layer ("SMPL": the runtime's state and the generated quantities'
// stream, as services::SampleJob reads it), then runtime::run_chains resuming one chain from it
// to the end (nuts::ChainSampler::load_state, the metric, the adapters, the counters).
// Each input is tried twice: as it is (its checksum must hold, so most mutations stop there) and
// with its last 8 bytes replaced by the checksum of the rest, which takes a mutated state past
// the checksum into every decoder behind it. The chain's configuration is the one the saved
// state names (dimension, warmup, draws, metric kind and adaptation), on a standard normal of
// that dimension; states of larger runs than the fuzzer can afford stop after the decoding.
// A clean std::exception (or a chain that reports an error) is a pass; a crash, sanitizer
// report, leak, hang or huge allocation is a finding.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "exmc/core/log_density.hpp"
#include "exmc/core/rng.hpp"
#include "exmc/core/state_io.hpp"
#include "exmc/io/run_checkpoint.hpp"
#include "exmc/runtime/run_chains.hpp"

namespace {

constexpr uint64_t kGqStreamBase = 1'000'000;  // stan::GeneratedQuantities::kGqStreamBase

// The bytes as a file RunCheckpoint::load can open by name, without touching the disk.
const std::string& as_file(const std::string& bytes) {
  static const int fd = memfd_create("checkpoint", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    __builtin_trap();  // the harness itself failed
  return path;
}

// The saved chain's configuration, read from the head of its state ("RUNC", then "CHNS" and
// the shape ChainSampler::save_state writes); false when there is none or it is too big to run.
bool saved_config(const std::string& runtime_state, exmc::nuts::SamplerConfig& sc, size_t& dim) {
  try {
    exmc::StateReader r(runtime_state);
    r.tag("RUNC");
    r.tag("CHNS");
    const auto shape = r.u64s();
    if (shape.size() != 7 || shape[0] > 8 || shape[1] > 300 || shape[2] > 200 || shape[3] > 2 || shape[4] > 3 ||
        shape[5] > 1 || shape[6] > 1)
      return false;
    dim = shape[0];
    sc.num_warmup = static_cast<unsigned>(shape[1]);
    sc.num_samples = static_cast<unsigned>(shape[2]);
    sc.metric = static_cast<exmc::nuts::MetricKind>(shape[3]);
    sc.metric_adaptation = static_cast<exmc::nuts::MetricAdaptation>(shape[4]);
    sc.adapt = shape[5] == 1;
    sc.fixed_param = shape[6] == 1;
    sc.validate();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void resume(const exmc::io::RunCheckpoint& cp) {
  if (cp.state.empty() || cp.chain_id == 0) return;
  std::string runtime_state;
  try {
    exmc::StateReader r(cp.state);
    r.tag("SMPL");
    runtime_state = r.bytes();
    exmc::Rng gq(cp.seed, kGqStreamBase + cp.chain_id - 1);
    gq.load_state(r);
    if (!r.done()) return;
  } catch (const std::exception&) {
    return;
  }
  exmc::runtime::RunConfig cfg;
  size_t dim = 0;
  if (!saved_config(runtime_state, cfg.sampler, dim)) return;
  const auto density = exmc::make_log_density(dim, [dim](const double* x, double* g) {
    double lp = 0;
    for (size_t i = 0; i < dim; ++i) lp -= 0.5 * x[i] * x[i], g[i] = -x[i];
    return lp;
  });
  cfg.num_chains = 1;
  cfg.num_threads = 1;
  cfg.seed = cp.seed;
  cfg.chain_offset = cp.chain_id - 1;
  cfg.resume_states = {runtime_state};
  try {
    const auto result = exmc::runtime::run_chains(*density, cfg);
    if (result.chains.size() != 1) __builtin_trap();
    const auto& c = result.chains[0];
    if (c.error.empty() && c.draws.size() > size_t(cfg.sampler.num_samples) * dim) __builtin_trap();
    if (std::getenv("EXMC_FUZZ_VERBOSE"))  // how deep the seeds reach
      std::fprintf(stderr, "resumed: %zu draws%s%s\n", c.num_draws(), c.error.empty() ? "" : ", error: ",
                   c.error.c_str());
  } catch (const std::exception&) {
  }
}

void load_and_resume(const std::string& bytes) {
  try {
    const auto cp = exmc::io::RunCheckpoint::load(as_file(bytes));
    if (!cp) __builtin_trap();  // the file exists
    resume(*cp);
  } catch (const std::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  load_and_resume(bytes);
  if (bytes.size() >= 8) {
    const uint64_t sum = exmc::fnv1a64(std::string_view(bytes).substr(0, bytes.size() - 8));
    exmc::StateWriter w;
    w.u64(sum);
    bytes.replace(bytes.size() - 8, 8, w.data());
    load_and_resume(bytes);
  }
  return 0;
}
