// Lowering: rebuilds the model's graph with each random variable's placeholder replaced by its
// transformed (or non-centred) parameter slice, adds prior, Jacobian, likelihood and potential
// terms, validates data arguments, and compiles to a LogDensity with named outputs and an
// inverse (unconstrain) for initial values.
#include <algorithm>
#include <type_traits>
#include <cmath>
#include <cstdio>
#include <unistd.h>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/dist/kernel.hpp"
#include "exmc/model/model.hpp"
#include "exmc/model/passes.hpp"
#include "exmc/transform/guards.hpp"
#include "glm.hpp"
#include "transform_graph.hpp"

namespace exmc::model {

namespace {

using graph::Node;
using graph::Op;

[[noreturn]] void fail(const std::string& var, const std::string& what) {
  throw std::invalid_argument("variable '" + var + "': " + what);
}

// A size decided by data (vector[N] with N = 2e9) must be refused before anything is allocated,
// not found by the allocator (std::bad_alloc, or a process the kernel kills). Each free element
// costs the sampler at least ~16 doubles (position, momentum, gradient and the tree's copies of
// them, the metric, the arena's value and adjoint); a model needing more than the machine's
// memory cannot run.
void check_fits_in_memory(const std::string& var, size_t elements, size_t total_elements) {
  constexpr double kBytesPerElement = 16 * sizeof(double);
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return;
  const double memory = double(pages) * double(page);
  const double need = double(total_elements) * kBytesPerElement;
  if (need > memory) {
    char msg[200];
    std::snprintf(msg, sizeof msg,
                  "%zu elements (%zu in all): the sampler needs about %.3g GB for them, more than this "
                  "machine's %.3g GB of memory; check the sizes in the data",
                  elements, total_elements, need / 1e9, memory / 1e9);
    fail(var, msg);
  }
}

// What unconstrain() needs per free variable; bound / location / scale values are read from a
// forward-only evaluator (they may depend on earlier variables).
struct RvInverse {
  std::string name;
  size_t n = 0, offset = 0, usize = 0;
  transform::Transform t;
  bool non_centered = false;
  int lower = -1, upper = -1, offset_arg = -1, multiplier = -1, loc = -1, scale = -1;  // evaluator outputs
};

struct Inverse {
  std::vector<RvInverse> rvs;
  std::vector<std::string> other_names;  // deterministics: accepted and ignored
  std::vector<size_t> eval_offsets, eval_sizes;
  std::shared_ptr<graph::CompiledDensity> eval;
  size_t dim = 0;
  bool in_float = false;  // the density computes in f32: values are unconstrained as it computes

  bool operator()(const std::vector<std::pair<std::string, std::vector<double>>>& values, double* x,
                  std::string* error) const {
    auto err = [&](const std::string& m) {
      if (error) *error = m;
      return false;
    };
    for (const auto& [name, v] : values) {
      bool known = false;
      for (const auto& r : rvs) known |= r.name == name;
      for (const auto& o : other_names) known |= o == name;
      // The callers say what the values are (initial values, a fitted draw, unconstrain's argument).
      if (!known) return err("unknown variable '" + name + "'");
    }
    std::fill(x, x + dim, 0.0);
    std::vector<double> ev(total_size(eval->output_vars()));
    for (const RvInverse& r : rvs) {
      const std::vector<double>* y = nullptr;
      for (const auto& [name, v] : values)
        if (name == r.name) y = &v;
      if (!y && r.n == 0) continue;  // nothing to give for a zero-size variable
      if (!y) return err("variable '" + r.name + "': no value given");
      if (y->size() != r.n)
        return err("variable '" + r.name + "': value has " + std::to_string(y->size()) +
                   " elements; expected " + std::to_string(r.n));
      if (!ev.empty()) eval->constrain(x, ev.data());
      auto arg = [&](int k) {
        transform::BoundArg<double> b;
        if (k >= 0) b = {ev.data() + eval_offsets[size_t(k)], eval_sizes[size_t(k)], nullptr};
        return b;
      };
      if (r.non_centered) {
        auto loc = arg(r.loc), scale = arg(r.scale);
        for (size_t i = 0; i < r.n; ++i) {
          const double s = scale.at(i);
          if (!(s > 0)) return err("variable '" + r.name + "': its scale is " + std::to_string(s) + ", not positive");
          x[r.offset + i] = ((*y)[i] - loc.at(i)) / s;
        }
        continue;
      }
      transform::Bounds<double> b{arg(r.lower), arg(r.upper), arg(r.offset_arg), arg(r.multiplier)};
      if (!(in_float ? unconstrain_in_float(r, *y, b, x + r.offset, error)
                     : r.t.unconstrain(y->data(), b, x + r.offset, r.name, error)))
        return false;
    }
    return true;
  }

