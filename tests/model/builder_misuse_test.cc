// The builder used the way a newcomer might misuse it: what must be refused (naming the
// variable) and what must still mean what the model says.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/model/model.hpp"
#include "test_dists.hpp"

namespace exmc::model {
namespace {

using testing::normal;

double logp_at(const LogDensity& ld, std::vector<double> x) {
  std::vector<double> g(ld.dim());
  return ld.logp_grad(x.data(), g.data());
}

// theta ~ normal(mu, s) with s a flat parameter: the automatic non-centring must not let s go
// negative, where the centred density (and Stan) is -inf.
TEST(BuilderMisuse, NonCentringKeepsTheScaleOfAFlatParameterPositive) {
  for (Ncp ncp : {Ncp::kAuto, Ncp::kOn}) {
    Model m;
    Expr mu = m.rv("mu", normal(), {0.0, 1.0});
    Expr s = m.param("s");
    m.add_lpdf(normal(), s, {0.0, 1.0}, "s prior");
    m.rv("theta", normal(), {mu, s}, {2}, {}, ncp);
    CompileOptions o;
    o.ncp = ncp;
    auto ld = m.compile<double>(o);
    ASSERT_EQ(ld->dim(), 4u);
    // x = (mu, s, z1, z2) when non-centred.
    EXPECT_TRUE(std::isfinite(logp_at(*ld, {0.1, 0.7, 0.3, -0.2})));
    EXPECT_EQ(logp_at(*ld, {0.1, -0.7, 0.3, -0.2}), -INFINITY);
    EXPECT_EQ(logp_at(*ld, {0.1, 0.0, 0.3, -0.2}), -INFINITY);
  }
}

}  // namespace
}  // namespace exmc::model
