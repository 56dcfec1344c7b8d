// A metric file given to `exmc sample --load-metric` (nuts::AdaptationState::load): what the
// metric_file_fuzzer (fuzz/) found refused with the file named and nothing huge allocated.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "exmc/nuts/adaptation_state.hpp"

namespace exmc::nuts {
namespace {

// The file's text through AdaptationState::load; the message of what it threw ("" when it
// loaded), and whether it was a std::invalid_argument.
struct Refusal {
  std::string message;
  bool invalid_argument = false;
};

Refusal load_text(const std::string& path, const std::string& text) {
  {
    std::ofstream f(path);
    f << text;
  }
  Refusal r;
  try {
    (void)AdaptationState::load(path);
  } catch (const std::invalid_argument& e) {
    r = {e.what(), true};
  } catch (const std::exception& e) {
    r = {e.what(), false};
  }
  std::remove(path.c_str());
  return r;
}

std::string temp_path(const char* name) {
  return testing::TempDir() + "/metric_file_test_" + std::to_string(::getpid()) + "_" + name + ".json";
}

TEST(MetricFile, AMetricKindThatIsNotAStringIsRefusedNamingTheFile) {
  // Was nlohmann's "[json.exception.type_error.302] type must be string, but is number".
  const std::string path = temp_path("kind");
  const auto r = load_text(path, R"({"inv_metric": [1, 2], "metric": 5})");
  EXPECT_TRUE(r.invalid_argument) << r.message;
  EXPECT_EQ(r.message, path + ": adaptation state: \"metric\" must be \"diag_e\" or \"dense_e\"");
}

TEST(MetricFile, ADenseEntryThatIsNotANumberIsRefusedNamingTheFileAndTheEntry) {
  // Was nlohmann's "[json.exception.type_error.302] type must be number, but is string".
  const std::string path = temp_path("entry");
  const auto r = load_text(path, R"({"inv_metric": [[1, 0], [0, "a"]]})");
  EXPECT_TRUE(r.invalid_argument) << r.message;
  EXPECT_EQ(r.message, path + ": adaptation state: inv_metric[1][1] is not a number");
  const auto null_entry = load_text(path, R"({"inv_metric": [[1, null], [0, 1]]})");
  EXPECT_EQ(null_entry.message, path + ": adaptation state: inv_metric[0][1] is not a number");
}

TEST(MetricFile, ManyShortRowsAreRefusedBeforeTheMatrixIsAllocated) {
  // 2^20 empty rows (3 MB): the d x d matrix (8 TB) was allocated before the first row was
  // looked at, so the file failed with std::bad_alloc (30,000 rows, 210 KB: 7 GB and 51 s in
  // exmc sample before "row 0 must have 30000 numbers").
  const std::string path = temp_path("rows");
  const size_t rows = size_t(1) << 20;
  std::string text = "{\"inv_metric\": [[]";
  text.reserve(3 * rows + 32);
  for (size_t i = 1; i < rows; ++i) text += ",[]";
  text += "]}";
  const auto r = load_text(path, text);
  EXPECT_TRUE(r.invalid_argument) << r.message;
  EXPECT_EQ(r.message, path + ": adaptation state: inv_metric row 0 must have 1048576 numbers");
}

TEST(MetricFile, AValidDenseFileStillLoads) {
  const std::string path = temp_path("valid");
  {
    std::ofstream f(path);
    f << R"({"inv_metric": [[2, 0.5], [0.5, 1]], "metric": "dense_e", "stepsize": 0.25})";
  }
  const auto s = AdaptationState::load(path);
  std::remove(path.c_str());
  EXPECT_EQ(s.dim, 2u);
  EXPECT_EQ(s.metric_kind, MetricKind::Dense);
  EXPECT_EQ(s.step_size, 0.25);
  EXPECT_EQ(s.inv_metric, (std::vector<double>{2, 0.5, 0.5, 1}));
}

}  // namespace
}  // namespace exmc::nuts
