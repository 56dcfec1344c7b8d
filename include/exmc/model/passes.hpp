// The rewrite passes over a model's IR. Each is one function in its own file, run by
// Model::compile in this order, and callable alone in tests.
#pragma once

#include "exmc/graph/graph.hpp"
#include "exmc/model/ir.hpp"

namespace exmc::model {

// "default_transforms": gives every free variable without a declared constraint the transform
// its distribution's support calls for (positive -> lower(0), unit interval -> lower_upper(0, 1),
// simplex -> simplex, ...; bounds taken from the distribution's arguments where the support is
// bounded by them). Throws std::invalid_argument naming the variable for a discrete
// distribution or a support no transform covers.
void attach_default_transforms(const graph::Graph& g, ModelIR& ir);

// "non_centered": marks each Normal variable with an identity transform for non-centring:
// z ~ normal(0, 1), x = mu + sigma z. Under kAuto (per variable, deferring to `global`) only
// when both mu and sigma depend on free variables; kOn forces it for any Normal with an
// identity transform; kOff never. Throws naming the variable when kOn is asked of a variable
// that cannot be non-centred.
void non_center(const graph::Graph& g, ModelIR& ir, Ncp global);

// "lift_glm": an observation y ~ normal(alpha + X beta, sigma) or y ~ bernoulli_logit(alpha +
// X beta), with X a data matrix (alpha optional, scalar or per row), is marked to lower into one
// fused likelihood node that forms X beta inside the kernel instead of as a graph vector.
void lift_glm(const graph::Graph& g, ModelIR& ir);

}  // namespace exmc::model
