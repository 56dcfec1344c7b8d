#include "exmc/optimize/newton.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "targets.hpp"

namespace exmc::optimize {
namespace {

NewtonOptions tight() {
  NewtonOptions o;
  o.tol_obj = 0;
  o.tol_rel_obj = 0;
  o.tol_grad = 1e-9;
  o.tol_rel_grad = 0;
  o.tol_param = 0;
  return o;
}

TEST(Newton, FindsModeOfCorrelatedGaussian) {
  testing::CorrelatedGaussian t;
  auto ld = t.density();
  const OptimizeResult r = newton(*ld, std::vector<double>(5, 0.0), tight());
  ASSERT_TRUE(r.converged()) << describe(r.termination);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(r.x[i], t.mu[i], 1e-6);
  // A quadratic is solved by the first full step; the second only confirms it.
  EXPECT_LE(r.iterations, 2);
}

TEST(Newton, DefaultTolerancesOnGaussian) {
  testing::CorrelatedGaussian t;
  auto ld = t.density();
  const OptimizeResult r = newton(*ld, std::vector<double>(5, 0.0));
  ASSERT_TRUE(r.converged()) << describe(r.termination);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(r.x[i], t.mu[i], 1e-6);
}

TEST(Newton, FindsModeOfRosenbrock) {
  auto ld = testing::rosenbrock();
  const OptimizeResult r = newton(*ld, {-1.2, 1.0}, tight());
  ASSERT_TRUE(r.converged()) << describe(r.termination);
  EXPECT_NEAR(r.x[0], 1.0, 1e-6);
  EXPECT_NEAR(r.x[1], 1.0, 1e-6);
}

// log p = x^2 - x^4 is convex near 0 (a minimum): the raw Newton step would go downhill.
// The flipped curvature must still climb to a mode at +-1/sqrt(2).
TEST(Newton, ClimbsFromWhereTheHessianIsPositive) {
  auto ld = make_log_density(1, [](const double* x, double* g) {
    g[0] = 2 * x[0] - 4 * x[0] * x[0] * x[0];
    return x[0] * x[0] - std::pow(x[0], 4);
  });
  std::vector<double> lps;
  const OptimizeResult r = newton(*ld, {0.1}, tight(), [&](const Iterate& it) {
    lps.push_back(it.logp);
    return true;
  });
  ASSERT_TRUE(r.converged()) << describe(r.termination);
  EXPECT_NEAR(r.x[0], 1 / std::sqrt(2.0), 1e-8);
  ASSERT_EQ(lps.size(), static_cast<size_t>(r.iterations) + 1);
  for (size_t i = 1; i < lps.size(); ++i) EXPECT_GT(lps[i], lps[i - 1]);
}

TEST(Newton, TerminationReasons) {
  auto ld = testing::rosenbrock();
  NewtonOptions o;
  o.max_iterations = 1;
  OptimizeResult r = newton(*ld, {-1.2, 1.0}, o);
  EXPECT_EQ(r.termination, Termination::kMaxIterations);
  EXPECT_EQ(r.iterations, 1);

  r = newton(*ld, {-1.2, 1.0}, {}, [](const Iterate& it) { return it.iteration < 2; });
  EXPECT_EQ(r.termination, Termination::kObserver);
  EXPECT_EQ(r.iterations, 2);

  auto nan_start = make_log_density(1, [](const double*, double* g) {
    g[0] = 0;
    return std::numeric_limits<double>::quiet_NaN();
  });
  r = newton(*nan_start, {0.0});
  EXPECT_EQ(r.termination, Termination::kError);
  EXPECT_FALSE(std::isnan(r.grad[0]));
}

TEST(Newton, ValidateNamesTheField) {
  auto expect_bad = [](NewtonOptions o, const std::string& field) {
    try {
      o.validate();
      ADD_FAILURE() << field << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  NewtonOptions o;
  EXPECT_NO_THROW(o.validate());
  o = {}; o.max_iterations = -1; expect_bad(o, "max_iterations");
  o = {}; o.tol_obj = -1; expect_bad(o, "tol_obj");
  o = {}; o.tol_rel_obj = -1; expect_bad(o, "tol_rel_obj");
  o = {}; o.tol_grad = std::numeric_limits<double>::infinity(); expect_bad(o, "tol_grad");
  o = {}; o.tol_rel_grad = -1; expect_bad(o, "tol_rel_grad");
  o = {}; o.tol_param = -1; expect_bad(o, "tol_param");
}

}  // namespace
}  // namespace exmc::optimize
