#include "exmc/optimize/lbfgs.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "targets.hpp"

namespace exmc::optimize {
namespace {

using testing::CorrelatedGaussian;

// Tolerances tight enough that the stopping rule, not the tolerance, limits accuracy.
LbfgsOptions tight() {
  LbfgsOptions o;
  o.tol_obj = 0;
  o.tol_rel_obj = 0;
  o.tol_grad = 1e-10;
  o.tol_rel_grad = 0;
  o.tol_param = 0;
  return o;
}

double max_abs_diff(const std::vector<double>& a, const Eigen::VectorXd& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[static_cast<Eigen::Index>(i)]));
  return m;
}

TEST(Lbfgs, FindsModeOfCorrelatedGaussian) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const OptimizeResult r = lbfgs(*ld, std::vector<double>(5, 0.0), tight());
  EXPECT_EQ(r.termination, Termination::kGradient) << describe(r.termination);
  EXPECT_TRUE(r.converged());
  EXPECT_LT(max_abs_diff(r.x, t.mu), 1e-6);
  EXPECT_NEAR(r.logp, 0.0, 1e-12);
  EXPECT_LT(r.iterations, 100);
  EXPECT_GT(r.grad_evals, static_cast<uint64_t>(r.iterations));
}

TEST(Lbfgs, DefaultTolerancesConvergeNearTheMode) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const OptimizeResult r = lbfgs(*ld, std::vector<double>(5, 0.0));
  ASSERT_TRUE(r.converged()) << describe(r.termination);
  // CmdStan's defaults stop once g' H^-1 g < 1e7 eps, i.e. 2 (logp_max - logp) is below ~2e-9.
  EXPECT_GT(r.logp, -1e-8);
  EXPECT_LT(max_abs_diff(r.x, t.mu), 1e-3);
}

// A normal scale on the log scale behind the transforms' f64 guard (input clamped to [-200, 200],
// flat beyond). From a poor start the gradient is ~1.5e8: init_alpha times that would land on the
// flat, finite plateau, which a line search accepts and whose zero gradient reads as converged
// (found on posteriordb's kidiq: sigma = 7e86). The first step is at most one unit long.
TEST(Lbfgs, HugeFirstGradientDoesNotJumpOntoTheGuardsPlateau) {
  constexpr double n = 434, s2 = 434 * 6400.0;  // 434 observations, sum of squares
  const auto ld = make_log_density(1, [&](const double* x, double* g) {
    const double c = std::clamp(x[0], -200.0, 200.0);
    const bool inside = x[0] > -200 && x[0] < 200;
    g[0] = inside ? -n + s2 * std::exp(-2 * c) : 0.0;
    return -n * c - 0.5 * s2 * std::exp(-2 * c);
  });
  const auto r = lbfgs(*ld, {-2.0});
  ASSERT_TRUE(r.converged()) << describe(r.termination);
  // Default tolerances: sqrt(1e7 eps |lp| / curvature) = sqrt(2.2e-9 * 2118 / 868) ~ 7e-5.
  EXPECT_NEAR(r.x[0], 0.5 * std::log(s2 / n), 1.5e-4);
}

TEST(Lbfgs, FindsModeOfRosenbrock) {
  auto ld = testing::rosenbrock();
  const OptimizeResult r = lbfgs(*ld, {-1.2, 1.0}, tight());
  ASSERT_TRUE(r.converged()) << describe(r.termination);
  EXPECT_NEAR(r.x[0], 1.0, 1e-6);
  EXPECT_NEAR(r.x[1], 1.0, 1e-6);
  EXPECT_LT(r.iterations, 200);
}

TEST(Lbfgs, ObserverSeesStartAndIncreasingLogp) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const std::vector<double> x0 = {3, 3, 3, 3, 3};
  std::vector<int> its;
  std::vector<double> lps;
  std::vector<double> last_x;
  const OptimizeResult r = lbfgs(*ld, x0, {}, [&](const Iterate& it) {
    its.push_back(it.iteration);
    lps.push_back(it.logp);
    last_x.assign(it.x, it.x + it.dim);
    if (it.iteration == 0) {
      EXPECT_EQ(std::vector<double>(it.x, it.x + it.dim), x0);
      std::vector<double> g(5);
      EXPECT_DOUBLE_EQ(it.logp, ld->logp_grad(it.x, g.data()));
      for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(it.grad[i], g[i]);
    }
    return true;
  });
  ASSERT_EQ(its.size(), static_cast<size_t>(r.iterations) + 1);
  for (size_t i = 0; i < its.size(); ++i) EXPECT_EQ(its[i], static_cast<int>(i));
  for (size_t i = 1; i < lps.size(); ++i) EXPECT_GT(lps[i], lps[i - 1]) << "iteration " << i;
  EXPECT_EQ(last_x, r.x);
  EXPECT_EQ(lps.back(), r.logp);
}

TEST(Lbfgs, ObserverCanStop) {
  CorrelatedGaussian t;
  auto ld = t.density();
  const OptimizeResult r =
      lbfgs(*ld, std::vector<double>(5, 0.0), {}, [](const Iterate& it) { return it.iteration < 3; });
  EXPECT_EQ(r.termination, Termination::kObserver);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_FALSE(r.converged());
}

