// Constraint transforms expressed as graph ops, so the graph differentiates them: used by the
// lowering for every free variable. Mirrors the kernels of exmc/transform (same coordinates,
// same log-Jacobians, same guards).
#pragma once

#include "exmc/graph/graph.hpp"
#include "exmc/transform/guards.hpp"
#include "exmc/transform/transform.hpp"

namespace exmc::model::detail {

struct GraphTransform {
  graph::Expr y;     // constrained value, in the variable's shape
  graph::Expr logj;  // scalar log|J|; invalid when identically 0
};

// x: the unconstrained slice (shape {u}; invalid when u == 0). Bounds: invalid when absent.
// clamp: the log-transform input clamp of the precision compiled for (guards.hpp: exp's input
// in [-floor, bound], the log-Jacobian's capped at bound only), applied to finite inputs; NaN
// and +-inf pass it unchanged when keep_non_finite (CompileOptions).
struct LogClamp {
  double bound = 200, floor = 700;
  bool jacobian_clamped = false;  // the log-Jacobian clamped below too (float)
  template <class T> static LogClamp of() {
    return {double(transform::log_clamp_bound<T>()), double(transform::log_clamp_floor<T>()),
            transform::log_jacobian_clamped<T>()};
  }
};
GraphTransform transform_in_graph(graph::Graph& g, transform::Kind kind, graph::Expr x, const graph::Shape& shape,
                                  graph::Expr lower, graph::Expr upper, graph::Expr offset, graph::Expr multiplier,
                                  LogClamp clamp, bool keep_non_finite = false);

}  // namespace exmc::model::detail
