// Rewrite pass "lift_glm": finds observations whose location is alpha + X beta over a data
// matrix X and marks them for a fused GLM likelihood node.
#include "exmc/dist/kernel.hpp"
#include "exmc/model/passes.hpp"

namespace exmc::model {

void lift_glm(const graph::Graph& g, ModelIR& ir) {
  using graph::Op;
  for (ObsDecl& o : ir.obs) {
    o.glm = {};
    if (!o.weights.empty() || !o.mask.empty() || o.args.empty()) continue;
    const bool normal = o.dist->name == "normal" && o.args.size() == 2;
    const bool logit = o.dist->name == "bernoulli_logit" && o.args.size() == 1;
    if (!normal && !logit) continue;
    const graph::Node& loc = g.node(o.args[0]);
    int mv = -1, alpha = -1;
    if (loc.op == Op::kMatVec) {
      mv = o.args[0];
    } else if (loc.op == Op::kAdd) {
      for (int side = 0; side < 2 && mv < 0; ++side) {
        const int a = loc.in[size_t(side)], b = loc.in[size_t(1 - side)];
        if (g.node(a).op == Op::kMatVec) {
          mv = a;
          alpha = b;
        }
      }
    }
    if (mv < 0) continue;
    const graph::Node& m = g.node(mv);
    const int X = m.in[0], beta = m.in[1];
    if (g.node(X).depends_on_params) continue;  // X must be data
    const size_t N = graph::shape_size(g.node(o.data).shape);
    if (g.node(X).shape[0] != N) continue;
    if (alpha >= 0) {
      const size_t na = graph::shape_size(g.node(alpha).shape);
      if (na != 1 && na != N) continue;
    }
    o.glm = {true, X, alpha, beta};
  }
}

}  // namespace exmc::model
