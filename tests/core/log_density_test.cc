#include "exmc/core/log_density.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace exmc {
namespace {

TEST(FlatNames, ScalarVectorMatrixColumnMajor) {
  std::vector<VarInfo> vars = {{"mu", {}}, {"theta", {2}}, {"S", {2, 2}}};
  std::vector<std::string> want = {"mu", "theta.1", "theta.2", "S.1.1", "S.2.1", "S.1.2", "S.2.2"};
  EXPECT_EQ(flat_names(vars), want);
  EXPECT_EQ(total_size(vars), 7u);
}

TEST(FunctorLogDensity, WrapsHandWrittenGaussian) {
  auto ld = make_log_density(2, [](const double* x, double* g) {
    g[0] = -x[0];
    g[1] = -x[1];
    return -0.5 * (x[0] * x[0] + x[1] * x[1]);
  });
  double x[2] = {1.0, -2.0}, g[2];
  EXPECT_DOUBLE_EQ(ld->logp_grad(x, g), -2.5);
  EXPECT_DOUBLE_EQ(g[1], 2.0);
  EXPECT_DOUBLE_EQ(ld->logp(x), -2.5);
  EXPECT_EQ(flat_names(ld->output_vars())[1], "x.2");
}

// The names given to make_log_density name its coordinates (constrain() copies x into a buffer
// of their total size): a total other than dim wrote past that buffer in run_chains.
TEST(FunctorLogDensity, OutputNamesMustCoverTheCoordinatesExactly) {
  auto f = [](const double*, double* g) { return g[0] = g[1] = g[2] = 0; };
  try {
    make_log_density(3, f, {{"a", {}}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("1 elements in all"), std::string::npos) << what;
    EXPECT_NE(what.find("3 coordinates"), std::string::npos) << what;
  }
  EXPECT_THROW(make_log_density(3, f, {{"a", {2}}, {"b", {2}}}), std::invalid_argument);
  EXPECT_NO_THROW(make_log_density(3, f, {{"a", {}}, {"b", {2}}}));
}

// Initial values go by the names given, not the default's "x".
TEST(FunctorLogDensity, UnconstrainsByTheGivenNames) {
  auto ld = make_log_density(3, [](const double*, double* g) { return g[0] = g[1] = g[2] = 0; },
                             {{"a", {}}, {"b", {2}}});
  double x[3] = {0, 0, 0};
  std::string error;
  ASSERT_TRUE(ld->unconstrain({{"b", {2.0, 3.0}}, {"a", {1.0}}}, x, &error)) << error;
  EXPECT_EQ(std::vector<double>(x, x + 3), (std::vector<double>{1.0, 2.0, 3.0}));
  EXPECT_FALSE(ld->unconstrain({{"a", {1.0}}}, x, &error));
  EXPECT_EQ(error, "variable 'b': no value given");
  EXPECT_FALSE(ld->unconstrain({{"a", {1.0}}, {"b", {1.0}}}, x, &error));
  EXPECT_EQ(error, "variable 'b': value has 1 elements; expected 2");
  EXPECT_FALSE(ld->unconstrain({{"a", {1.0}}, {"b", {1.0, 2.0}}, {"c", {0.0}}}, x, &error));
  EXPECT_EQ(error, "unknown variable 'c'");
}

}  // namespace
}  // namespace exmc
