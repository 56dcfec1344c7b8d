// The rewrite passes alone: which transform each support gets, and which variables the
// non-centring pass selects under each policy.
#include "exmc/model/passes.hpp"

#include <gtest/gtest.h>

#include "exmc/model/model.hpp"
#include "test_dists.hpp"

namespace exmc::model {
namespace {

using testing::dirichlet;
using testing::half_normal;
using testing::normal;

TEST(DefaultTransforms, FromSupport) {
  Model m;
  m.rv("a", normal(), {0.0, 1.0});
  m.rv("s", half_normal(), {1.0});
  m.rv("p", dirichlet(), {1.0}, {4});
  m.rv("q", half_normal(), {1.0}, {}, softplus());
  ModelIR ir = m.ir();
  attach_default_transforms(m.graph(), ir);
  EXPECT_EQ(*ir.rvs[0].kind, transform::Kind::kIdentity);
  EXPECT_EQ(*ir.rvs[1].kind, transform::Kind::kLower);
  EXPECT_TRUE(ir.rvs[1].lower.set);
  EXPECT_EQ(ir.rvs[1].lower.value, 0.0);
  EXPECT_EQ(*ir.rvs[2].kind, transform::Kind::kSimplex);
  EXPECT_EQ(*ir.rvs[3].kind, transform::Kind::kSoftplus);  // a declared choice is kept
}

TEST(NonCentring, PolicySelectsVariables) {
  Model m;
  Expr mu = m.rv("mu", normal(), {0.0, 1.0});
  Expr tau = m.rv("tau", half_normal(), {1.0});
  m.rv("both", normal(), {mu, tau}, {3});                       // auto: yes
  m.rv("loc_only", normal(), {mu, 2.0}, {3});                   // auto: no
  m.rv("off", normal(), {mu, tau}, {3}, {}, Ncp::kOff);         // never
  m.rv("on", normal(), {0.0, 2.0}, {3}, {}, Ncp::kOn);          // forced
  m.rv("bounded", normal(), {mu, tau}, {}, lower(0.0));         // has a transform: skipped
  auto run = [&](Ncp global) {
    ModelIR ir = m.ir();
    attach_default_transforms(m.graph(), ir);
    non_center(m.graph(), ir, global);
    std::vector<bool> r;
    for (const auto& v : ir.rvs) r.push_back(v.non_centered);
    return r;
  };
  EXPECT_EQ(run(Ncp::kAuto), (std::vector<bool>{false, false, true, false, false, true, false}));
  // A variable's own on/off wins; its auto defers to the global policy.
  EXPECT_EQ(run(Ncp::kOff), (std::vector<bool>{false, false, false, false, false, true, false}));
  EXPECT_EQ(run(Ncp::kOn), (std::vector<bool>{true, false, true, true, false, true, false}));
}

TEST(LiftGlm, MatchesAffineLocationsOverDataOnly) {
  Model m;
  Expr X = m.data("X", std::vector<double>(6, 1.0), {3, 2});
  Expr beta = m.rv("beta", normal(), {0.0, 1.0}, {2});
  Expr a = m.rv("a", normal(), {0.0, 1.0});
  Expr Xp = m.rv("Xp", normal(), {0.0, 1.0}, {3, 2});
  m.observe("y1", normal(), {a + graph::matvec(X, beta), 1.0}, {1, 2, 3});   // lifted, alpha = a
  m.observe("y2", normal(), {graph::matvec(X, beta), 1.0}, {1, 2, 3});       // lifted, no alpha
  m.observe("y3", normal(), {graph::matvec(Xp, beta), 1.0}, {1, 2, 3});      // X is a parameter
  ObserveOptions w;
  w.weights = {1, 2, 1};
  m.observe("y4", normal(), {graph::matvec(X, beta), 1.0}, {1, 2, 3}, {}, w);  // weighted
  m.observe("y5", normal(), {graph::exp(graph::matvec(X, beta)), 1.0}, {1, 2, 3});  // not affine
  ModelIR ir = m.ir();
  lift_glm(m.graph(), ir);
  EXPECT_TRUE(ir.obs[0].glm.set);
  EXPECT_EQ(ir.obs[0].glm.alpha, a.id());
  EXPECT_EQ(ir.obs[0].glm.X, X.id());
  EXPECT_EQ(ir.obs[0].glm.beta, beta.id());
  EXPECT_TRUE(ir.obs[1].glm.set);
  EXPECT_EQ(ir.obs[1].glm.alpha, -1);
  EXPECT_FALSE(ir.obs[2].glm.set);
  EXPECT_FALSE(ir.obs[3].glm.set);
  EXPECT_FALSE(ir.obs[4].glm.set);
}

// The Stan front end writes `y ~ normal(a + X * beta, 1)` on data y as a term on a data
// variate, not as an observation: the same lift applies; a variate that is a parameter does not.
// Data X (3 x 2) and y (3), parameters beta (2) and a: the pieces of a GLM term.
struct GlmPieces {
  Model m;
  Expr X = m.data("X", std::vector<double>(6, 1.0), {3, 2});
  Expr y = m.data("y", {1, 2, 3}, {3});
  Expr beta = m.rv("beta", normal(), {0.0, 1.0}, {2});
  Expr a = m.rv("a", normal(), {0.0, 1.0});
};

TEST(LiftGlm, MatchesTermsOnDataVariatesAsTheStanFrontEndWritesThem) {
  GlmPieces p;
  auto& [m, X, y, beta, a] = p;
  Expr z = m.param("z", {3});
  m.add_lpdf(normal(), y, {a + graph::matvec(X, beta), 1.0}, "y");                  // lifted
  m.add_lpdf(testing::bernoulli_logit(), y, {graph::matvec(X, beta) + a}, "y01");   // lifted
  m.add_lpdf(normal(), z, {graph::matvec(X, beta), 1.0}, "z");                       // variate is a parameter
  m.add_lpdf(normal(), y, {graph::exp(graph::matvec(X, beta)), 1.0}, "exp");        // not affine
  ModelIR ir = m.ir();
  lift_glm(m.graph(), ir);
  ASSERT_EQ(ir.factors.size(), 4u);
  EXPECT_TRUE(ir.factors[0].glm.set);
  EXPECT_EQ(ir.factors[0].glm.alpha, a.id());
  EXPECT_EQ(ir.factors[0].glm.X, X.id());
  EXPECT_EQ(ir.factors[0].glm.beta, beta.id());
  EXPECT_TRUE(ir.factors[1].glm.set);
  EXPECT_EQ(ir.factors[1].glm.alpha, a.id());
  EXPECT_FALSE(ir.factors[2].glm.set);
  EXPECT_FALSE(ir.factors[3].glm.set);
}

// `target += normal_lpdf(y | a + X * beta, 1)`: a log-density node inside an expression.
TEST(LiftGlm, MatchesLogDensityNodesInsideExpressions) {
  GlmPieces p;
  auto& [m, X, y, beta, a] = p;
  Expr lifted = graph::dist_lpdf(normal(), {y, a + graph::matvec(X, beta), m.graph().constant(1.0)}, false);
  Expr z = m.rv("z", normal(), {0.0, 1.0}, {3});
  Expr on_param = graph::dist_lpdf(normal(), {z, graph::matvec(X, beta), m.graph().constant(1.0)}, false);
  m.potential(lifted + on_param);
  ModelIR ir = m.ir();
  lift_glm(m.graph(), ir);
  ASSERT_EQ(ir.lifted_dist_nodes.size(), 1u);
  EXPECT_EQ(ir.lifted_dist_nodes[0].node, lifted.id());
  EXPECT_EQ(ir.lifted_dist_nodes[0].glm.alpha, a.id());
  EXPECT_EQ(ir.lifted_dist_nodes[0].glm.X, X.id());
}

}  // namespace
}  // namespace exmc::model
