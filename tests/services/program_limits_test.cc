// The guard beside the front end: nesting, operators per statement and `else`s per block past
// what the recursive parser, checker and lowering can follow are parse errors with a position;
// every real program passes.
#include "../../src/services/program_limits.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../support/prerequisite.hpp"
#include "exmc/io/file_bytes.hpp"
#include "exmc/services/program.hpp"
#include "exmc/stan/error.hpp"

namespace exmc::services::detail {
namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// "file:line:column: error: message" of the error check_program_limits throws, or "".
std::string error_of(const std::string& text) {
  try {
    check_program_limits(text, "m.stan");
  } catch (const stan::ParseError& e) {
    return e.file() + ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": " + e.message();
  }
  return "";
}

TEST(ProgramLimits, EachLimitIsAParseErrorWhereItIsPassed) {
  const std::string head = "data { real mu; }\ngenerated quantities {\n  real y = ";
  // Line 3, after "  real y = " (11 characters) and 256 parentheses - 1 for the brace.
  EXPECT_EQ(error_of(head + repeat("(", 5000) + "1" + repeat(")", 5000) + ";\n}\n"),
            "m.stan:3:" + std::to_string(11 + 256) +
                ": nested more than 256 deep (parentheses, brackets and blocks together), more than the front end "
                "can follow");
  EXPECT_NE(error_of(head + "1" + repeat(" + 1", 12000) + ";\n}\n").find("more than 4000 operators in one statement"),
            std::string::npos);
  EXPECT_NE(error_of(head + repeat("-", 20000) + "1;\n}\n").find("more than 4000 operators"), std::string::npos);
  EXPECT_NE(error_of("model {\n" + repeat("if (1) { } else ", 10000) + "{ }\n}\n")
                .find("more than 1000 'else' branches in one block"),
            std::string::npos);
  EXPECT_NE(error_of("model " + repeat("{ ", 6000) + repeat("} ", 6000)).find("nested more than 256 deep"),
            std::string::npos);
  // Just under each limit, and what looks like them in comments and strings, pass.
  EXPECT_EQ(error_of(head + repeat("(", 250) + "1" + repeat(")", 250) + ";\n}\n"), "");
  EXPECT_EQ(error_of(head + "1" + repeat(" + 1", 3999) + ";\n}\n"), "");
  EXPECT_EQ(error_of("model {\n" + repeat("if (1) { } else ", 999) + "{ }\n}\n"), "");
  EXPECT_EQ(error_of("// " + repeat("(", 1000) + "\n/* " + repeat("{", 1000) + " */\nmodel { print(\"" +
                     repeat("(+", 5000) + "\"); }\n# " + repeat("[", 1000) + "\n"),
            "");
  // Operators and elses count per statement and per block, not per program.
  EXPECT_EQ(error_of("model {\n" + repeat("  target += 1 + 1 + 1;\n", 3000) + repeat("{ if (1) ; else ; }\n", 3000) +
                     "}\n"),
            "");
}

TEST(ProgramLimits, EveryProgramOfTheExamplesBenchAndPosteriordbPasses) {
  namespace fs = std::filesystem;
  size_t seen = 0;
  auto check_tree = [&](const fs::path& root) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.path().extension() != ".stan") continue;
      std::string text;
      ASSERT_TRUE(io::read_file_bytes(e.path().string(), text)) << e.path();
      EXPECT_NO_THROW(check_program_limits(text, e.path().string())) << e.path();
      ++seen;
    }
  };
  check_tree(fs::path(EXMC_SOURCE_DIR) / "examples");
  const fs::path shared(EXMC_SHARED_DIR);
  if (!fs::is_directory(shared / "posteriordb")) {
    EXMC_SKIP_UNLESS_CI() << "../shared not found under " << EXMC_SHARED_DIR;
  }
  for (const char* d : {"bench", "posteriordb", "posteriordb-more"}) check_tree(shared / d);
  EXPECT_GT(seen, 100u);  // 140 here
}

TEST(ProgramLimits, ProgramLoadAndFromSourceApplyThem) {
  const std::string deep = "parameters { real y; }\nmodel { y ~ normal(" + repeat("(", 300) + "0" +
                           repeat(")", 300) + ", 1); }\n";
  EXPECT_THROW(Program::from_source(deep, "deep", ""), stan::ParseError);
}

}  // namespace
}  // namespace exmc::services::detail
