// Stan JSON reader: shapes, row-major flattening, column-major helpers, specials and errors.
#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "exmc/io/stan_json.hpp"

namespace exmc::io {
namespace {

std::string error_of(const std::string& text) {
  try {
    StanJsonData::from_string(text, "d.json");
  } catch (const StanJsonError& e) {
    return e.what();
  }
  return "";
}

TEST(StanJson, ScalarsVectorsAndIntegerFlag) {
  auto d = StanJsonData::from_string(R"({"N": 3, "x": 2.5, "y": [1, 2, 3], "z": [1, 2.0]})");
  EXPECT_EQ(d.size(), 4u);
  EXPECT_TRUE(d.at("N").is_scalar());
  EXPECT_TRUE(d.at("N").is_integer);
  EXPECT_EQ(d.at("N").as_int(), 3);
  EXPECT_FALSE(d.at("x").is_integer);
  EXPECT_DOUBLE_EQ(d.at("x").as_double(), 2.5);
  EXPECT_EQ(d.at("y").dims, (std::vector<size_t>{3}));
  EXPECT_TRUE(d.at("y").is_integer);
  EXPECT_FALSE(d.at("z").is_integer);  // 2.0 is written as a real
  EXPECT_EQ(d.at("z").as_ints(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(d.names(), (std::vector<std::string>{"N", "x", "y", "z"}));
}

TEST(StanJson, MatrixIsRowMajorAndColumnMajorHelperTransposesOrder) {
  auto d = StanJsonData::from_string(R"({"X": [[1, 2, 3], [4, 5, 6]]})");
  const auto& x = d.at("X");
  EXPECT_EQ(x.dims, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(x.values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(x.column_major(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(x.at({1, 0}), 4);
  EXPECT_EQ(x.at({0, 2}), 3);
  EXPECT_EQ(to_row_major(x.column_major(), x.dims), x.values);
}

TEST(StanJson, Rank3ColumnMajorRoundTrip) {
  auto d = StanJsonData::from_string(
      R"({"a": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]})");
  const auto& a = d.at("a");
  EXPECT_EQ(a.dims, (std::vector<size_t>{2, 3, 2}));
  EXPECT_EQ(a.at({1, 2, 0}), 11);
  auto cm = a.column_major();
  // Column-major offset of [i][j][k] is i + 2*j + 6*k.
  EXPECT_EQ(cm[1 + 2 * 2 + 6 * 0], 11);
  EXPECT_EQ(cm[0 + 2 * 1 + 6 * 1], 4);
  EXPECT_EQ(to_row_major(cm, a.dims), a.values);
}

TEST(StanJson, EmptyArraysKeepTheirShape) {
  auto d = StanJsonData::from_string(R"({"e": [], "m": [[], []]})");
  EXPECT_EQ(d.at("e").dims, (std::vector<size_t>{0}));
  EXPECT_EQ(d.at("e").size(), 0u);
  EXPECT_TRUE(d.at("e").is_integer);
  EXPECT_EQ(d.at("m").dims, (std::vector<size_t>{2, 0}));
}

TEST(StanJson, NonFiniteStrings) {
  auto d = StanJsonData::from_string(R"({"v": ["NaN", "Inf", "-Infinity", 1]})");
  const auto& v = d.at("v").values;
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], INFINITY);
  EXPECT_EQ(v[2], -INFINITY);
  EXPECT_FALSE(d.at("v").is_integer);
}

// CmdStan's reader takes NaN, Inf, Infinity, -Inf and -Infinity unquoted too (rapidjson's
// kParseNanAndInfFlag), and Python's json.dump writes NaN and Infinity so: both readers refused
// them ("invalid literal").
TEST(StanJson, NonFiniteBareTokens) {
  for (const std::string text : {R"({"v": [NaN, Inf, -Inf, Infinity, -Infinity, 1], "s": NaN, "t": -Infinity})",
                                 "{\"v\":[NaN,Inf,-Inf,Infinity,-Infinity,1],\n\"s\":NaN\n,\"t\":\t-Infinity}",
                                 // not read by the fast reader (escaped name): the general one alone
                                 R"({"v": [NaN, Inf, -Inf, Infinity, -Infinity, 1], "s": NaN, "\u0074": -Infinity})"}) {
    SCOPED_TRACE(text);
    const auto d = StanJsonData::from_string(text);
    const auto& v = d.at("v").values;
    ASSERT_EQ(v.size(), 6u);
    EXPECT_TRUE(std::isnan(v[0]));
    EXPECT_EQ(v[1], INFINITY);
    EXPECT_EQ(v[2], -INFINITY);
    EXPECT_EQ(v[3], INFINITY);
    EXPECT_EQ(v[4], -INFINITY);
    EXPECT_EQ(v[5], 1);
    EXPECT_FALSE(d.at("v").is_integer);
    EXPECT_TRUE(std::isnan(d.at("s").as_double()));
    EXPECT_FALSE(d.at("s").is_integer);
    EXPECT_EQ(d.at("t").as_double(), -INFINITY);
    // A non-finite value is no integer, and the message names the variable.
    EXPECT_THROW(d.at("s").as_int(), StanJsonError);
    try {
      (void)d.at("v").as_ints();
      ADD_FAILURE() << "as_ints took NaN";
    } catch (const StanJsonError& e) {
      EXPECT_NE(std::string(e.what()).find("variable 'v'"), std::string::npos) << e.what();
    }
  }
  // And every string spelling CmdStan documents.
  const auto d = StanJsonData::from_string(R"({"v": ["NaN", "Inf", "-Inf", "Infinity", "-Infinity", "+inf"]})");
  const auto& v = d.at("v").values;
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(std::vector<double>(v.begin() + 1, v.end()),
            (std::vector<double>{INFINITY, -INFINITY, INFINITY, -INFINITY, INFINITY}));
}

TEST(StanJson, BareNonFiniteTokensOnlyWhereAValueGoes) {
  // A key, the whole document, another spelling, or a token run into more letters: invalid.
  for (const char* text : {R"({NaN: 1})", R"({"a": 1, Infinity: 2})", "NaN", R"({"a": nan})", R"({"a": inf})",
                           R"({"a": NaNa})", R"({"a": Infinityy})", R"({"a": [1 NaN]})", R"({"a": +Inf})",
                           R"({"a": -NaN})", R"({"a": "x" NaN})"})
    EXPECT_NE(error_of(text).find("invalid JSON"), std::string::npos) << text << ": " << error_of(text);
  // Inside a string it is the string's text.
  EXPECT_EQ(error_of(R"({"a": "x NaN"})"), "d.json: variable 'a': expected a number, found \"x NaN\"");
  // A parse error after quoted tokens keeps its own line and column: as with numbers of the
  // same length.
  EXPECT_EQ(error_of("{\"a\": [NaN, -Infinity,\n 1,]}"), error_of("{\"a\": [123, 123456789,\n 1,]}"));
  EXPECT_NE(error_of("{\"a\": [NaN, -Infinity,\n 1,]}").find("d.json:2:"), std::string::npos);
}

TEST(StanJson, Errors) {
  EXPECT_EQ(error_of(R"({"y": [[1, 2], [3]]})"),
            "d.json: variable 'y': ragged array: expected 2 elements, found 1 at [2] (shape [2,2])");
  EXPECT_EQ(error_of(R"({"y": [[1, 2], 3]})"),
            "d.json: variable 'y': ragged array: expected 2 nested levels, found a number at [2]");
  EXPECT_EQ(error_of(R"({"y": [1, [2]]})"),
            "d.json: variable 'y': ragged array: expected a number, found an array at [2]");
  EXPECT_EQ(error_of(R"({"y": [1, "a"]})"),
            "d.json: variable 'y': expected a number, found \"a\" at [2]");
  // Refused as CmdStan refuses them, saying what to write instead (Python's True and False are
  // converted to 1 and 0 before the JSON, as cmdstanpy does; the file said only "found boolean").
  EXPECT_EQ(error_of(R"({"y": true})"),
            "d.json: variable 'y': expected a number, found boolean (Stan has no bool type: write 1 for true, 0 "
            "for false)");
  EXPECT_EQ(error_of(R"({"y": [1, false]})"),
            "d.json: variable 'y': expected a number, found boolean at [2] (Stan has no bool type: write 1 for "
            "true, 0 for false)");
  EXPECT_EQ(error_of(R"({"y": null})"), "d.json: variable 'y': expected a number, found null");
  EXPECT_EQ(error_of("[1, 2]"),
            "d.json: Stan JSON data must be an object {\"name\": value, ...}");
  const std::string syntax = error_of("{\n  \"a\": 1,\n  \"b\": ]\n}");
  EXPECT_EQ(syntax.rfind("d.json:3:8: invalid JSON", 0), 0u) << syntax;
  // nlohmann throws out_of_range, not parse_error, for this: it escaped without the file's name.
  EXPECT_EQ(error_of("{\n  \"a\": [1, 1e400]\n}"), "d.json:2:12: number 1e400 is beyond the range of a double");
  auto d = StanJsonData::from_string(R"({"x": 2.5, "v": [1, 2]})", "d.json");
  EXPECT_THROW(d.at("x").as_int(), StanJsonError);
  EXPECT_THROW(d.at("v").as_double(), StanJsonError);
  try {
    d.at("missing");
    FAIL();
  } catch (const StanJsonError& e) {
    EXPECT_STREQ(e.what(), "d.json: no variable 'missing'");
  }
  EXPECT_THROW(StanJsonData::from_file("/nonexistent/d.json"), StanJsonError);
}

TEST(StanJson, SetChecksShape) {
  StanJsonData d;
  d.set("m", {2, 2}, {1, 2, 3, 4}, false);
  EXPECT_EQ(d.at("m").at({1, 1}), 4);
  EXPECT_THROW(d.set("m", {2, 2}, {1, 2, 3}, false), StanJsonError);
}

// Every data file shipped in ../shared loads.
TEST(StanJson, SharedDataFilesLoad) {
  namespace fs = std::filesystem;
  const fs::path shared = EXMC_SHARED_DIR;
  int n = 0;
  std::vector<fs::path> files;
  if (fs::exists(shared / "bench" / "data"))
    for (const auto& e : fs::directory_iterator(shared / "bench" / "data"))
      if (e.path().extension() == ".json") files.push_back(e.path());
  if (fs::exists(shared / "posteriordb"))
    for (const auto& e : fs::directory_iterator(shared / "posteriordb"))
      if (fs::exists(e.path() / "data.json")) files.push_back(e.path() / "data.json");
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_NO_THROW(StanJsonData::from_file(f.string()));
    ++n;
  }
  if (n == 0) EXMC_SKIP_UNLESS_CI() << "no shared data found under " << shared;
  auto logistic = StanJsonData::from_file((shared / "bench/data/logistic.json").string());
  EXPECT_EQ(logistic.at("X").dims, (std::vector<size_t>{500, 20}));
  EXPECT_EQ(logistic.at("N").as_int(), 500);
}

// Issue 13, class 5: with a key written twice, the last value used to win silently.
TEST(StanJson, DuplicateKeysAreAnErrorNamingKeyAndFile) {
  for (const std::string text : {std::string(R"({"N": 3, "y": [1, 2, 3], "N": 4})"),
                                 std::string(R"({"a": 1, "b": {"x": 1, "x": 2}})")}) {
    try {
      StanJsonData::from_string(text, "dup.json");
      ADD_FAILURE() << "accepted " << text;
    } catch (const StanJsonError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("dup.json"), std::string::npos) << what;
      EXPECT_NE(what.find("duplicate key"), std::string::npos) << what;
      EXPECT_NE(what.find(text.find("\"N\"") != std::string::npos ? "'N'" : "'x'"), std::string::npos) << what;
    }
  }
  // The same name in different objects is no duplicate (the object itself is no Stan value).
  try {
    StanJsonData::from_string(R"({"a": {"x": 1}, "x": 2})", "ok.json");
  } catch (const StanJsonError& e) {
    EXPECT_EQ(std::string(e.what()).find("duplicate"), std::string::npos) << e.what();
  }
}

// Issue 13, class 1: arrays nested ~100,000 deep overflowed the stack (SIGSEGV, no message).
TEST(StanJson, DeepNestingIsAClearErrorNotACrash) {
  for (size_t depth : {300u, 100000u}) {
    const std::string text = "{\"y\": " + std::string(depth, '[') + "1" + std::string(depth, ']') + "}";
    try {
      StanJsonData::from_string(text, "deep.json");
      ADD_FAILURE() << "accepted depth " << depth;
    } catch (const StanJsonError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("deep.json"), std::string::npos) << what;
      EXPECT_NE(what.find("nested deeper than"), std::string::npos) << what;
    }
  }
  // Objects too (nlohmann's parser is iterative, but the value it builds is freed recursively).
  std::string objs;
  for (int i = 0; i < 100000; ++i) objs += "{\"a\":";
  objs += "1" + std::string(100000, '}');
  EXPECT_THROW(StanJsonData::from_string(objs, "deep.json"), StanJsonError);
  // Rank 8 arrays, deeper than any Stan value needs, still read.
  const std::string rank8 = "{\"y\": " + std::string(8, '[') + "1" + std::string(8, ']') + "}";
  EXPECT_EQ(StanJsonData::from_string(rank8, "ok.json").at("y").dims.size(), 8u);
}

// Files that are not there, not files, or empty: "cannot open data file" was said of --init and
// --mode files too and of a directory; an empty file got nlohmann's "syntax error while parsing
// value - unexpected end of input; expected '[', '{', or a literal".
TEST(StanJson, FilesThatCannotBeReadOrAreEmptySaySo) {
  auto from_file_error = [](const std::string& path) {
    try {
      StanJsonData::from_file(path);
    } catch (const StanJsonError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string folder = ::testing::TempDir() + "exmc_stan_json_folder";
  std::filesystem::create_directories(folder);
  EXPECT_EQ(from_file_error(folder), folder + ": cannot read it: a directory, not a file");
  const std::string missing = ::testing::TempDir() + "exmc_stan_json_missing.json";
  std::filesystem::remove(missing);
  EXPECT_EQ(from_file_error(missing), missing + ": cannot read it: No such file or directory");
  EXPECT_EQ(error_of(""), "d.json: the file is empty (Stan JSON is an object: {\"name\": value, ...})");
  EXPECT_EQ(error_of(" \n\t\n"), "d.json: the file is empty (Stan JSON is an object: {\"name\": value, ...})");
}

}  // namespace
}  // namespace exmc::io
