// Model builder: records rv / obs / det / potential / data declarations with checks that name
// the variable.
#include "exmc/model/model.hpp"

#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "exmc/dist/kernel.hpp"
#include "glm.hpp"
#ifdef EXMC_HAVE_DIST_REGISTRY
#include "exmc/dist/wrappers.hpp"
#endif

namespace exmc::model {

namespace {

[[noreturn]] void fail(const std::string& var, const std::string& what) {
  throw std::invalid_argument("variable '" + var + "': " + what);
}

// "argument 'sigma' of normal": how messages name a distribution's i-th argument after the variate.
std::string arg_role(const dist::DistInfo& d, size_t i) {
  return "argument '" + std::string(d.arg_names[i + 1]) + "' of " + std::string(d.name);
}

const dist::DistInfo& lookup(const std::string& var, std::string_view name) {
#ifdef EXMC_HAVE_DIST_REGISTRY
  if (const dist::DistInfo* d = dist::find_dist(name)) return *d;
  // The GLM kernels live here (lift_glm emits them for regressions written out): a program that
  // names them itself (Stan's y ~ bernoulli_logit_glm(x, alpha, beta)) gets the same kernels.
  if (name == "bernoulli_logit_glm") return detail::bernoulli_logit_glm();
  if (name == "normal_id_glm") return detail::normal_id_glm();
  fail(var, "unknown distribution '" + std::string(name) + "'");
#else
  fail(var, "distribution '" + std::string(name) + "' requested by name, but the distribution registry is not built");
#endif
}

// graph::shape_size multiplies without a check: {2^32, 2^32} wraps to 0 elements, which made a
// declared variable silently empty (and data of that shape took zero values).
void check_shape(const std::string& var, const Shape& shape) {
  size_t n = 1;
  for (size_t d : shape) {
    if (d != 0 && n > SIZE_MAX / d)
      fail(var, "shape " + graph::shape_str(shape) + " has more elements than a size_t can count");
    n *= d;
  }
}

enum class Wrap { kTruncated, kCensored };

// The truncated / censored version of d; its errors (no cdf, ...) name the variable.
const dist::DistInfo& bounded_family(const std::string& var, Wrap w, const dist::DistInfo& d, bool lo, bool hi) {
#ifdef EXMC_HAVE_DIST_REGISTRY
  try {
    return w == Wrap::kTruncated ? dist::truncated(d, lo, hi) : dist::censored(d, lo, hi);
  } catch (const std::exception& e) {
    fail(var, e.what());
  }
#else
  (void)w, (void)d, (void)lo, (void)hi;
  fail(var, "truncation and censoring need the distribution library, which is not built");
#endif
}

void check_arity(const std::string& var, const dist::DistInfo& d, size_t nargs) {
  if (nargs + 1 != d.arg_names.size()) {
    std::string names;
    for (size_t i = 1; i < d.arg_names.size(); ++i) names += (i > 1 ? ", " : "") + std::string(d.arg_names[i]);
    fail(var, std::string(d.name) + " takes " + std::to_string(d.arg_names.size() - 1) + " argument(s) (" + names +
                  "), got " + std::to_string(nargs));
  }
}

}  // namespace

Constraint lower(Arg lb) {
  Constraint c;
  c.kind = transform::Kind::kLower;
  c.lower = lb;
  return c;
}
Constraint upper(Arg ub) {
  Constraint c;
  c.kind = transform::Kind::kUpper;
  c.upper = ub;
  return c;
}
Constraint lower_upper(Arg lb, Arg ub) {
  Constraint c;
  c.kind = transform::Kind::kLowerUpper;
  c.lower = lb;
  c.upper = ub;
  return c;
}
Constraint offset_multiplier(Arg offset, Arg multiplier) {
  Constraint c;
  c.kind = transform::Kind::kOffsetMultiplier;
  c.offset = offset;
  c.multiplier = multiplier;
  return c;
}
Constraint softplus(std::optional<Arg> lb) {
  Constraint c;
  c.kind = transform::Kind::kSoftplus;
  c.lower = lb;
  return c;
}
Constraint constraint(transform::Kind kind) {
  Constraint c;
  c.kind = kind;
  return c;
}
Constraint unconstrained() { return constraint(transform::Kind::kIdentity); }

Model::Model() : g_(std::make_unique<graph::Graph>()) {}

Expr Model::to_expr(const Arg& a, const std::string& var, const std::string& role) {
  if (!a.is_expr) return g_->constant(a.value);
  if (!a.expr.valid() || a.expr.graph() != g_.get())
    fail(var, role + (a.expr.valid() ? " is an expression of another Model's graph"
                                     : " is an empty expression (a default-constructed Expr)"));
  return a.expr;
}

void Model::check_new_name(const std::string& name) const {
  if (name.empty()) throw std::invalid_argument("a variable needs a non-empty name");
  auto taken = [&](const std::string& n) { return n == name; };
  for (const auto& r : ir_.rvs) if (taken(r.name)) fail(name, "declared twice");
  for (const auto& o : ir_.obs) if (taken(o.name)) fail(name, "declared twice");
  for (const auto& d : ir_.dets) if (taken(d.name)) fail(name, "declared twice");
  for (const auto& d : ir_.data) if (taken(d.name)) fail(name, "declared twice");
}

Expr Model::data(std::string name, std::vector<double> values, Shape shape) {
  check_new_name(name);
  check_shape(name, shape);
  if (values.size() != graph::shape_size(shape))
    fail(name, "data of shape " + graph::shape_str(shape) + " needs " + std::to_string(graph::shape_size(shape)) +
                   " values, got " + std::to_string(values.size()));
  Expr e = g_->data(values, shape);
  ir_.data.push_back(DataDecl{name, e.id(), std::move(values), std::move(shape)});
  return e;
}

void Model::set_data(std::string_view name, std::vector<double> values) {
  for (auto& d : ir_.data) {
    if (d.name != name) continue;
    if (values.size() != d.values.size())
      fail(d.name, "new data has " + std::to_string(values.size()) + " values; the model was built with " +
                       std::to_string(d.values.size()) + " (shape " + graph::shape_str(d.shape) + ")");
    d.values = std::move(values);
    return;
  }
  fail(std::string(name), "no data of that name");
}

Expr Model::rv(std::string name, std::string_view dist, std::vector<Arg> args, Shape shape, Constraint c, Ncp ncp) {
  return rv(name, lookup(name, dist), std::move(args), std::move(shape), std::move(c), ncp);
}

Expr Model::rv(std::string name, const dist::DistInfo& d, std::vector<Arg> args, Shape shape, Constraint c,
               Ncp ncp) {
  return declare_rv(std::move(name), &d, std::move(args), std::move(shape), std::move(c), ncp);
}

Expr Model::param(std::string name, Shape shape, Constraint c) {
  if (!c.kind) c.kind = transform::Kind::kIdentity;
  return declare_rv(std::move(name), nullptr, {}, std::move(shape), std::move(c), Ncp::kOff);
}

Expr Model::declare_rv(std::string name, const dist::DistInfo* d, std::vector<Arg> args, Shape shape, Constraint c,
                       Ncp ncp) {
  check_new_name(name);
  check_shape(name, shape);
  if (d) {
    check_arity(name, *d, args.size());
    if (d->discrete) fail(name, std::string(d->name) + " is discrete; a free variable must be continuous");
  }
  RvDecl r;
  r.name = name;
  r.dist = d;
  r.shape = shape;
  const size_t n = graph::shape_size(shape);
  for (size_t i = 0; i < args.size(); ++i) {
    Expr e = to_expr(args[i], name, arg_role(*d, i));
    if (!d->multivariate && e.size() != 1 && e.size() != n)
      fail(name, "argument '" + std::string(d->arg_names[i + 1]) + "' of " + std::string(d->name) + " has " +
                     std::to_string(e.size()) + " elements; expected 1 or " + std::to_string(n) +
                     " (the variable's size)");
    r.args.push_back(e.id());
  }
  r.kind = c.kind;
  auto bound = [&](const std::optional<Arg>& a) {
    if (!a) return BoundRef{};
    return a->is_expr ? BoundRef::of(to_expr(*a, name, "a bound of its constraint").id())
                      : BoundRef::constant(a->value);
  };
  r.lower = bound(c.lower);
  r.upper = bound(c.upper);
  r.offset = bound(c.offset);
  r.multiplier = bound(c.multiplier);
  if (c.kind) {
    auto sz = [&](const BoundRef& b) {
      return !b.set ? size_t(0) : b.node < 0 ? size_t(1) : graph::shape_size(g_->node(b.node).shape);
    };
    // Both throw naming the variable: a transform that does not fit the shape, bounds that do
    // not fit the transform.
    transform::Transform::make(*c.kind, shape, name).check_bounds(sz(r.lower), sz(r.upper), sz(r.offset),
                                                                   sz(r.multiplier), name);
  }
  r.ncp = ncp;
  // The placeholder stands for the constrained value in every expression built on it; the
  // lowering replaces it. Its offset is irrelevant (the compiled graph is rebuilt).
  Expr p = g_->param(0, shape);
  r.placeholder = p.id();
  ir_.rvs.push_back(std::move(r));
  return p;
}

void Model::add_lpdf(std::string_view dist, Expr variate, std::vector<Arg> args, std::string name) {
  add_lpdf(lookup(name.empty() ? std::string("lpdf term ") + std::to_string(ir_.factors.size() + 1) : name, dist),
           variate, std::move(args), std::move(name));
}

void Model::add_lpdf(const dist::DistInfo& d, Expr variate, std::vector<Arg> args, std::string name) {
  if (name.empty()) name = "lpdf term " + std::to_string(ir_.factors.size() + 1) + " (" + std::string(d.name) + ")";
  check_arity(name, d, args.size());
  FactorDecl f;
  f.name = name;
  f.dist = &d;
  f.args.push_back(to_expr(variate, name, "the variate").id());
  const size_t n = variate.size();
  for (size_t i = 0; i < args.size(); ++i) {
    Expr e = to_expr(args[i], name, arg_role(d, i));
    if (!d.multivariate && e.size() != 1 && e.size() != n)
      fail(name, "argument '" + std::string(d.arg_names[i + 1]) + "' of " + std::string(d.name) + " has " +
                     std::to_string(e.size()) + " elements; expected 1 or " + std::to_string(n) +
                     " (the variate's size)");
    f.args.push_back(e.id());
  }
  ir_.factors.push_back(std::move(f));
}

void Model::add_truncated_lpdf(std::string_view dist, Expr variate, std::vector<Arg> args, std::optional<Arg> lower,
                               std::optional<Arg> upper, std::string name) {
  const std::string label =
      name.empty() ? "lpdf term " + std::to_string(ir_.factors.size() + 1) + " (" + std::string(dist) + ")" : name;
  add_truncated_lpdf(lookup(label, dist), variate, std::move(args), std::move(lower), std::move(upper),
                     std::move(name));
}

void Model::add_truncated_lpdf(const dist::DistInfo& d, Expr variate, std::vector<Arg> args,
                               std::optional<Arg> lower, std::optional<Arg> upper, std::string name) {
  if (!lower && !upper) return add_lpdf(d, variate, std::move(args), std::move(name));
  if (name.empty()) name = "lpdf term " + std::to_string(ir_.factors.size() + 1) + " (" + std::string(d.name) + ")";
  check_arity(name, d, args.size());
  const dist::DistInfo& t = bounded_family(name, Wrap::kTruncated, d, lower.has_value(), upper.has_value());
  if (lower) args.push_back(*lower);
  if (upper) args.push_back(*upper);
  add_lpdf(t, variate, std::move(args), std::move(name));
}

Expr Model::truncated_rv(std::string name, std::string_view dist, std::vector<Arg> args, std::optional<Arg> lower,
                         std::optional<Arg> upper, Shape shape) {
  return truncated_rv(name, lookup(name, dist), std::move(args), std::move(lower), std::move(upper),
                      std::move(shape));
}

Expr Model::truncated_rv(std::string name, const dist::DistInfo& d, std::vector<Arg> args,
                         std::optional<Arg> lower, std::optional<Arg> upper, Shape shape) {
  check_new_name(name);
  check_arity(name, d, args.size());
  if (!lower && !upper) fail(name, "truncated_rv needs a lower or an upper bound");
  const dist::DistInfo& t = bounded_family(name, Wrap::kTruncated, d, lower.has_value(), upper.has_value());
  // A side the truncation leaves open keeps the family's own bound, so the transform never
  // proposes values of zero density.
  using S = dist::Support;
  std::optional<Arg> lo = lower, hi = upper;
  if (!lo) {
    if (d.support == S::kPositive || d.support == S::kNonNegative || d.support == S::kUnitInterval) lo = Arg(0.0);
    if ((d.support == S::kLowerBounded || d.support == S::kBounded) && !args.empty()) lo = args[0];
  }
  if (!hi) {
    if (d.support == S::kUnitInterval) hi = Arg(1.0);
    if (d.support == S::kBounded && args.size() >= 2) hi = args[1];
  }
  Constraint c = lo && hi ? lower_upper(*lo, *hi) : lo ? model::lower(*lo) : model::upper(*hi);
  if (lower) args.push_back(*lower);
  if (upper) args.push_back(*upper);
  return declare_rv(std::move(name), &t, std::move(args), std::move(shape), std::move(c), Ncp::kOff);
}

void Model::set_ncp(std::string_view name, Ncp ncp) {
  for (auto& r : ir_.rvs)
    if (r.name == name) {
      r.ncp = ncp;
      return;
    }
  throw std::invalid_argument("unknown variable '" + std::string(name) + "'");
}

void Model::observe(std::string name, std::string_view dist, std::vector<Arg> args, std::vector<double> values,
                    Shape shape, ObserveOptions opts) {
  observe(name, lookup(name, dist), std::move(args), std::move(values), std::move(shape), std::move(opts));
}

const dist::DistInfo& Model::wrap_bounded(const std::string& name, const dist::DistInfo& d, std::vector<Arg>& args,
                                          const ObserveOptions& opts) const {
  if (!opts.truncate.any() && !opts.censor.any()) return d;
  if (opts.truncate.any() && opts.censor.any()) fail(name, "an observation cannot be both truncated and censored");
  check_arity(name, d, args.size());
  const Interval& iv = opts.truncate.any() ? opts.truncate : opts.censor;
  const dist::DistInfo& w = bounded_family(name, opts.truncate.any() ? Wrap::kTruncated : Wrap::kCensored, d,
                                           iv.lower.has_value(), iv.upper.has_value());
  if (iv.lower) args.push_back(*iv.lower);
  if (iv.upper) args.push_back(*iv.upper);
  return w;
}

void Model::observe(std::string name, const dist::DistInfo& d0, std::vector<Arg> args, std::vector<double> values,
                    Shape shape, ObserveOptions opts) {
  check_new_name(name);
  const dist::DistInfo& d = wrap_bounded(name, d0, args, opts);
  if (shape.empty() && values.size() != 1) shape = {values.size()};
  check_shape(name, shape);
  const size_t n = graph::shape_size(shape);
  if (values.size() != n)
    fail(name, "observed values of shape " + graph::shape_str(shape) + " need " + std::to_string(n) +
                   " values, got " + std::to_string(values.size()));
  check_arity(name, d, args.size());
  Expr y = g_->data(values, shape);
  ir_.data.push_back(DataDecl{name, y.id(), std::move(values), shape});
  add_obs(std::move(name), d, std::move(args), y, std::move(opts));
}

void Model::observe(std::string name, std::string_view dist, std::vector<Arg> args, Expr data, ObserveOptions opts) {
  observe(name, lookup(name, dist), std::move(args), data, std::move(opts));
}

void Model::observe(std::string name, const dist::DistInfo& d0, std::vector<Arg> args, Expr data,
                    ObserveOptions opts) {
  check_new_name(name);
  const dist::DistInfo& d = wrap_bounded(name, d0, args, opts);
  Expr y = to_expr(data, name, "the observed data");
  if (g_->node(y.id()).depends_on_params) fail(name, "observed values must not depend on parameters");
  add_obs(std::move(name), d, std::move(args), y, std::move(opts));
}

void Model::add_obs(std::string name, const dist::DistInfo& d, std::vector<Arg> args, Expr y, ObserveOptions opts) {
  check_arity(name, d, args.size());
  const size_t n = y.size();
  ObsDecl o;
  o.name = name;
  o.dist = &d;
  for (size_t i = 0; i < args.size(); ++i) {
    Expr e = to_expr(args[i], name, arg_role(d, i));
    if (!d.multivariate && e.size() != 1 && e.size() != n)
      fail(name, "argument '" + std::string(d.arg_names[i + 1]) + "' of " + std::string(d.name) + " has " +
                     std::to_string(e.size()) + " elements; expected 1 or " + std::to_string(n) +
                     " (the number of observations)");
    o.args.push_back(e.id());
  }
  if (!opts.weights.empty() && opts.weights.size() != n)
    fail(name, "weights have " + std::to_string(opts.weights.size()) + " elements; expected " + std::to_string(n));
  if (!opts.mask.empty() && opts.mask.size() != n)
    fail(name, "mask has " + std::to_string(opts.mask.size()) + " elements; expected " + std::to_string(n));
  if ((!opts.weights.empty() || !opts.mask.empty()) && d.multivariate)
    fail(name, "weights and masks apply to univariate distributions only, not " + std::string(d.name));
  for (size_t i = 0; i < opts.weights.size(); ++i)
    if (!(opts.weights[i] >= 0) || !std::isfinite(opts.weights[i]))
      fail(name, "weight " + std::to_string(opts.weights[i]) + " at index " + std::to_string(i) +
                     " is not a finite non-negative number");
  o.data = y.id();
  o.weights = std::move(opts.weights);
  o.mask = std::move(opts.mask);
  ir_.obs.push_back(std::move(o));
}

Expr Model::det(std::string name, Expr e) {
  check_new_name(name);
  if (!e.valid() || e.graph() != g_.get()) fail(name, "the expression is not of this model's graph");
  ir_.dets.push_back(DetDecl{name, e.id()});
  return e;
}

void Model::potential(Expr e, std::string name) {
  if (!e.valid() || e.graph() != g_.get())
    throw std::invalid_argument("potential '" + name + "': the expression is not of this model's graph");
  if (e.size() != 1)
    throw std::invalid_argument("potential '" + name + "': must be a scalar, got shape " +
                                graph::shape_str(e.shape()));
  ir_.potentials.push_back(PotentialDecl{name, e.id()});
}

Expr Model::var(std::string_view name) const {
  for (const auto& r : ir_.rvs) if (r.name == name) return Expr(g_.get(), r.placeholder);
  for (const auto& d : ir_.data) if (d.name == name) return Expr(g_.get(), d.node);
  for (const auto& d : ir_.dets) if (d.name == name) return Expr(g_.get(), d.expr);
  throw std::invalid_argument("unknown variable '" + std::string(name) + "'");
}

}  // namespace exmc::model
