// A checkpoint is written without copying the chain's state: the heap it takes while saving, counted
// by this binary's operator new and delete, and the bytes on disk (the format load reads).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "exmc/core/state_io.hpp"
#include "exmc/io/run_checkpoint.hpp"

#include "../support/heap_peak.hpp"

namespace exmc::io {
namespace {

// The checkpoint's bytes as the format has them: the fields, the state length-prefixed, the
// content hash, then the FNV-1a checksum of all that.
std::string expected_bytes(const RunCheckpoint& cp, const char* magic = "EXMC-CHAIN-CHECKPOINT-3") {
  StateWriter w;
  w.bytes(magic);
  w.bytes(cp.fingerprint);
  w.u64(cp.seed);
  w.bytes(cp.run_id);
  w.u64(cp.checkpoint_every);
  w.u64(cp.chain_id);
  w.u64(cp.iterations);
  w.bytes(cp.temp_path);
  w.u64(cp.offset);
  w.u64(cp.rows);
  w.bytes(cp.state);
  w.u64(cp.content_hash);
  std::string bytes = w.take();
  StateWriter sum;
  sum.u64(fnv1a64(bytes));
  return bytes + sum.data();
}

// Saving a 4 MB state took 12 MB more at its peak (a copy grown by doubling, then a copy of that).
TEST(RunCheckpointPeak, SavingCopiesNoState) {
  RunCheckpoint cp;
  cp.fingerprint = "model = m.stan\ndata = d.json\n";
  cp.seed = 7;
  cp.run_id = "0123abcd";
  cp.checkpoint_every = 100;
  cp.chain_id = 3;
  cp.iterations = 1200;
  cp.temp_path = "out_3.csv.1234.tmp";
  cp.offset = 98765;
  cp.rows = 200;
  cp.content_hash = 0xfeedbeefULL;
  cp.state.resize(size_t(4) << 20);
  for (size_t i = 0; i < cp.state.size(); ++i) cp.state[i] = char(i * 131 % 251);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("exmc_ckpt_peak_" + std::to_string(::getpid()))).string();
  const long long before = test_support::start_peak();
  cp.save(path);
  const long long peak = test_support::peak_bytes() - before;
  EXPECT_LE(peak, 64 << 10) << "bytes beyond the state while saving";

  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(ss.str() == expected_bytes(cp)) << "the bytes on disk differ from the format's";
  const auto back = RunCheckpoint::load(path);
  std::remove(path.c_str());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->iterations, 1200u);
  EXPECT_EQ(back->content_hash, 0xfeedbeefULL);
  EXPECT_TRUE(back->state == cp.state);
}

// Version 3 added the gradient warmup's hand-off point to the chain state: a version-2 file (a
// valid one, checksum and all) read as version 3 failed deep in the state as "corrupt (a flag is
// neither 0 nor 1)". It is refused at its marker, saying what it is.
TEST(RunCheckpointFormat, AFileOfTheEarlierVersionIsRefusedAsAnotherVersion) {
  RunCheckpoint cp;
  cp.fingerprint = "model = m.stan\n";
  cp.state = "state";
  const std::string path =
      (std::filesystem::temp_directory_path() / ("exmc_ckpt_v2_" + std::to_string(::getpid()))).string();
  {
    std::ofstream out(path, std::ios::binary);
    out << expected_bytes(cp, "EXMC-CHAIN-CHECKPOINT-2");
  }
  std::string what = "(accepted)";
  try {
    RunCheckpoint::load(path);
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  std::remove(path.c_str());
  EXPECT_NE(what.find("not an exmc checkpoint, or one of another version"), std::string::npos) << what;
}

}  // namespace
}  // namespace exmc::io
