// Rewrite pass "lift_glm": finds observations, `y ~ dist(...)` terms on data y (the Stan front
// end's form) and log-density nodes inside expressions (`target += normal_lpdf(y | ...)`), whose
// location is alpha + X beta over a data matrix X, and marks them for a fused GLM likelihood node.
#include "exmc/dist/kernel.hpp"
#include "exmc/model/passes.hpp"

namespace exmc::model {

namespace {

// The GLM form of `y ~ dist(args)`: normal(alpha + X beta, sigma) or bernoulli_logit(alpha +
// X beta) with X a data matrix of one row per element of y; unset otherwise.
GlmLift match(const graph::Graph& g, const dist::DistInfo& dist, const std::vector<int>& args, int y) {
  using graph::Op;
  const bool normal = dist.name == "normal" && args.size() == 2;
  const bool logit = dist.name == "bernoulli_logit" && args.size() == 1;
  if (!normal && !logit) return {};
  const graph::Node& loc = g.node(args[0]);
  int mv = -1, alpha = -1;
  if (loc.op == Op::kMatVec) {
    mv = args[0];
  } else if (loc.op == Op::kAdd) {
    for (int side = 0; side < 2 && mv < 0; ++side) {
      const int a = loc.in[size_t(side)], b = loc.in[size_t(1 - side)];
      if (g.node(a).op == Op::kMatVec) {
        mv = a;
        alpha = b;
      }
    }
  }
  if (mv < 0) return {};
  const graph::Node& m = g.node(mv);
  const int X = m.in[0], beta = m.in[1];
  if (g.node(X).depends_on_params) return {};  // X must be data
  const size_t N = graph::shape_size(g.node(y).shape);
  if (g.node(X).shape[0] != N) return {};
  if (alpha >= 0) {
    const size_t na = graph::shape_size(g.node(alpha).shape);
    if (na != 1 && na != N) return {};
  }
  return {true, X, alpha, beta};
}

}  // namespace

void lift_glm(const graph::Graph& g, ModelIR& ir) {
  for (ObsDecl& o : ir.obs) {
    o.glm = {};
    if (!o.weights.empty() || !o.mask.empty() || o.args.empty()) continue;
    o.glm = match(g, *o.dist, o.args, o.data);
  }
  // `y ~ dist(...)` statements whose variate is data (what the Stan front end emits for data y).
  for (FactorDecl& f : ir.factors) {
    f.glm = {};
    if (f.args.size() < 2 || !f.dist || g.node(f.args[0]).depends_on_params) continue;
    f.glm = match(g, *f.dist, std::vector<int>(f.args.begin() + 1, f.args.end()), f.args[0]);
  }
  // Log densities inside expressions (`target += normal_lpdf(y | X * beta, sigma)`).
  ir.lifted_dist_nodes.clear();
  for (size_t id = 0; id < g.size(); ++id) {
    const graph::Node& n = g.node(int(id));
    if (n.op != graph::Op::kDistLpdf || !n.dist || n.in.size() < 2 || g.node(n.in[0]).depends_on_params) continue;
    const GlmLift lift = match(g, *n.dist, std::vector<int>(n.in.begin() + 1, n.in.end()), n.in[0]);
    if (lift.set) ir.lifted_dist_nodes.push_back({int(id), lift});
  }
}

}  // namespace exmc::model
