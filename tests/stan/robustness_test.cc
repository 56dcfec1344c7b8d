// Mutated programs either parse or fail with a positioned Error: never a crash or other throw.
#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "exmc/stan/error.hpp"
#include "exmc/stan/parser.hpp"
#include "exmc/stan/printer.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {
namespace {

namespace fs = std::filesystem;

TEST(StanRobustness, MutatedSharedProgramsFailCleanly) {
  const fs::path shared = EXMC_SHARED_DIR;
  std::vector<std::string> sources;
  for (const auto& dir : {shared / "bench" / "models", shared / "posteriordb"}) {
    if (!fs::exists(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().extension() != ".stan") continue;
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      sources.push_back(ss.str());
    }
  }
  if (sources.empty()) EXMC_SKIP_UNLESS_CI();
  std::mt19937 rng(20261123);
  const std::string inserts = ";{}()[]<>=,|~:?'\"*/+-^.%!&#1a_\\\n";
  // EXMC_STAN_FUZZ_N raises the number of mutations per program for a longer local run.
  const char* env = std::getenv("EXMC_STAN_FUZZ_N");
  const int per_program = env ? std::atoi(env) : 60;
  int errors = 0, parsed = 0;
  for (const auto& src : sources) {
    for (int m = 0; m < per_program; ++m) {
      std::string s = src;
      const size_t pos = std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
      switch (m % 3) {
        case 0: s.erase(pos, 1); break;
        case 1: s.insert(pos, 1, inserts[rng() % inserts.size()]); break;
        case 2: s.resize(pos); break;
      }
      try {
        const Program p = parse_and_check(s, "mut.stan");
        // Whatever parses must still print and re-parse to the same tree.
        EXPECT_TRUE(parse(print_program(p), "printed.stan") == p) << s;
        ++parsed;
      } catch (const Error& e) {
        EXPECT_GE(e.line(), 1) << e.what();
        EXPECT_GE(e.column(), 1) << e.what();
        ++errors;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "non-Stan exception " << e.what() << " for:\n" << s;
      }
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace exmc::stan
