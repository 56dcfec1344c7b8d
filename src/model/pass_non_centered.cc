// Rewrite pass "non_centered": x ~ normal(mu, sigma) becomes z ~ normal(0, 1), x = mu + sigma z,
// for the variables the policy selects. The lowering builds z and reconstructs x.
#include <stdexcept>
#include <string>

#include "exmc/dist/kernel.hpp"
#include "exmc/model/passes.hpp"

namespace exmc::model {

void non_center(const graph::Graph& g, ModelIR& ir, Ncp global) {
  for (RvDecl& r : ir.rvs) {
    const Ncp policy = r.ncp != Ncp::kAuto ? r.ncp : global;
    r.non_centered = false;
    if (policy == Ncp::kOff || !r.dist) continue;
    const bool normal = r.dist->name == "normal" && r.args.size() == 2;
    const bool identity = !r.kind || *r.kind == transform::Kind::kIdentity;
    if (policy == Ncp::kOn && r.ncp == Ncp::kOn && (!normal || !identity))
      throw std::invalid_argument("variable '" + r.name + "': non-centring asked for, but it " +
                                  (normal ? "has a constraint transform" : "is not Normal"));
    if (!normal || !identity) continue;
    const bool loc_free = g.node(r.args[0]).depends_on_params;
    const bool scale_free = g.node(r.args[1]).depends_on_params;
    r.non_centered = policy == Ncp::kOn || (loc_free && scale_free);
  }
}

}  // namespace exmc::model
