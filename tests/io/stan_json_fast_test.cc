// The fast Stan JSON reader against the general one (nlohmann's parser): wherever the fast one
// reads a text, the general one reads the same names, shapes, values (bit for bit) and integer
// flags; and the fast one does read the files people have (the repository's corpus and data,
// ../shared's data), so the comparison is not vacuous.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../support/prerequisite.hpp"
#include "exmc/io/file_bytes.hpp"
#include "exmc/io/stan_json.hpp"

namespace exmc::io {
namespace {

namespace fs = std::filesystem;

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// True when the fast reader took the text (and then agreed with the general one).
bool fast_agrees(const std::string& text, const std::string& what) {
  std::vector<StanJsonValue> fast;
  if (!detail::read_stan_json_fast(text, fast)) return false;
  // Duplicate keys are the one thing the fast reader passes on: from_string then asks the
  // general reader, which refuses them.
  std::set<std::string> names;
  for (const auto& v : fast) names.insert(v.name);
  if (names.size() != fast.size()) {
    EXPECT_THROW(StanJsonData::from_string(text), StanJsonError) << what;
    return true;
  }
  StanJsonData general;
  try {
    general = detail::read_stan_json_general(text, "x.json");
  } catch (const StanJsonError& e) {
    ADD_FAILURE() << what << ": the fast reader read what the general one refuses: " << e.what();
    return true;
  }
  EXPECT_EQ(fast.size(), general.size()) << what;
  for (const auto& v : fast) {
    const auto* g = general.find(v.name);
    if (!g) {
      ADD_FAILURE() << what << ": '" << v.name << "' missing from the general reader's result";
      continue;
    }
    EXPECT_EQ(v.dims, g->dims) << what << " " << v.name;
    EXPECT_EQ(v.is_integer, g->is_integer) << what << " " << v.name;
    EXPECT_EQ(v.values.size(), g->values.size()) << what << " " << v.name;
    if (v.values.size() != g->values.size()) continue;
    for (size_t i = 0; i < v.values.size(); ++i)
      if (!same_bits(v.values[i], g->values[i]) && !(std::isnan(v.values[i]) && std::isnan(g->values[i]))) {
        ADD_FAILURE() << what << " " << v.name << "[" << i << "]: " << v.values[i] << " vs " << g->values[i];
        break;
      }
  }
  return true;
}

// Every regular file below dir whose name passes `wanted`.
size_t compare_folder(const fs::path& dir, size_t* files, const std::function<bool(const fs::path&)>& wanted) {
  size_t taken = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || !wanted(e.path())) continue;
    std::string text;
    if (!read_file_bytes(e.path().string(), text)) {
      ADD_FAILURE() << "cannot read " << e.path();
      continue;
    }
    ++*files;
    taken += fast_agrees(text, e.path().string());
  }
  return taken;
}

TEST(StanJsonFast, AgreesWithTheGeneralReaderOnTheFuzzCorpus) {
  size_t files = 0;
  const size_t taken = compare_folder(fs::path(EXMC_SOURCE_DIR) / "fuzz" / "corpus" / "stan_json_fuzzer", &files,
                                     [](const fs::path&) { return true; });
  EXPECT_GT(files, 1000u);
  // Most of the corpus is malformed on purpose (108 of 1601 files are taken).
  EXPECT_GT(taken, 80u) << files << " files";
  std::printf("fast reader took %zu of %zu corpus files\n", taken, files);
}

TEST(StanJsonFast, ReadsEveryDataFileOfTheBenchmarksAndPosteriordb) {
  const fs::path shared = fs::path(EXMC_SOURCE_DIR) / ".." / "shared";
  if (!fs::exists(shared / "bench" / "data")) {
    EXMC_SKIP_UNLESS_CI() << "no ../shared beside the checkout";
  }
  for (const char* sub : {"bench/data", "posteriordb", "posteriordb-more"}) {
    if (!fs::exists(shared / sub)) continue;
    // The posteriordb folders also hold reference.json files (objects of objects): data only.
    size_t files = 0;
    const size_t taken = compare_folder(shared / sub, &files, [&](const fs::path& p) {
      return std::string(sub) == "bench/data" ? p.extension() == ".json" : p.filename() == "data.json";
    });
    EXPECT_GT(files, 0u) << sub;
    EXPECT_EQ(taken, files) << sub;
  }
}

