// Data binding: every shared data set loads against its model; bad data get named messages.
#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "exmc/io/stan_json.hpp"
#include "exmc/stan/data.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_loads(const fs::path& model, const fs::path& data) {
  SCOPED_TRACE(model.string() + " + " + data.string());
  try {
    const Program p = parse_and_check(slurp(model), model.string());
    const auto json = io::StanJsonData::from_file(data.string());
    const DataEnv env = check_data(p, json);
    for (const auto& s : p.block(BlockKind::Data).stmts) EXPECT_NE(env.find(s.decl[0].name), nullptr);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
}

TEST(StanData, EverySharedDataSetLoadsAgainstItsModel) {
  const fs::path shared = EXMC_SHARED_DIR;
  int n = 0;
  if (fs::exists(shared / "bench" / "data")) {
    for (const auto& e : fs::directory_iterator(shared / "bench" / "data")) {
      std::string stem = e.path().stem().string();
      if (stem == "logistic_big") stem = "logistic";
      expect_loads(shared / "bench" / "models" / (stem + ".stan"), e.path());
      ++n;
    }
  }
  if (fs::exists(shared / "posteriordb"))
    for (const auto& e : fs::directory_iterator(shared / "posteriordb"))
      if (fs::exists(e.path() / "model.stan")) {
        expect_loads(e.path() / "model.stan", e.path() / "data.json");
        ++n;
      }
  if (n == 0) EXMC_SKIP_UNLESS_CI() << "no shared data";
  EXPECT_GE(n, 40);
}

TEST(StanData, ValuesShapesAndTransformedDataScalars) {
  const Program p = parse_and_check(R"(
data {
  int<lower=0> N;
  int<lower=1> K;
  matrix[N, K] X;
  array[N] int<lower=0, upper=1> y;
  vector[2] b[3];
}
transformed data {
  int M = N * K + 1;
  int KK = K;
  KK = 3;
  vector[M] z;
}
)",
                                    "m.stan");
  const auto json = io::StanJsonData::from_string(
      R"({"N": 2, "K": 3, "X": [[1,2,3],[4,5,6]], "y": [0, 1], "b": [[1,2],[3,4],[5,6]], "extra": 1})",
      "d.json");
  const DataEnv env = check_data(p, json);
  EXPECT_EQ(env.at("X").dims, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(env.at("b").dims, (std::vector<size_t>{3, 2}));
  EXPECT_TRUE(env.at("y").is_int);
  EXPECT_EQ(env.at("M").values, (std::vector<double>{7}));
  EXPECT_EQ(env.find("KK"), nullptr);  // reassigned later: not a constant
  EXPECT_EQ(env.find("extra"), nullptr);
  EXPECT_EQ(env.shape(p.block(BlockKind::TransformedData).stmts[3].decl[0].type),
            (std::vector<size_t>{7}));
}

struct BadCase {
  const char* name;
  const char* model;
  const char* json;
  const char* message;
  const char* variable;
};