TEST(Lbfgs, MaxIterations) {
  CorrelatedGaussian t;
  auto ld = t.density();
  LbfgsOptions o;
  o.max_iterations = 2;
  const OptimizeResult r = lbfgs(*ld, std::vector<double>(5, 0.0), o);
  EXPECT_EQ(r.termination, Termination::kMaxIterations);
  EXPECT_EQ(r.iterations, 2);
  EXPECT_FALSE(r.converged());
}

TEST(Lbfgs, NonFiniteStartIsAnError) {
  auto nan_at_start = make_log_density(2, [](const double* x, double* g) {
    g[0] = g[1] = 0;
    return x[0] < 0 ? std::numeric_limits<double>::quiet_NaN() : -x[0] * x[0];
  });
  OptimizeResult r = lbfgs(*nan_at_start, {-1, 0});
  EXPECT_EQ(r.termination, Termination::kError);
  EXPECT_EQ(r.iterations, 0);
  EXPECT_EQ(r.x, (std::vector<double>{-1, 0}));
  for (double gi : r.grad) EXPECT_FALSE(std::isnan(gi));

  auto throws = make_log_density(1, [](const double*, double*) -> double { throw std::runtime_error("boom"); });
  r = lbfgs(*throws, {0.0});
  EXPECT_EQ(r.termination, Termination::kError);
  EXPECT_FALSE(describe(r.termination).empty());
}

// Mode at 2 in every coordinate; beyond x_0 > 2.5 the density is NaN, beyond x_1 > 2.5 it
// throws. A long first step lands there and must be shrunk, not crash.
TEST(Lbfgs, ShrinksOutOfNonFiniteRegion) {
  auto ld = make_log_density(3, [](const double* x, double* g) {
    if (x[1] > 2.5) throw std::domain_error("outside");
    double lp = 0;
    for (int i = 0; i < 3; ++i) {
      g[i] = -(i + 1.0) * (x[i] - 2);
      lp += -0.5 * (i + 1.0) * (x[i] - 2) * (x[i] - 2);
    }
    return x[0] > 2.5 ? std::numeric_limits<double>::quiet_NaN() : lp;
  });
  LbfgsOptions o = tight();
  o.init_alpha = 50;  // the first step goes far past the region boundary
  const OptimizeResult r = lbfgs(*ld, {0, 0, 0}, o);
  ASSERT_TRUE(r.converged()) << describe(r.termination);
  for (double xi : r.x) EXPECT_NEAR(xi, 2.0, 1e-6);
}

TEST(Lbfgs, UnboundedTargetStopsWithoutConverging) {
  // log p = x has no mode: the iterates run off; it must end cleanly at a finite point.
  auto ld = make_log_density(1, [](const double* x, double* g) {
    g[0] = 1;
    return x[0];
  });
  LbfgsOptions o;
  o.max_iterations = 50;
  const OptimizeResult r = lbfgs(*ld, {0.0}, o);
  EXPECT_TRUE(std::isfinite(r.logp));
  EXPECT_GT(r.x[0], 0.0);
}

TEST(Lbfgs, ValidateNamesTheField) {
  auto expect_bad = [](LbfgsOptions o, const std::string& field) {
    try {
      o.validate();
      ADD_FAILURE() << field << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  LbfgsOptions o;
  EXPECT_NO_THROW(o.validate());
  o = {}; o.history = 0; expect_bad(o, "history");
  o = {}; o.max_iterations = -1; expect_bad(o, "max_iterations");
  o = {}; o.init_alpha = 0; expect_bad(o, "init_alpha");
  o = {}; o.init_alpha = std::numeric_limits<double>::infinity(); expect_bad(o, "init_alpha");
  o = {}; o.tol_obj = -1; expect_bad(o, "tol_obj");
  o = {}; o.tol_rel_obj = std::numeric_limits<double>::quiet_NaN(); expect_bad(o, "tol_rel_obj");
  o = {}; o.tol_grad = -1; expect_bad(o, "tol_grad");
  o = {}; o.tol_rel_grad = -1; expect_bad(o, "tol_rel_grad");
  o = {}; o.tol_param = -1; expect_bad(o, "tol_param");
  CorrelatedGaussian t;
  auto ld = t.density();
  o = {}; o.history = 0;
  EXPECT_THROW(lbfgs(*ld, std::vector<double>(5, 0.0), o), std::invalid_argument);
  EXPECT_THROW(lbfgs(*ld, std::vector<double>(4, 0.0)), std::invalid_argument);
}

TEST(Lbfgs, DescribeUsesCmdStanWording) {
  EXPECT_EQ(describe(Termination::kRelativeGradient),
            "Convergence detected: relative gradient magnitude is below tolerance");
  EXPECT_EQ(describe(Termination::kObjective),
            "Convergence detected: absolute change in objective function was below tolerance");
  EXPECT_TRUE(converged(Termination::kParameter));
  EXPECT_FALSE(converged(Termination::kLineSearchFailed));
  EXPECT_FALSE(converged(Termination::kError));
}

TEST(Lbfgs, Deterministic) {
  auto ld = testing::rosenbrock();
  const OptimizeResult a = lbfgs(*ld, {-1.2, 1.0});
  const OptimizeResult b = lbfgs(*ld, {-1.2, 1.0});
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.grad_evals, b.grad_evals);
}

}  // namespace
}  // namespace exmc::optimize