TEST(StanJsonFast, TakesTheCommonCasesAndLeavesTheRest) {
  const std::vector<std::string> taken = {
      R"({})", R"( { "a" : 1 } )", R"({"a": -0, "b": 1.5e-3, "c": 2E+2, "d": -0.0})",
      R"({"a": []})", R"({"a": [[1, 2, 3], [4, 5, 6]]})", R"({"a": [[[1], [2]], [[3], [4]]]})",
      R"({"a": ["NaN", "-Inf", "inf", 1]})", R"({"a": "Infinity"})",
      R"({"a": [NaN, -Inf, Inf, -Infinity, Infinity, 1]})", R"({"a": NaN, "b": [[Infinity], [-Inf]]})", "{\"a\":\n\t[1,\r\n2]}",
      R"({"a": 9223372036854775807, "b": -9223372036854775808})", R"({"a": 1, "a": 2})"};
  for (const auto& t : taken) EXPECT_TRUE(fast_agrees(t, t)) << t;
  const std::vector<std::string> left = {
      R"([])", R"({"a": [[]]})", R"({"a": [[], []]})", R"({"a": 1e400})", R"({"a": 9223372036854775808})",
      R"({"a\u0041": 1})", R"({"é": 1})", R"({"a": true})", R"({"a": null})", R"({"a": {"b": 1}})",
      R"({"a": [1, [2]]})", R"({"a": [[1], 2]})", R"({"a": [[1, 2], [3]]})", R"({"a": 01})", R"({"a": 1.})",
      R"({"a": .5})", R"({"a": +1})", R"({"a": "x"})", R"({"a": nan})", R"({"a": NaNa})", R"({"a": +Inf})", R"({"a": 1,})", R"({"a": 1} x)", R"({"a": 1)", ""};
  for (const auto& t : left) {
    std::vector<StanJsonValue> v;
    EXPECT_FALSE(detail::read_stan_json_fast(t, v)) << t;
  }
  // Through from_string, the duplicate key is still refused with the general reader's message.
  EXPECT_THROW(StanJsonData::from_string(R"({"a": 1, "a": 2})"), StanJsonError);
}

// Random rectangular arrays of numbers written in every JSON form, with random whitespace; and
// each one cut or altered at a random byte: whatever the fast reader takes, the general one
// reads the same.
TEST(StanJsonFast, AgreesOnRandomDocumentsAndTheirMutations) {
  std::mt19937_64 rng(20261205);
  auto ws = [&] { return std::string(rng() % 3, " \n\t"[rng() % 3]); };
  auto number = [&]() -> std::string {
    std::uniform_real_distribution<double> u(-1e3, 1e3);
    char buf[64];
    switch (rng() % 6) {
      case 0: return std::to_string(int64_t(rng() % 2000) - 1000);
      case 1: std::snprintf(buf, sizeof buf, "%.17g", u(rng)); return buf;
      case 2: std::snprintf(buf, sizeof buf, "%.3e", u(rng) * 1e-200); return buf;
      case 3: std::snprintf(buf, sizeof buf, "%.6E", u(rng) * 1e250); return buf;
      case 4: return (rng() % 2) ? "\"NaN\"" : std::string(std::vector<const char*>{"NaN", "Inf", "-Inf", "Infinity", "-Infinity"}[rng() % 5]);
      default: std::snprintf(buf, sizeof buf, "%.2f", u(rng)); return buf;
    }
  };
  size_t taken = 0, mutated_taken = 0;
  for (int doc = 0; doc < 400; ++doc) {
    std::string t = "{" + ws();
    const int vars = 1 + int(rng() % 4);
    for (int k = 0; k < vars; ++k) {
      std::vector<size_t> dims(rng() % 4);
      for (auto& d : dims) d = 1 + rng() % 4;
      std::function<std::string(size_t)> emit = [&](size_t level) -> std::string {
        if (level == dims.size()) return number();
        std::string s = "[" + ws();
        for (size_t i = 0; i < dims[level]; ++i) s += (i ? "," + ws() : "") + emit(level + 1) + ws();
        return s + "]";
      };
      t += (k ? "," + ws() : "") + "\"v" + std::to_string(k) + "\"" + ws() + ":" + ws() + emit(0) + ws();
    }
    t += "}" + ws();
    taken += fast_agrees(t, t);
    for (int m = 0; m < 5; ++m) {
      std::string u = t;
      const size_t at = rng() % u.size();
      switch (rng() % 3) {
        case 0: u.resize(at); break;
        case 1: u[at] = "[]{},:\"-.e0 x"[rng() % 13]; break;
        default: u.erase(at, 1); break;
      }
      mutated_taken += fast_agrees(u, u);
    }
  }
  EXPECT_EQ(taken, 400u);
  EXPECT_GT(mutated_taken, 0u);
}

}  // namespace
}  // namespace exmc::io
