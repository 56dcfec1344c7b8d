// Every shared .stan program passes the semantic checks (no false alarms on real programs).
#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "exmc/stan/error.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {
namespace {

namespace fs = std::filesystem;

TEST(StanSemantic, EverySharedProgramChecks) {
  const fs::path shared = EXMC_SHARED_DIR;
  int n = 0;
  for (const auto& dir : {shared / "bench" / "models", shared / "posteriordb"}) {
    if (!fs::exists(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().extension() != ".stan") continue;
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      try {
        parse_and_check(ss.str(), e.path().string());
      } catch (const Error& err) {
        ADD_FAILURE() << err.what();
      }
      ++n;
    }
  }
  if (n == 0) EXMC_SKIP_UNLESS_CI() << "no shared programs";
  EXPECT_GE(n, 40);
}

}  // namespace
}  // namespace exmc::stan
