#include "exmc/core/log_density.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace exmc