  // The f32 density clamps a log-type coordinate at +-20 where the double inverse maps to -700..200
  // (guards.hpp): a start beyond +-20 lay where the f32 density is flat (--precision f32 with
  // init sigma = 1e-12 or 0: the chain drifted and failed, "non-finite variance ... the posterior
  // may be improper"). In float the transforms' inverses use float's clamp, as the density does.
  static bool unconstrain_in_float(const RvInverse& r, const std::vector<double>& y, const transform::Bounds<double>& b,
                                   double* x, std::string* error) {
    std::vector<float> yf(y.begin(), y.end()), xf(r.usize), kept[4];
    auto in_float = [&](const transform::BoundArg<double>& a, std::vector<float>& keep) {
      transform::BoundArg<float> f;
      if (!a.val) return f;
      keep.assign(a.val, a.val + a.size);
      f.val = keep.data();
      f.size = a.size;
      return f;
    };
    const transform::Bounds<float> bf{in_float(b.lower, kept[0]), in_float(b.upper, kept[1]),
                                      in_float(b.offset, kept[2]), in_float(b.multiplier, kept[3])};
    if (!r.t.unconstrain(yf.data(), bf, xf.data(), r.name, error)) return false;
    std::copy(xf.begin(), xf.end(), x);
    return true;
  }
};

// Errors raised while lowering one variable (a graph op's shape check, say) get its name.
[[noreturn]] void rethrow_named(const std::string& var, const std::invalid_argument& e) {
  const std::string what = e.what();
  if (what.rfind("variable '", 0) == 0) throw e;
  throw std::invalid_argument("variable '" + var + "': " + what);
}

std::string dist_label(const dist::DistInfo& d) { return std::string(d.name); }

// Whether a source node is a free variable kept above a constant bound >= 0 by its transform
// (lower + exp(clamped x): never 0 nor negative). Such a scale needs no positivity guard.
bool positive_by_transform(const ModelIR& ir, int node) {
  for (const RvDecl& r : ir.rvs) {
    if (r.placeholder != node) continue;
    return r.kind && *r.kind == transform::Kind::kLower && r.lower.set && r.lower.node < 0 && r.lower.value >= 0;
  }
  return false;
}

// The fused kernel for a term lift_glm found in GLM form: y ~ normal(alpha + X beta, sigma) or
// bernoulli_logit(alpha + X beta). `family_args` are the family's own arguments, mapped (location
// first; sigma second for the normal); m maps source nodes to the lowered graph's.
Expr glm_term(graph::Graph& tg, const std::vector<Expr>& m, const GlmLift& glm, const dist::DistInfo& family,
              Expr y, const std::vector<Expr>& family_args, bool propto) {
  const bool normal = family.name == "normal";
  std::vector<Expr> a = {y, m[size_t(glm.X)], glm.alpha >= 0 ? m[size_t(glm.alpha)] : tg.constant(0.0),
                         m[size_t(glm.beta)]};
  if (normal) a.push_back(family_args[1]);
  return graph::dist_lpdf(normal ? detail::normal_id_glm() : detail::bernoulli_logit_glm(), a, propto);
}

}  // namespace

template <class T>
std::unique_ptr<graph::CompiledDensity> Model::compile(CompileOptions opts) const {
  ModelIR ir = ir_;
  attach_default_transforms(*g_, ir);
  non_center(*g_, ir, opts.ncp);
  if (opts.lift_glm) lift_glm(*g_, ir);

  const graph::Graph& src = *g_;
  auto tg = std::make_unique<graph::Graph>();
  const auto clamp = detail::LogClamp::of<T>();

  std::map<int, size_t> rv_of, data_of;
  for (size_t r = 0; r < ir.rvs.size(); ++r) rv_of[ir.rvs[r].placeholder] = r;
  for (size_t d = 0; d < ir.data.size(); ++d) data_of[ir.data[d].node] = d;

  std::vector<Expr> m(src.size());
  std::vector<Expr> terms;
  std::vector<std::pair<std::string, Expr>> outputs;
  Inverse inv;
  inv.in_float = std::is_same_v<T, float>;
  std::vector<std::pair<std::string, Expr>> eval_outputs;
  auto eval_slot = [&](Expr e) {
    eval_outputs.push_back({"b" + std::to_string(eval_outputs.size()), e});
    return int(eval_outputs.size() - 1);
  };
  // Arguments to validate: (variable, dist, mapped args incl. variate, variate is data).
  struct Check {
    std::string var;
    const dist::DistInfo* d;
    std::vector<Expr> args;
  };
  std::vector<Check> checks;

  size_t offset = 0;
  // A name per unconstrained coordinate, for the sampler's messages: the flat element name
  // ("theta.2") where coordinates map one to one onto elements, else the variable's name alone
  // (a simplex or Cholesky factor has fewer free coordinates than elements).
  std::vector<std::string> unconstrained_names;
  std::vector<Expr> rv_value(ir.rvs.size());
  for (size_t id = 0; id < src.size(); ++id) {
    const Node& nd = src.node(int(id));
    if (auto it = rv_of.find(int(id)); it != rv_of.end()) {
      const RvDecl& r = ir.rvs[it->second];
      try {
      const size_t n = graph::shape_size(r.shape);
      check_fits_in_memory(r.name, n, offset + n);
      std::vector<Expr> args;
      for (int a : r.args) args.push_back(m[size_t(a)]);
      RvInverse ri;
      ri.name = r.name;
      ri.n = n;
      ri.offset = offset;
      ri.non_centered = r.non_centered;
      Expr value;
      if (n == 0) {
        // A zero-size parameter (vector[0], or vector[N] with N = 0 from data) adds nothing, as
        // in Stan: no coordinates, no Jacobian, no density term; its value is an empty array
        // that the rest of the program may still use.
        value = tg->data({}, r.shape);
        ri.usize = 0;
        ri.t = transform::Transform::make(*r.kind, r.shape, r.name);
      } else if (r.non_centered) {
        Expr z = tg->param(offset, r.shape);
        value = args[0] + args[1] * z;
        if (value.shape() != r.shape) value = graph::reshape(value, r.shape);
        terms.push_back(graph::dist_lpdf(*r.dist, {z, tg->constant(0.0), tg->constant(1.0)}, opts.propto));
        // The centred density is -inf where the scale is not positive (normal's sigma), but
        // z ~ normal(0, 1) is finite for any scale: without this term a scale that may go
        // negative (a flat or unbounded parameter) would be sampled on both sides of 0.
        if (tg->node(args[1].id()).depends_on_params && !positive_by_transform(ir, r.args[1])) {
          Expr bad = graph::select(graph::Cmp::kLe, args[1], tg->constant(0.0), tg->constant(-INFINITY),
                                   tg->constant(0.0));
          terms.push_back(bad.size() == 1 ? bad : graph::sum(bad));
        }
        if (!opts.jacobian) {
          // The density of z carries the Jacobian of value = loc + scale z (sum log scale);
          // without Jacobians the mode must be that of the centred density, so take it out.
          const double reps = double(n) / double(graph::shape_size(args[1].shape()));
          terms.push_back(graph::sum(graph::log(args[1])) * -reps);
        }
        ri.usize = n;
        ri.loc = eval_slot(args[0]);
        ri.scale = eval_slot(args[1]);
      } else {
        const transform::Transform t = transform::Transform::make(*r.kind, r.shape, r.name);
        const size_t u = t.unconstrained_size();
        Expr x = !u ? Expr() : t.elementwise() ? tg->param(offset, r.shape) : tg->param(offset, {u});
        auto bound = [&](const BoundRef& b) {
          if (!b.set) return Expr();
          return b.node < 0 ? tg->constant(b.value) : m[size_t(b.node)];
        };
        Expr lo = bound(r.lower), up = bound(r.upper), of = bound(r.offset), mu = bound(r.multiplier);
        auto gt = detail::transform_in_graph(*tg, *r.kind, x, r.shape, lo, up, of, mu, clamp, opts.keep_non_finite);
        value = gt.y;
        if (gt.logj.valid() && opts.jacobian) terms.push_back(gt.logj);
        if (r.dist) {
          std::vector<Expr> a = {value};
          a.insert(a.end(), args.begin(), args.end());
          terms.push_back(graph::dist_lpdf(*r.dist, a, opts.propto));
        }
        ri.usize = u;
        ri.t = t;
        if (lo.valid()) ri.lower = eval_slot(lo);
        if (up.valid()) ri.upper = eval_slot(up);
        if (of.valid()) ri.offset_arg = eval_slot(of);
        if (mu.valid()) ri.multiplier = eval_slot(mu);
      }
      if (r.dist && n > 0) {
        std::vector<Expr> a = {value};
        a.insert(a.end(), args.begin(), args.end());
        checks.push_back({r.name, r.dist, a});
      }
      if (ri.usize == n) {
        for (auto& e : flat_names({VarInfo{r.name, r.shape}})) unconstrained_names.push_back(e);
      } else {
        unconstrained_names.insert(unconstrained_names.end(), ri.usize, r.name);
      }
      offset += ri.usize;
      inv.rvs.push_back(std::move(ri));
      rv_value[it->second] = value;
      m[id] = value;
      } catch (const std::invalid_argument& e) {
        rethrow_named(r.name, e);
      }
      continue;
    }
    if (auto it = data_of.find(int(id)); it != data_of.end()) {
      const DataDecl& d = ir.data[it->second];
      m[id] = tg->data(d.values, d.shape);
      continue;
    }
    if (nd.op == Op::kParam)
      throw std::invalid_argument("the model graph holds a raw parameter node (graph().param); declare free "
                                  "variables with rv()");
    if (nd.op == Op::kDistLpdf) {
      const auto lifted = std::find_if(ir.lifted_dist_nodes.begin(), ir.lifted_dist_nodes.end(),
                                       [&](const LiftedDistNode& l) { return l.node == int(id); });
      if (lifted != ir.lifted_dist_nodes.end()) {  // the fused GLM kernel in its place (lift_glm)
        std::vector<Expr> family_args;
        for (size_t k = 1; k < nd.in.size(); ++k) family_args.push_back(m[size_t(nd.in[k])]);
        m[id] = glm_term(*tg, m, lifted->glm, *nd.dist, m[size_t(nd.in[0])], family_args, nd.propto);
        continue;
      }
    }
    Node copy = nd;
    for (int& in : copy.in) in = m[size_t(in)].id();
    copy.depends_on_params = false;  // recomputed by add_node
    m[id] = tg->add_node(std::move(copy));
  }

  for (const ObsDecl& o : ir.obs) {
    Expr y = m[size_t(o.data)];
    std::vector<Expr> args;
    for (int a : o.args) args.push_back(m[size_t(a)]);
    {
      std::vector<Expr> a = {y};
      a.insert(a.end(), args.begin(), args.end());
      checks.push_back({o.name, o.dist, a});
    }
    try {
    const size_t n = y.size();
    if (o.glm.set) {
      terms.push_back(glm_term(*tg, m, o.glm, *o.dist, y, args, opts.propto));
      continue;
    }
    if (o.weights.empty() && o.mask.empty()) {
      std::vector<Expr> a = {y};
      a.insert(a.end(), args.begin(), args.end());
      terms.push_back(graph::dist_lpdf(*o.dist, a, opts.propto));
      continue;
    }
    // Masked / weighted: one fused term per distinct weight over the kept elements.
    std::map<double, std::vector<int>> groups;
    for (size_t i = 0; i < n; ++i) {
      if (!o.mask.empty() && !o.mask[i]) continue;
      const double w = o.weights.empty() ? 1.0 : o.weights[i];
      if (w == 0) continue;
      groups[w].push_back(int(i));
    }
    for (auto& [w, idx] : groups) {
      std::vector<Expr> a = {graph::gather(y, idx)};
      for (Expr e : args) a.push_back(e.size() == 1 ? e : graph::gather(e, idx));
      Expr lp = graph::dist_lpdf(*o.dist, a, opts.propto);
      terms.push_back(w == 1.0 ? lp : w * lp);
    }
    } catch (const std::invalid_argument& e) {
      rethrow_named(o.name, e);
    }
  }
  for (const FactorDecl& f : ir.factors) {
    std::vector<Expr> a;
    for (int k : f.args) a.push_back(m[size_t(k)]);
    checks.push_back({f.name, f.dist, a});
    try {
      if (f.glm.set) {
        terms.push_back(glm_term(*tg, m, f.glm, *f.dist, a[0], std::vector<Expr>(a.begin() + 1, a.end()),
                                 opts.propto));
        continue;
      }
      terms.push_back(graph::dist_lpdf(*f.dist, a, opts.propto));
    } catch (const std::invalid_argument& e) {
      rethrow_named(f.name, e);
    }
  }
  for (const PotentialDecl& p : ir.potentials) terms.push_back(m[size_t(p.expr)]);

  for (size_t r = 0; r < ir.rvs.size(); ++r) outputs.push_back({ir.rvs[r].name, rv_value[r]});
  for (const DetDecl& d : ir.dets) {
    outputs.push_back({d.name, m[size_t(d.expr)]});
    inv.other_names.push_back(d.name);
  }

  // Validate data arguments (a negative scale given as data, a variate outside the support).
  {
    std::vector<std::pair<std::string, Expr>> vals;
    std::vector<std::vector<int>> slot(checks.size());
    for (size_t c = 0; c < checks.size(); ++c)
      for (Expr e : checks[c].args) {
        slot[c].push_back(tg->node(e.id()).depends_on_params ? -1 : int(vals.size()));
        if (!tg->node(e.id()).depends_on_params) vals.push_back({"v" + std::to_string(vals.size()), e});
      }
    if (!vals.empty()) {
      graph::CompileOptions co;
      co.dim = offset ? offset : 1;
      co.backend = graph::Backend::kInterpreter;  // forward-only: nothing to generate
      auto ev = graph::compile<double>(*tg, tg->constant(0.0), vals, co);
      std::vector<double> out(total_size(ev->output_vars())), x0(co.dim, 0.0);
      ev->constrain(x0.data(), out.data());
      std::vector<size_t> off(vals.size());
      for (size_t i = 0, o = 0; i < vals.size(); o += vals[i].second.size(), ++i) off[i] = o;
      for (size_t c = 0; c < checks.size(); ++c) {
        const Check& ch = checks[c];
        if (!ch.d->validate) continue;
        std::vector<dist::Arg<double>> a(ch.args.size());
        std::vector<std::vector<double>> zeros(ch.args.size());
        for (size_t k = 0; k < ch.args.size(); ++k) {
          const graph::Shape& s = ch.args[k].shape();
          a[k].size = ch.args[k].size();
          a[k].rows = s.empty() ? 1 : s[0];
          a[k].cols = s.size() == 2 ? s[1] : 1;
          if (slot[c][k] >= 0) {
            a[k].val = out.data() + off[size_t(slot[c][k])];
          } else {
            zeros[k].assign(a[k].size, 0.0);
            a[k].val = zeros[k].data();
            a[k].is_param = true;
          }
        }
        const std::string msg = ch.d->validate(a.data());
        if (!msg.empty()) fail(ch.var, dist_label(*ch.d) + ": " + msg);
      }
    }
  }

  Expr target;
  for (Expr t : terms) target = target.valid() ? target + t : t;
  if (!target.valid()) target = tg->constant(0.0);

  inv.dim = offset;
  {
    graph::CompileOptions co;
    co.dim = offset ? offset : 1;
    co.backend = graph::Backend::kInterpreter;  // forward-only: nothing to generate
    if (eval_outputs.empty()) eval_outputs.push_back({"none", tg->constant(0.0)});
    inv.eval = graph::compile<double>(*tg, tg->constant(0.0), eval_outputs, co);
    for (size_t i = 0, o = 0; i < eval_outputs.size(); o += eval_outputs[i].second.size(), ++i) {
      inv.eval_offsets.push_back(o);
      inv.eval_sizes.push_back(eval_outputs[i].second.size());
    }
    // Bounds known before sampling (literals, data) must leave room: lower < upper everywhere,
    // as Stan requires; otherwise every draw would be the one value the bounds allow, or none.
    std::vector<double> ev(total_size(inv.eval->output_vars())), x0(co.dim, 0.0);
    bool evaluated = false;
    auto known = [&](int slot) -> const double* {
      if (slot < 0 || tg->node(eval_outputs[size_t(slot)].second.id()).depends_on_params) return nullptr;
      if (!evaluated) inv.eval->constrain(x0.data(), ev.data());
      evaluated = true;
      return ev.data() + inv.eval_offsets[size_t(slot)];
    };
    for (const RvInverse& r : inv.rvs) {
      if (r.n == 0) continue;
      // A NaN bound, or the infinity of the wrong side, leaves no value to draw; the right
      // side's infinity means no bound there.
      for (const bool is_lower : {true, false}) {
        const int slot = is_lower ? r.lower : r.upper;
        const double* b = known(slot);
        if (!b) continue;
        for (size_t i = 0, nb = inv.eval_sizes[size_t(slot)]; i < nb; ++i) {
          if (!std::isnan(b[i]) && b[i] != (is_lower ? INFINITY : -INFINITY)) continue;
          char msg[200];
          std::snprintf(msg, sizeof msg, "its %s bound is %g; it must be a number %s (%s: no bound)",
                        is_lower ? "lower" : "upper", b[i], is_lower ? "below +inf" : "above -inf",
                        is_lower ? "-inf" : "+inf");
          fail(r.name, msg + (nb > 1 ? " (element " + std::to_string(i + 1) + ")" : std::string()));
        }
      }
      // Stan's offset must be finite, its multiplier positive and finite: a multiplier of 0 or
      // -2 from data was floored to 1e-30 and the variable sampled as the constant offset.
      for (const bool is_multiplier : {true, false}) {
        const int slot = is_multiplier ? r.multiplier : r.offset_arg;
        const double* v = known(slot);
        if (!v) continue;
        for (size_t i = 0, nv = inv.eval_sizes[size_t(slot)]; i < nv; ++i) {
          if (std::isfinite(v[i]) && (!is_multiplier || v[i] > 0)) continue;
          char msg[160];
          std::snprintf(msg, sizeof msg, "its %s is %g; it must be %s", is_multiplier ? "multiplier" : "offset", v[i],
                        is_multiplier ? "positive and finite" : "finite");
          fail(r.name, msg + (nv > 1 ? " (element " + std::to_string(i + 1) + ")" : std::string()));
        }
      }
      const double* l = known(r.lower);
      const double* u = known(r.upper);
      if (!l || !u) continue;
      const size_t nl = inv.eval_sizes[size_t(r.lower)], nu = inv.eval_sizes[size_t(r.upper)];
      for (size_t i = 0; i < std::max(nl, nu); ++i) {
        const double a = l[nl == 1 ? 0 : i], b = u[nu == 1 ? 0 : i];
        if (!(a < b)) {
          char msg[160];
          std::snprintf(msg, sizeof msg, "its lower bound %g is not below its upper bound %g", a, b);
          fail(r.name, msg + (std::max(nl, nu) > 1 ? " (element " + std::to_string(i + 1) + ")" : std::string()));
        }
      }
    }
  }
  graph::CompileOptions co;
  co.dim = offset;  // 0 (no free variables) is allowed: a zero-dimensional density
  co.unconstrain = inv;
  co.unconstrained_names = std::move(unconstrained_names);
  co.backend = opts.backend;
  return graph::compile<T>(*tg, target, outputs, co);
}

template std::unique_ptr<graph::CompiledDensity> Model::compile<double>(CompileOptions) const;
template std::unique_ptr<graph::CompiledDensity> Model::compile<float>(CompileOptions) const;

}  // namespace exmc::model
