// The model IR the rewrite passes read and annotate: rv / obs / det / potential records whose
// expressions are node ids of the model's source graph.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exmc/graph/graph.hpp"
#include "exmc/transform/transform.hpp"

namespace exmc::dist {
struct DistInfo;
}

namespace exmc::model {

enum class Ncp { kAuto, kOn, kOff };

// A transform bound: absent, a constant, or a source node (which may depend on parameters).
struct BoundRef {
  bool set = false;
  int node = -1;  // -1: the constant `value`
  double value = 0;
  static BoundRef constant(double v) { return {true, -1, v}; }
  static BoundRef of(int id) { return {true, id, 0}; }
};

struct RvDecl {
  std::string name;
  const dist::DistInfo* dist = nullptr;  // nullptr: a parameter with no prior of its own (flat)
  std::vector<int> args;  // source node ids of the distribution's arguments (variate excluded)
  graph::Shape shape;
  int placeholder = -1;  // the source node standing for the constrained value
  // Constraint: kind empty until the default-transforms pass (or the user) sets it.
  std::optional<transform::Kind> kind;
  BoundRef lower, upper, offset, multiplier;
  Ncp ncp = Ncp::kAuto;
  bool non_centered = false;  // set by the non-centring pass
};

// Set by the lift_glm pass: the location is alpha + X beta with X data (alpha -1: none).
struct GlmLift {
  bool set = false;
  int X = -1, alpha = -1, beta = -1;
};

struct ObsDecl {
  std::string name;
  const dist::DistInfo* dist = nullptr;
  std::vector<int> args;
  int data = -1;  // source node id of the observed values (named data `name`)
  std::vector<double> weights;
  std::vector<bool> mask;
  GlmLift glm;
};

// An extra log-density term log p(args[0] | args[1..]) on arbitrary expressions (Stan's
// `expr ~ dist(...)` statement).
struct FactorDecl {
  std::string name;
  const dist::DistInfo* dist = nullptr;
  std::vector<int> args;  // variate first
  // Set by lift_glm when the variate is data and the location affine in a data matrix (Stan's
  // `y ~ normal(alpha + X * beta, sigma)` on data y).
  GlmLift glm;
};

struct DetDecl {
  std::string name;
  int expr = -1;
};

struct PotentialDecl {
  std::string name;
  int expr = -1;
};

struct DataDecl {
  std::string name;
  int node = -1;
  std::vector<double> values;  // current values (set_data replaces them)
  graph::Shape shape;
};

// A log-density node inside an expression (Stan's `target += normal_lpdf(y | X * beta, sigma)`,
// a potential) that lift_glm found in GLM form: the lowering emits the fused kernel in its place.
struct LiftedDistNode {
  int node = -1;  // the source graph's kDistLpdf node
  GlmLift glm;
};

struct ModelIR {
  std::vector<RvDecl> rvs;
  std::vector<ObsDecl> obs;
  std::vector<FactorDecl> factors;
  std::vector<DetDecl> dets;
  std::vector<PotentialDecl> potentials;
  std::vector<DataDecl> data;
  std::vector<LiftedDistNode> lifted_dist_nodes;  // set by lift_glm
};

}  // namespace exmc::model