const BadCase kBad[] = {
    {"real_for_int", "data { int N; }", R"({"N": 2.5})", "data variable 'N': expected int, found 2.5",
     "N"},
    {"real_in_int_array", "data { int N; array[N] int g; }", R"({"N": 3, "g": [1, 2, 3.5]})",
     "data variable 'g': expected int, found 3.5 at index 3", "g"},
    {"wrong_length", "data { int N; vector[N] y; }",
     R"({"N": 10, "y": [1,2,3,4,5,6,7,8,9]})",
     "data variable 'y': expected 10 elements (declared vector[N] with N = 10), found 9", "y"},
    {"wrong_matrix_shape", "data { int N; int K; matrix[N, K] X; }",
     R"({"N": 2, "K": 2, "X": [[1,2,3],[4,5,6]]})",
     "data variable 'X': expected shape [2,2] (declared matrix[N, K] with N = 2, K = 2), found "
     "shape [2,3]",
     "X"},
    {"old_array_syntax_shape", "data { int J; int N; vector[N] y[J]; }",
     R"({"J": 2, "N": 2, "y": [1, 2]})",
     "data variable 'y': expected shape [2,2] (declared array[J] vector[N] with J = 2, N = 2), "
     "found shape [2]",
     "y"},
    {"negative_scale", "data { int N; vector<lower=0>[N] sigma; }",
     R"({"N": 4, "sigma": [1, 2, -1, 3]})",
     "data variable 'sigma': must be >= 0, found -1 at index 3", "sigma"},
    {"upper_bound_expression", "data { int K; array[2] int<lower=1, upper=K> z; }",
     R"({"K": 3, "z": [1, 4]})", "data variable 'z': must be <= K (= 3), found 4 at index 2", "z"},
    {"scalar_bound", "data { real<lower=0, upper=1> p; }", R"({"p": 1.5})",
     "data variable 'p': must be <= 1, found 1.5", "p"},
    {"missing", "data { int N; }", R"({})",
     "data variable 'N' (declared at m.stan:1:8) is missing from the data", "N"},
    {"array_for_scalar", "data { real x; }", R"({"x": [1, 2]})",
     "data variable 'x': expected a single real (declared real), found an array of shape [2]", "x"},
    {"scalar_for_vector", "data { vector[3] v; }", R"({"v": 1})",
     "data variable 'v': expected 3 elements (declared vector[3]), found a single number", "v"},
    {"simplex", "data { simplex[3] t; }", R"({"t": [0.5, 0.25, 0.5]})",
     "data variable 't': is not a simplex: elements sum to 1.25 (must be 1 within 1e-8)", "t"},
    {"ordered_in_array", "data { array[2] ordered[3] o; }", R"({"o": [[1, 2, 3], [1, 3, 2]]})",
     "data variable 'o': is not ordered: element 3 (2) is not greater than element 2 (3) at array "
     "index 2",
     "o"},
    {"cov_not_symmetric", "data { cov_matrix[2] S; }", R"({"S": [[1, 0.5], [0.4, 1]]})",
     "data variable 'S': is not symmetric: element [2,1] is 0.4 but [1,2] is 0.5", "S"},
    {"cov_not_pd", "data { cov_matrix[2] S; }", R"({"S": [[1, 2], [2, 1]]})",
     "data variable 'S': is not positive definite", "S"},
    {"corr_diagonal", "data { corr_matrix[2] R; }", R"({"R": [[1, 0.5], [0.5, 2]]})",
     "data variable 'R': is not a correlation matrix: diagonal element 2 is 2 (must be 1)", "R"},
    {"cholesky_upper", "data { cholesky_factor_cov[2] L; }", R"({"L": [[1, 0.1], [0.5, 1]]})",
     "data variable 'L': is not lower triangular: element [1,2] is 0.1 (must be 0)", "L"},
    {"negative_size", "data { int N; vector[N] y; }", R"({"N": -1, "y": []})",
     "data variable 'y': cannot resolve its declared size: size 'N' is -1; sizes must be >= 0",
     "y"},
};

class StanBadData : public ::testing::TestWithParam<BadCase> {};

TEST_P(StanBadData, NamesTheVariable) {
  const BadCase& c = GetParam();
  const Program p = parse_and_check(c.model, "m.stan");
  const auto json = io::StanJsonData::from_string(c.json, "d.json");
  try {
    check_data(p, json);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(e.message(), c.message);
    EXPECT_EQ(e.variable(), c.variable);
    EXPECT_EQ(e.file(), "d.json");
    EXPECT_EQ(std::string(e.what()), std::string("d.json: error: ") + c.message);
  }
}

INSTANTIATE_TEST_SUITE_P(Bad, StanBadData, ::testing::ValuesIn(kBad),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(StanData, ZeroSizeMayBeOmittedAndIntegralRealsAreInts) {
  const Program p = parse_and_check("data { int N; vector[N] y; array[N] int g; }", "m.stan");
  const DataEnv env = check_data(p, io::StanJsonData::from_string(R"({"N": 0.0e0})"));
  EXPECT_EQ(env.at("N").values[0], 0);
  EXPECT_EQ(env.at("y").dims, (std::vector<size_t>{0}));
}

}  // namespace
}  // namespace exmc::stan
