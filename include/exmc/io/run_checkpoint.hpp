// The checkpoint of one chain of a sampling run (`exmc sample --checkpoint-every N`, then
// `--resume`): its whole sampler state, where its CSV temporary stood when the state was taken,
// and what the run must agree with to be resumed (the settings and inputs, the seed, the run
// identifier). One file per chain beside its output (so chains never wait on each other, and
// chains spread over processes or machines keep their own), replaced atomically (a unique
// temporary, synced, renamed), with a checksum: a kill at any moment leaves either the previous
// checkpoint or the new one, and a damaged file is refused rather than resumed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exmc::io {

struct RunCheckpoint {
  // "key = value" lines: the settings and the inputs' content hashes a resumed run must repeat.
  std::string fingerprint;
  uint64_t seed = 0;
  std::string run_id;
  unsigned checkpoint_every = 0;
  unsigned chain_id = 0;      // CmdStan's 1-based id
  uint64_t iterations = 0;    // finished iterations (warmup included); 0: not started
  std::string temp_path;      // the chain's CSV temporary
  uint64_t offset = 0;        // its size in bytes when the state was taken
  uint64_t rows = 0;          // draws written to it by then
  std::string state;          // services::SampleJob's state of the chain; empty: start afresh
  uint64_t content_hash = 0;  // fnv1a64 of the temporary's first `offset` bytes

  void save(const std::string& path) const;
  // std::nullopt when `path` does not exist; std::runtime_error naming the file when it is not a
  // checkpoint, is damaged (checksum) or was written by another version.
  static std::optional<RunCheckpoint> load(const std::string& path);
};

// A chain's output `out_1.csv` -> `out_1.csv.checkpoint`.
std::string checkpoint_path(const std::string& output);

// The first line where two fingerprints differ, as "key: saved X, now Y"; empty when equal.
std::string fingerprint_difference(const std::string& saved, const std::string& now);

}  // namespace exmc::io
