// A test whose prerequisite is missing (../shared beside the checkout, the JIT module, an
// optional dependency): skipped on a developer's machine, a failure under CI (CI=true), where
// scripts/setup installs everything and a skip would quietly test less than CI claims to.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace exmc::testing {

inline bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci && (std::strcmp(ci, "true") == 0 || std::strcmp(ci, "1") == 0);
}

}  // namespace exmc::testing

// Use in a test body (or SetUp) in place of GTEST_SKIP(): EXMC_SKIP_UNLESS_CI() << "why";
// It returns from the function, as GTEST_SKIP() does.
#define EXMC_SKIP_UNLESS_CI()                                                                        \
  return ::testing::internal::AssertHelper(                                                          \
             ::exmc::testing::under_ci() ? ::testing::TestPartResult::kFatalFailure                  \
                                         : ::testing::TestPartResult::kSkip,                         \
             __FILE__, __LINE__,                                                                     \
             ::exmc::testing::under_ci() ? "a prerequisite is missing under CI=true (see below)"     \
                                         : "Skipped") = ::testing::Message()
