// SampleJob's lifetime rule: it refers to its Program (the data and generated quantities) until
// it is destroyed, so it cannot be made from a temporary one. SampleJob job(Program::load(...),
// settings, seed) compiled and crashed in run() (generated quantities read the freed program).
#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>

#include "exmc/services/program.hpp"
#include "exmc/services/sample.hpp"

namespace exmc::services {
namespace {

TEST(SampleJob, CannotBeMadeFromATemporaryProgram) {
  EXPECT_TRUE((std::is_constructible_v<SampleJob, const Program&, SampleSettings, uint64_t>));
  EXPECT_TRUE((std::is_constructible_v<SampleJob, Program&, SampleSettings, uint64_t>));
  EXPECT_FALSE((std::is_constructible_v<SampleJob, Program&&, SampleSettings, uint64_t>));
  EXPECT_FALSE((std::is_constructible_v<SampleJob, const Program&&, SampleSettings, uint64_t>));
}

}  // namespace
}  // namespace exmc::services
