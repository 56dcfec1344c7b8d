// mpi_test's helpers: running the built exmc under the configure-time mpiexec (skipped when the
// build has no MPI, except under CI=true), each run in a folder of its own, and reading its files.
#pragma once
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <unistd.h>

#include "exmc/io/run_checkpoint.hpp"

#include <chrono>
#include <thread>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace exmc_mpi_test {

namespace fs = std::filesystem;

#ifndef EXMC_MPIEXEC
#define EXMC_MPIEXEC ""
#endif

inline bool need_mpi() {
  if (std::string(EXMC_MPIEXEC).empty()) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") {
      ADD_FAILURE() << "exmc was built without MPI under CI=true: scripts/setup installs libopenmpi-dev";
      return false;
    }
    return false;
  }
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  return true;
}
#define REQUIRE_MPI()                                                              \
  do {                                                                             \
    if (!need_mpi()) {                                                             \
      if (!::testing::Test::HasFailure()) GTEST_SKIP() << "exmc built without MPI"; \
      return;                                                                      \
    }                                                                              \
  } while (0)

inline const std::string kExmc = std::string(EXMC_BINARY_DIR) + "/exmc";
inline const std::string kSbc = std::string(EXMC_SOURCE_DIR) + "/examples/sbc/eight_schools_noncentered";
inline const std::string kEight = std::string(EXMC_SOURCE_DIR) + "/examples/eight_schools";

inline std::string mpirun(int n, const std::string& extra = "") {
  // A hung job fails the test instead of hanging it.
  return "timeout -k 5 120 " + std::string(EXMC_MPIEXEC) + " --oversubscribe " + extra + " -n " + std::to_string(n) + " " + kExmc;
}

// Runs `cmd` in `dir` (created), stdout and stderr into dir/log.txt; the exit status.
inline int run_in(const fs::path& dir, const std::string& cmd) {
  fs::create_directories(dir);
  const std::string full = "cd '" + dir.string() + "' && " + cmd + " > log.txt 2>&1";
  const int rc = std::system(full.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

inline std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The file without the lines that differ between runs by design: timings and the run id.
inline std::string without_timing(const fs::path& p) {
  std::istringstream in(read(p));
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.find("Elapsed Time") == std::string::npos && line.find(" seconds (") == std::string::npos &&
        line.find("exmc_run_id") == std::string::npos)
      out += line + "\n";
  return out;
}

inline std::string run_id(const fs::path& p) {
  std::istringstream in(read(p));
  for (std::string line; std::getline(in, line);)
    if (line.find("exmc_run_id") != std::string::npos) return line;
  return "";
}

inline fs::path fresh_dir(const std::string& name) {
  // Per process: ctest runs these tests in parallel, and two of them may build the reference.
  const fs::path d = fs::temp_directory_path() / ("exmc_mpi_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace exmc_mpi_test
