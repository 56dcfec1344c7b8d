// The model builder: named random variables, observations, deterministics, potentials and
// swappable data over a graph, compiled (after the rewrite passes) into a LogDensity.
//
//   exmc::model::Model m;
//   auto mu  = m.rv("mu", "normal", {0.0, 5.0});
//   auto tau = m.rv("tau", "half_cauchy", {5.0});               // default transform: lower(0)
//   auto th  = m.rv("theta", "normal", {mu, tau}, {8});          // auto non-centred
//   m.observe("y", "normal", {th, m.data("sigma", s, {8})}, y);
//   m.det("theta_mean", mean(th));
//   auto ld = m.compile<double>();                                // exmc::LogDensity
//
// Parameter expressions are ordinary graph expressions (exmc/graph/graph.hpp) over m.graph();
// a random variable's handle stands for its constrained value.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exmc/graph/compile.hpp"
#include "exmc/graph/graph.hpp"
#include "exmc/model/ir.hpp"
#include "exmc/transform/transform.hpp"

namespace exmc::dist {
struct DistInfo;
}

namespace exmc::model {

using graph::Expr;
using graph::Shape;

// A distribution argument or bound: an expression of the model's graph or a constant.
struct Arg {
  Arg(Expr e) : expr(e), is_expr(true) {}  // NOLINT: implicit by design
  Arg(double v) : value(v) {}              // NOLINT
  Arg(int v) : value(v) {}                 // NOLINT
  Expr expr;
  double value = 0;
  bool is_expr = false;
};

// A declared constraint. An empty kind means "the distribution's default" (attached by the
// default-transforms pass).
struct Constraint {
  std::optional<transform::Kind> kind;
  std::optional<Arg> lower, upper, offset, multiplier;
};
Constraint lower(Arg lb);
Constraint upper(Arg ub);
Constraint lower_upper(Arg lb, Arg ub);
Constraint offset_multiplier(Arg offset, Arg multiplier);
Constraint softplus(std::optional<Arg> lb = std::nullopt);
Constraint constraint(transform::Kind kind);  // one of the shape transforms (simplex, ...)
Constraint unconstrained();                   // identity, overriding the default

// An interval for truncation or censoring; an absent side is unbounded. Each bound is a
// scalar or one value per element, data or an expression of parameters.
struct Interval {
  std::optional<Arg> lower, upper;
  bool any() const { return lower.has_value() || upper.has_value(); }
};

struct ObserveOptions {
  std::vector<double> weights;  // empty, or one per element: the term is sum_i w_i log p(y_i)
  std::vector<bool> mask;       // empty, or one per element: false drops the element
  // The density renormalised to [lower, upper] (Stan's `y ~ dist(...) T[L, U]`); values outside
  // are an error. Needs a family with lcdf / lccdf (exmc::dist::truncated).
  Interval truncate;
  // Values at or below lower contribute log F(lower), at or above upper log(1 - F(upper)), the
  // rest the density (PyMC's Censored; exmc::dist::censored). Not together with truncate.
  Interval censor;
};

struct CompileOptions {
  Ncp ncp = Ncp::kAuto;  // global non-centring policy; a variable's own setting wins unless kAuto
  bool propto = true;    // drop constant terms (Stan's ~); false keeps the full log density
  bool lift_glm = true;  // fuse affine observations (the lift_glm pass)
  graph::Backend backend = graph::Backend::kAuto;  // what logp_grad runs (graph::Backend)
  // Include the log-Jacobians of the constraint transforms (and of non-centring). false gives
  // the density of the constrained values themselves, whose mode is the (penalised) maximum
  // likelihood estimate, as Stan's optimize with jacobian=0 (its default).
  bool jacobian = true;
  // Unconstrained inputs that are NaN or +-inf pass the log transforms' clamp unchanged, so
  // constrain() gives NaN, or the transform's limit (exp(-inf) = 0), where the clamp gave
  // exp(+-200). Finite inputs are clamped as ever. For constrain() at such points (Python's):
  // it costs the sampler's density a select the JIT calls as a kernel.
  bool keep_non_finite = false;
};

class Model {
 public:
  Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  graph::Graph& graph() { return *g_; }

  // Named data, swappable with set_data() without rebuilding the model (shape must not change).
  Expr data(std::string name, std::vector<double> values, Shape shape);
  void set_data(std::string_view name, std::vector<double> values);

