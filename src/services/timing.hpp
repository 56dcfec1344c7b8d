// What every method service does first: compile the program's density for the method and time
// it into MethodRun::compile_ms; and the clock the services time their runs with.
#pragma once

#include <chrono>
#include <memory>

#include "exmc/services/methods.hpp"

namespace exmc::services::detail {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

inline std::unique_ptr<graph::CompiledDensity> compile_timed(const Program& program, const model::CompileOptions& options,
                                                             MethodRun& run) {
  const auto t = Clock::now();
  auto density = program.compile(options);
  run.compile_ms = seconds_since(t) * 1e3;
  return density;
}

}  // namespace exmc::services::detail
