// Constraint transforms expressed as graph ops, so the graph differentiates them: used by the
// lowering for every free variable. Mirrors the kernels of exmc/transform (same coordinates,
// same log-Jacobians, same guards).
#pragma once

#include "exmc/graph/graph.hpp"
#include "exmc/transform/transform.hpp"

namespace exmc::model::detail {

struct GraphTransform {
  graph::Expr y;     // constrained value, in the variable's shape
  graph::Expr logj;  // scalar log|J|; invalid when identically 0
};

// x: the unconstrained slice (shape {u}; invalid when u == 0). Bounds: invalid when absent.
// clamp: the log-transform input clamp of the precision compiled for (20 or 200), applied to
// finite inputs; NaN and +-inf pass it unchanged when keep_non_finite (CompileOptions).
GraphTransform transform_in_graph(graph::Graph& g, transform::Kind kind, graph::Expr x, const graph::Shape& shape,
                                  graph::Expr lower, graph::Expr upper, graph::Expr offset, graph::Expr multiplier,
                                  double clamp, bool keep_non_finite = false);

}  // namespace exmc::model::detail
