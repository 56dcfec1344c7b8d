// Loads the JIT module (libexmc_jit.so and LLVM: ~50 ms, mostly relocations) on a thread of its
// own while the command reads the program and data, so that the compile after them does not
// wait for it. Which backend runs does not depend on it: compile() waits for the same one-time
// load whether or not this thread has finished.
#pragma once

#include <cstdlib>
#include <cstring>
#include <thread>

#include "exmc/graph/compile.hpp"

namespace exmc::cli {

class JitPreload {
 public:
  JitPreload() {
    const char* backend = std::getenv("EXMC_BACKEND");
    if (!(backend && std::strcmp(backend, "interpreter") == 0)) thread_ = std::thread([] { graph::jit_available(); });
  }
  ~JitPreload() {
    if (thread_.joinable()) thread_.join();
  }
  JitPreload(const JitPreload&) = delete;
  JitPreload& operator=(const JitPreload&) = delete;

 private:
  std::thread thread_;
};

}  // namespace exmc::cli
