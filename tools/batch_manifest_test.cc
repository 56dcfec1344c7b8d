// exmc batch's manifest reader (cli::read_manifest): what the batch_manifest_fuzzer (fuzz/) found.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "batch_manifest.hpp"

namespace exmc::cli {
namespace {

// What read_manifest says of a manifest with this text ("" when it reads it).
std::string refusal(const std::string& text) {
  const std::string path = testing::TempDir() + "/batch_manifest_test_" + std::to_string(::getpid()) + ".txt";
  {
    std::ofstream f(path);
    f << text;
  }
  std::string message;
  try {
    (void)read_manifest(path, "out");
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  std::remove(path.c_str());
  // The file's name starts every message; the rest is what the tests compare.
  if (message.rfind(path, 0) != 0) return "not naming the file: " + message;
  return message.substr(path.size());
}

// "- data.json" or {"model": ""} became an item with an empty model path, which failed only when
// fitted: "rank 0: : error: cannot read the model file (no such file)", naming no file or item.
TEST(BatchManifest, AnItemWithoutAModelIsRefusedNamingTheLineOrItem) {
  EXPECT_EQ(refusal("a.stan a.json\n- b.json out_b.csv\n"),
            ":2: the model is '-': MODEL DATA [OUTPUT] needs a Stan program first ('-' is for DATA, a program "
            "without data)");
  EXPECT_EQ(refusal(R"([{"model": "a.stan"}, {"model": ""}])"),
            ": item 2: 'model' must name a Stan program, got \"\"");
  EXPECT_EQ(refusal(R"([{"model": "-", "data": "d.json"}])"),
            ": item 1: 'model' must name a Stan program, got \"-\"");
}

TEST(BatchManifest, DataGivenAsADashIsStillNoData) {
  const std::string path = testing::TempDir() + "/batch_manifest_test_ok_" + std::to_string(::getpid()) + ".txt";
  {
    std::ofstream f(path);
    f << "a.stan -\n# a comment\nb.stan b.json b.csv\n";
  }
  const auto items = read_manifest(path, "out");
  std::remove(path.c_str());
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].data, "");
  EXPECT_EQ(items[0].output, "out/item_0001/output.csv");
  EXPECT_NE(items[1].data, "");
}

}  // namespace
}  // namespace exmc::cli
