// CompileOptions::jacobian: without it the log density drops the constraint transforms'
// log-Jacobians (Stan's optimize default), and non-centring no longer shifts the mode.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "exmc/model/model.hpp"
#include "test_dists.hpp"

namespace exmc::model {
namespace {

using testing::half_normal;
using testing::normal;

TEST(Jacobian, DroppingItRemovesTheLogJacobianOfLowerBounds) {
  Model m;
  m.rv("sigma", half_normal(), {2.0});                  // default lower=0: sigma = exp(x0)
  m.rv("b", normal(), {1.0, 3.0}, {2}, lower(0.5));     // b = 0.5 + exp(x1..x2)
  m.rv("mu", normal(), {0.0, 1.0});                     // unconstrained: no Jacobian either way
  CompileOptions with, without;
  without.jacobian = false;
  auto lw = m.compile<double>(with), lo = m.compile<double>(without);
  ASSERT_EQ(lw->dim(), 4u);
  for (const std::vector<double>& x : {std::vector<double>{0.3, -1.0, 2.0, 0.7}, std::vector<double>{-2.5, 0.0, -0.4, 1.1},
                                       std::vector<double>{1.7, 3.0, 0.1, -3.0}}) {
    std::vector<double> gw(4), go(4);
    const double vw = lw->logp_grad(x.data(), gw.data()), vo = lo->logp_grad(x.data(), go.data());
    // log |d exp(x)/dx| = x for each exp-transformed coordinate.
    EXPECT_NEAR(vw - vo, x[0] + x[1] + x[2], 1e-10);
    EXPECT_NEAR(gw[0] - go[0], 1.0, 1e-10);
    EXPECT_NEAR(gw[1] - go[1], 1.0, 1e-10);
    EXPECT_NEAR(gw[2] - go[2], 1.0, 1e-10);
    EXPECT_NEAR(gw[3] - go[3], 0.0, 1e-12);
    // The density itself, by hand, without Jacobians (propto: constants dropped consistently).
    const double sigma = std::exp(x[0]), b1 = 0.5 + std::exp(x[1]), b2 = 0.5 + std::exp(x[2]);
    const double by_hand = -0.5 * sigma * sigma / 4 - 0.5 * ((b1 - 1) * (b1 - 1) + (b2 - 1) * (b2 - 1)) / 9 -
                           0.5 * x[3] * x[3];
    EXPECT_NEAR(vo, by_hand, 1e-10);
  }
}

// theta = mu + tau z. Without Jacobians the non-centred density at z must equal the centred
// one at theta (with Jacobians they differ by 8 log tau, tested in model_test.cc).
TEST(Jacobian, NonCentredMatchesCentredWithoutJacobian) {
  const std::vector<double> y = {28, 8, -3, 7, -1, 1, 18, 12};
  auto build = [&](Model& m, Ncp ncp) {
    Expr mu = m.rv("mu", normal(), {0.0, 5.0});
    Expr tau = m.rv("tau", half_normal(), {5.0});
    Expr theta = m.rv("theta", normal(), {mu, tau}, {8}, {}, ncp);
    m.observe("y", normal(), {theta, 10.0}, y);
  };
  Model mc, mn;
  build(mc, Ncp::kOff);
  build(mn, Ncp::kOn);
  CompileOptions o;
  o.jacobian = false;
  auto lc = mc.compile<double>(o), ln = mn.compile<double>(o);
  for (double lt : {-1.0, 0.5, 2.0}) {
    std::vector<double> xn = {1.5, lt, 0.1, -0.2, 0.3, 1.0, -1.5, 0.7, 0.0, 2.0};
    std::vector<double> xc = xn;
    const double tau = std::exp(lt);
    for (int i = 0; i < 8; ++i) xc[2 + i] = xn[0] + tau * xn[2 + i];
    EXPECT_NEAR(ln->logp(xn.data()), lc->logp(xc.data()), 1e-9);
  }
}

}  // namespace
}  // namespace exmc::model
