// exmc batch's manifest reader (cli::read_manifest): what the batch_manifest_fuzzer (fuzz/) found;
// and the batch folder's own files read back by a re-run (batch.json, items/*.json), damaged.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include <filesystem>

#include "batch_folder.hpp"
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

// A number beyond a double (what the batch_manifest_fuzzer found: "42941e308") threw nlohmann's
// out_of_range.406, which escaped the reader's catch of parse errors: "exmc batch: error:
// [json.exception.out_of_range.406] number overflow parsing '42941e308'", naming no file.
TEST(BatchManifest, ANumberBeyondADoubleIsInvalidJsonNamingTheFile) {
  EXPECT_EQ(refusal(R"([{"model": "a.stan", "seed": 1e400}])"), ": invalid JSON (number overflow parsing '1e400')");
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

// A batch folder whose batch.json or an item's record holds `text`; what a re-run says of it.
std::string folder_refusal(const std::string& file, const std::string& text, bool sbc = false) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / ("batch_folder_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "items");
  const nlohmann::json settings = {{"mode", sbc ? "sbc" : "manifest"}, {"chains", 1}};
  (void)plan_batch(dir, settings, sbc, 2, 1, 1);  // writes batch.json
  {
    std::ofstream f(dir / file);
    f << text;
  }
  std::string message;
  try {
    (void)plan_batch(dir, settings, sbc, 2, 1, 1);
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  fs::remove_all(dir);
  const std::string path = (dir / file).string();
  if (message.empty()) return "";
  if (message.rfind(path + ": ", 0) != 0) return "not naming the file: " + message;
  return message.substr(path.size() + 2);
}

// Each was nlohmann's message without the file ("exmc batch: error: [json.exception.parse_error.101]
// parse error at line 2, column 0: ...", "[json.exception.out_of_range.403] key 'settings' not
// found", "[json.exception.type_error.302] type must be number, but is string", ...).
TEST(BatchFolder, ADamagedBatchJsonIsRefusedNamingIt) {
  const std::string remedy = ": remove it (the batch's settings are then those of this run), or use another --output";
  EXPECT_EQ(folder_refusal("batch.json", "{\"broken\n"),
            "not valid JSON (at line 2, column 0: syntax error while parsing object key - invalid string: control "
            "character U+000A (LF) must be escaped to \\u000A or \\n; last read: '\"broken<U+000A>'; expected "
            "string literal)" + remedy);
  EXPECT_EQ(folder_refusal("batch.json", "[1]"), "not a batch's settings" + remedy);
  EXPECT_EQ(folder_refusal("batch.json", R"({"seed": 1e400})"), "not valid JSON (number overflow parsing '1e400')" + remedy);
  EXPECT_EQ(folder_refusal("batch.json", R"({"seed": 1})"),
            "not a batch's settings (an object with \"settings\" and \"seed\")" + remedy);
  EXPECT_EQ(folder_refusal("batch.json", R"({"settings": {"mode": "manifest", "chains": 1}, "seed": "1"})"),
            "not a batch's settings (an object with \"settings\" and \"seed\")" + remedy);
}

TEST(BatchFolder, ADamagedRecordIsRefusedNamingIt) {
  const std::string remedy = ": remove it to run the item again";
  const std::string not_a_record = "not an item's record as exmc batch writes it" + remedy;
  EXPECT_EQ(folder_refusal("items/item_0002.json", "{"),
            "not valid JSON (at line 1, column 2: syntax error while parsing object key - unexpected end of input; "
            "expected string literal)" + remedy);
  EXPECT_EQ(folder_refusal("items/item_0002.json", "[]"), "not an item's record" + remedy);
  EXPECT_EQ(folder_refusal("items/item_0002.json", R"({"status": 1})"), not_a_record);
  EXPECT_EQ(folder_refusal("items/item_0002.json", R"({"status": "failed", "attempts": "2"})"), not_a_record);
  EXPECT_EQ(folder_refusal("items/item_0002.json", R"({"status": "ok", "result": {"files": [1]}})"), not_a_record);
  EXPECT_EQ(folder_refusal("items/item_0002.json", R"({"status": "ok", "inputs": {"model": 5}, "result": {"files": []}})"),
            not_a_record);
  // An SBC simulation's record: its ranks, one per name (fewer were read past their end).
  const std::string sim = "items/sim_000001.json";
  const std::string sbc_ok = R"({"status": "ok", "attempts": 1, "rank": 0, "result": {"simulation": 1, "fit_seed": 5, )"
                             R"("divergences": 0, "names": ["mu", "tau"], "ranks": [3, 97]}})";
  EXPECT_EQ(folder_refusal(sim, sbc_ok, true), "");
  std::string fewer = sbc_ok;
  fewer.replace(fewer.find("[3, 97]"), 7, "[3]");
  EXPECT_EQ(folder_refusal(sim, fewer, true), not_a_record);
  std::string negative = sbc_ok;
  negative.replace(negative.find("[3, 97]"), 7, "[3, -1]");
  EXPECT_EQ(folder_refusal(sim, negative, true), not_a_record);
  // As exmc batch writes them: read.
  EXPECT_EQ(folder_refusal("items/item_0002.json", R"({"status": "failed", "attempts": 3, "rank": 0})"), "");
}

}  // namespace
}  // namespace exmc::cli