  // A free random variable; `dist` is a registry name (exmc::dist::find_dist).
  Expr rv(std::string name, std::string_view dist, std::vector<Arg> args, Shape shape = {}, Constraint c = {},
          Ncp ncp = Ncp::kAuto);
  Expr rv(std::string name, const dist::DistInfo& dist, std::vector<Arg> args, Shape shape = {},
          Constraint c = {}, Ncp ncp = Ncp::kAuto);

  // A free parameter with no distribution of its own (flat prior; Stan's parameters block):
  // its density comes from add_lpdf / potential terms. Default constraint: none.
  Expr param(std::string name, Shape shape = {}, Constraint c = {});

  // Adds log p(variate | args) to the target: Stan's `variate ~ dist(args)` on any expression
  // (slices of a parameter, transformed values). `name` labels error messages.
  void add_lpdf(std::string_view dist, Expr variate, std::vector<Arg> args, std::string name = "");
  void add_lpdf(const dist::DistInfo& dist, Expr variate, std::vector<Arg> args, std::string name = "");

  // Stan's `variate ~ dist(args) T[lower, upper]`: log p(variate | args) - log(F(upper) - F(lower))
  // (- log(1 - F(lower)) or - log F(upper) with one bound; neither: add_lpdf). Bounds may depend
  // on parameters; a variate outside them makes the density -inf (a rejection), or, when
  // everything is data, an error at compile() naming `name`. The family needs lcdf / lccdf.
  void add_truncated_lpdf(std::string_view dist, Expr variate, std::vector<Arg> args, std::optional<Arg> lower,
                          std::optional<Arg> upper, std::string name = "");
  void add_truncated_lpdf(const dist::DistInfo& dist, Expr variate, std::vector<Arg> args,
                          std::optional<Arg> lower, std::optional<Arg> upper, std::string name = "");

  // A free random variable from dist truncated to [lower, upper] (at least one bound), with the
  // matching bounded transform (a missing side falls back to the family's support).
  Expr truncated_rv(std::string name, std::string_view dist, std::vector<Arg> args, std::optional<Arg> lower,
                    std::optional<Arg> upper, Shape shape = {});
  Expr truncated_rv(std::string name, const dist::DistInfo& dist, std::vector<Arg> args, std::optional<Arg> lower,
                    std::optional<Arg> upper, Shape shape = {});

  // Per-variable non-centring policy, after declaration.
  void set_ncp(std::string_view name, Ncp ncp);

  // An observed variable: its values become named data `name` (swappable).
  void observe(std::string name, std::string_view dist, std::vector<Arg> args, std::vector<double> values,
               Shape shape = {}, ObserveOptions opts = {});
  void observe(std::string name, const dist::DistInfo& dist, std::vector<Arg> args, std::vector<double> values,
               Shape shape = {}, ObserveOptions opts = {});

  // An observed variable whose values are an existing data expression (no parameters).
  void observe(std::string name, std::string_view dist, std::vector<Arg> args, Expr data, ObserveOptions opts = {});
  void observe(std::string name, const dist::DistInfo& dist, std::vector<Arg> args, Expr data,
               ObserveOptions opts = {});

  Expr det(std::string name, Expr e);
  void potential(Expr e, std::string name = "");

  // Looks up a declared variable (rv, data or det) by name; throws naming it when unknown.
  Expr var(std::string_view name) const;

  const ModelIR& ir() const { return ir_; }

  // Runs the rewrite passes on a copy of the IR and compiles. T = double or float.
  template <class T>
  std::unique_ptr<graph::CompiledDensity> compile(CompileOptions opts = {}) const;

 private:
  // Throws naming `var` and the argument's `role` when `a` is not an expression of this model.
  Expr to_expr(const Arg& a, const std::string& var, const std::string& role);
  Expr declare_rv(std::string name, const dist::DistInfo* dist, std::vector<Arg> args, Shape shape, Constraint c,
                  Ncp ncp);
  void add_obs(std::string name, const dist::DistInfo& d, std::vector<Arg> args, Expr y, ObserveOptions opts);
  // The truncated / censored family an observation's options call for; appends the bounds to args.
  const dist::DistInfo& wrap_bounded(const std::string& name, const dist::DistInfo& d, std::vector<Arg>& args,
                                     const ObserveOptions& opts) const;
  void check_new_name(const std::string& name) const;
  std::unique_ptr<graph::Graph> g_;
  ModelIR ir_;
};

extern template std::unique_ptr<graph::CompiledDensity> Model::compile<double>(CompileOptions) const;
extern template std::unique_ptr<graph::CompiledDensity> Model::compile<float>(CompileOptions) const;

}  // namespace exmc::model
