// Stan AST + bound data -> model::Model: parameters, deterministics, lpdf terms, unrolled loops.
#include "exmc/stan/lower.hpp"

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "exmc/dist/kernel.hpp"
#include "exmc/graph/graph.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/lexer.hpp"
#include "exmc/stan/printer.hpp"

namespace exmc::stan {
namespace {

namespace g = exmc::graph;

enum class Inner { Scalar, Vector, RowVector, Matrix };

// A lowered value. Layout of the flat graph node: array dimensions row-major (outermost
// first), each element in the graph's own layout (vectors contiguous, matrices column-major).
struct Val {
  g::Expr e;
  std::optional<std::vector<double>> c;  // values when known at lowering time (data, ints)
  std::vector<size_t> arr;
  Inner inner = Inner::Scalar;
  std::vector<size_t> idims;  // {} / {n} / {n} / {r, c}
  bool is_int = false;
  // A local built element by element (x[i] = ...): one scalar expression per element.
  std::shared_ptr<std::vector<g::Expr>> parts;

  size_t inner_size() const {
    size_t n = 1;
    for (size_t d : idims) n *= d;
    return n;
  }
  size_t total() const {
    size_t n = inner_size();
    for (size_t d : arr) n *= d;
    return n;
  }
  bool scalar() const { return arr.empty() && inner == Inner::Scalar; }
  g::Shape gshape() const {
    if (!arr.empty()) return {total()};
    return idims;
  }
};

struct Scope {
  std::map<std::string, Val> vars;
};

class Lowerer {
 public:
  Lowerer(const Program& p, const DataEnv& d, LowerOptions o) : p_(p), data_(d), opts_(o) {}

  std::unique_ptr<model::Model> run() {
    m_ = std::make_unique<model::Model>();
    scopes_.emplace_back();
    if (!p_.functions.empty())
      fail(p_.functions[0].loc, "user-defined functions are not lowered yet");
    for (const auto& s : p_.block(BlockKind::Data).stmts) bind_data(s.decl[0]);
    for (const auto& s : p_.block(BlockKind::TransformedData).stmts) stmt(s);
    for (const auto& s : p_.block(BlockKind::Parameters).stmts) parameter(s.decl[0]);
    std::vector<const VarDecl*> tps;
    for (const auto& s : p_.block(BlockKind::TransformedParameters).stmts) {
      stmt(s);
      if (s.kind == StmtKind::Decl) tps.push_back(&s.decl[0]);
    }
    for (const VarDecl* d : tps) {
      Val& v = lookup(d->name, d->name_loc);
      m_->det(d->name, materialize(v, d->name_loc, d->name));
    }
    scopes_.emplace_back();
    for (const auto& s : p_.block(BlockKind::Model).stmts) stmt(s);
    scopes_.pop_back();
    return std::move(m_);
  }

 private:
  [[noreturn]] void fail(Loc loc, const std::string& msg) const {
    throw Error(p_.file, loc.line, loc.col, msg, source_line(p_.source, loc.line));
  }

  g::Graph& graph() { return m_->graph(); }

  Val& lookup(const std::string& n, Loc loc) {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->vars.find(n);
      if (f != it->vars.end()) return f->second;
    }
    fail(loc, fmt::format("'{}' has no value here", n));
  }

  // ---- values ----
  static Val meta_of(const std::vector<size_t>& arr, BaseType b, const std::vector<size_t>& inner_dims) {
    Val v;
    v.arr = arr;
    v.is_int = b == BaseType::Int;
    switch (b) {
      case BaseType::Int:
      case BaseType::Real: v.inner = Inner::Scalar; break;
      case BaseType::RowVector: v.inner = Inner::RowVector; break;
      case BaseType::Matrix:
      case BaseType::CholeskyFactorCorr:
      case BaseType::CholeskyFactorCov:
      case BaseType::CorrMatrix:
      case BaseType::CovMatrix: v.inner = Inner::Matrix; break;
      default: v.inner = Inner::Vector; break;
    }
    v.idims = inner_dims;
    return v;
  }

  Val constant(std::vector<double> vals, Val meta) {
    meta.e = graph().data(vals, meta.gshape());
    meta.c = std::move(vals);
    meta.parts.reset();
    return meta;
  }
  Val scalar_const(double v, bool is_int) {
    Val m;
    m.is_int = is_int;
    return constant({v}, m);
  }

  g::Expr materialize(Val& v, Loc loc, const std::string& name) {
    if (v.parts) {
      for (size_t i = 0; i < v.parts->size(); ++i)
        if (!(*v.parts)[i].valid())
          fail(loc, fmt::format("element {} of '{}' is used before it is assigned", i + 1, name));
      g::Expr flat = v.parts->size() == 1 ? (*v.parts)[0] : g::concat(*v.parts);
      v.e = g::reshape(flat, v.gshape());
      v.parts.reset();
    }
    if (!v.e.valid()) fail(loc, fmt::format("'{}' is used before it is assigned", name));
    return v.e;
  }
  g::Expr ex(Val v, Loc loc) { return materialize(v, loc, "value"); }

  // Splits the sized type of a declaration into array dims and inner dims (known ints).
  void shape_of(const SizedType& t, std::vector<size_t>& arr, std::vector<size_t>& inner) {
    for (const auto& e : t.array_dims) arr.push_back(size_value(e));
    for (const auto& e : t.dims) inner.push_back(size_value(e));
    switch (t.base) {
      case BaseType::CovMatrix:
      case BaseType::CorrMatrix:
      case BaseType::CholeskyFactorCorr: inner.push_back(inner.back()); break;
      case BaseType::CholeskyFactorCov:
        if (inner.size() == 1) inner.push_back(inner.back());
        break;
      default: break;
    }
  }

  size_t size_value(const Expr& e) {
    const long v = known_int(e, "a size");
    if (v < 0) fail(e.loc, fmt::format("size {} is negative ({})", print_expr(e), v));
    return static_cast<size_t>(v);
  }

  long known_int(const Expr& e, const char* what) {
    Val v = expr(e);
    if (!v.c || !v.scalar())
      fail(e.loc, fmt::format("{} must be known from the data, found '{}'", what, print_expr(e)));
    const double x = (*v.c)[0];
    if (std::nearbyint(x) != x) fail(e.loc, fmt::format("{} must be an int, found {}", what, x));
    return static_cast<long>(x);
  }

  void bind_data(const VarDecl& d) {
    const DataValue& dv = data_.at(d.name);
    std::vector<size_t> arr(dv.dims.begin(), dv.dims.begin() + static_cast<long>(d.type.array_dims.size()));
    std::vector<size_t> inner(dv.dims.begin() + static_cast<long>(d.type.array_dims.size()), dv.dims.end());
    Val meta = meta_of(arr, d.type.base, inner);
    std::vector<double> vals = dv.values;
    if (meta.inner == Inner::Matrix) {  // each matrix block: row-major -> column-major
      const size_t r = inner[0], c = inner[1], n = r * c;
      for (size_t o = 0; o * n < vals.size(); ++o) {
        std::vector<double> blk(vals.begin() + static_cast<long>(o * n), vals.begin() + static_cast<long>((o + 1) * n));
        for (size_t i = 0; i < r; ++i)
          for (size_t j = 0; j < c; ++j) vals[o * n + i + r * j] = blk[i * c + j];
      }
    }
    meta.e = m_->data(d.name, vals, meta.gshape());
    meta.c = std::move(vals);
    scopes_.back().vars[d.name] = std::move(meta);
  }

  std::optional<model::Arg> bound_arg(const std::optional<Expr>& e) {
    if (!e) return std::nullopt;
    Val v = expr(*e);
    if (v.c && v.scalar()) return model::Arg((*v.c)[0]);
    return model::Arg(ex(v, e->loc));
  }

  void parameter(const VarDecl& d) {
    std::vector<size_t> arr, inner;
    shape_of(d.type, arr, inner);
    Val meta = meta_of(arr, d.type.base, inner);
    model::Constraint c;
    const BaseType b = d.type.base;
    if (b >= BaseType::Simplex) {
      if (!arr.empty())
        fail(d.loc, fmt::format("arrays of {} parameters are not lowered yet", base_type_name(b)));
      static const std::map<BaseType, transform::Kind> kinds = {
          {BaseType::Simplex, transform::Kind::kSimplex},
          {BaseType::Ordered, transform::Kind::kOrdered},
          {BaseType::PositiveOrdered, transform::Kind::kPositiveOrdered},
          {BaseType::UnitVector, transform::Kind::kUnitVector},
          {BaseType::CholeskyFactorCorr, transform::Kind::kCholeskyCorr},
          {BaseType::CholeskyFactorCov, transform::Kind::kCholeskyCov},
          {BaseType::CorrMatrix, transform::Kind::kCorrMatrix},
          {BaseType::CovMatrix, transform::Kind::kCovMatrix}};
      auto it = kinds.find(b);
      if (it == kinds.end()) fail(d.loc, fmt::format("'{}' parameters are not lowered yet", base_type_name(b)));
      c = model::constraint(it->second);
    } else {
      auto lo = bound_arg(d.type.lower), hi = bound_arg(d.type.upper);
      auto off = bound_arg(d.type.offset), mul = bound_arg(d.type.multiplier);
      if (lo && hi) {
        c = model::lower_upper(*lo, *hi);
      } else if (lo) {
        c = model::lower(*lo);
      } else if (hi) {
        c = model::upper(*hi);
      } else if (off || mul) {
        c = model::offset_multiplier(off ? *off : model::Arg(0.0), mul ? *mul : model::Arg(1.0));
      } else {
        c = model::unconstrained();
      }
    }
    try {
      meta.e = m_->param(d.name, meta.gshape(), c);
    } catch (const std::exception& e) {
      fail(d.loc, fmt::format("cannot declare parameter '{}': {}", d.name, e.what()));
    }
    scopes_.back().vars[d.name] = std::move(meta);
  }

  // ---- statements ----
  void declare_local(const VarDecl& d) {
    std::vector<size_t> arr, inner;
    shape_of(d.type, arr, inner);
    Val v = meta_of(arr, d.type.base, inner);
    if (d.init) {
      Val init = expr(*d.init);
      v = convert(init, v, d.init->loc, d.name);
    }
    scopes_.back().vars[d.name] = std::move(v);
  }

  // Value `from` stored into a variable shaped like `to` (int -> real, scalar sizes checked).
  Val convert(Val from, const Val& to, Loc loc, const std::string& name) {
    if (from.total() != to.total() || from.arr.size() != to.arr.size())
      fail(loc, fmt::format("cannot store a value of {} elements in '{}' ({} elements)", from.total(), name,
                            to.total()));
    Val out = to;
    out.c = from.c;
    if (to.is_int && from.c) {
      out.e = from.e;
    } else {
      out.e = g::reshape(ex(from, loc), to.gshape());
    }
    out.parts.reset();
    return out;
  }

  void stmt(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Decl: declare_local(s.decl[0]); return;
      case StmtKind::Assign: assign(s); return;
      case StmtKind::Tilde: {
        if (s.has_truncation) fail(s.loc, "truncation T[,] is not lowered yet");
        Val y = expr(s.exprs[0]);
        std::vector<model::Arg> args;
        for (size_t i = 1; i < s.exprs.size(); ++i) args.push_back(arg(s.exprs[i]));
        try {
          m_->add_lpdf(s.name, ex(y, s.exprs[0].loc), std::move(args), print_expr(s.exprs[0]));
        } catch (const Error&) {
          throw;
        } catch (const std::exception& e) {
          fail(s.loc, fmt::format("cannot lower '~ {}': {}", s.name, e.what()));
        }
        return;
      }
      case StmtKind::TargetPlus: {
        const Expr& e = s.exprs[0];
        try {
          m_->potential(ex(expr(e), e.loc), print_expr(e));
        } catch (const Error&) {
          throw;
        } catch (const std::exception& x) {
          fail(e.loc, fmt::format("cannot lower 'target += {}': {}", print_expr(e), x.what()));
        }
        return;
      }
      case StmtKind::For: {
        const long lo = known_int(s.exprs[0], "a loop bound");
        const long hi = known_int(s.exprs[1], "a loop bound");
        if (opts_.vectorize_loops && hi >= lo && vectorizable(s, lo)) {
          std::vector<double> idx;
          for (long i = lo; i <= hi; ++i) idx.push_back(static_cast<double>(i));
          Val iv;
          iv.arr = {idx.size()};
          iv.is_int = true;
          scopes_.emplace_back();
          scopes_.back().vars[s.name] = constant(idx, iv);
          vec_mode_ = true;
          body(s.body[0]);
          vec_mode_ = false;
          scopes_.pop_back();
          return;
        }
        for (long i = lo; i <= hi; ++i) {
          scopes_.emplace_back();
          scopes_.back().vars[s.name] = scalar_const(static_cast<double>(i), true);
          body(s.body[0]);
          scopes_.pop_back();
        }
        return;
      }
      case StmtKind::Foreach: {
        Val c = expr(s.exprs[0]);
        const size_t n = c.arr.empty() ? c.inner_size() : c.arr[0];
        for (size_t i = 0; i < n; ++i) {
          IndexItem it;
          Expr lit;
          lit.kind = ExprKind::IntLit;
          lit.text = std::to_string(i + 1);
          it.bounds.push_back(lit);
          Val elem = index(c, {it}, s.exprs[0].loc, "loop");
          scopes_.emplace_back();
          scopes_.back().vars[s.name] = std::move(elem);
          body(s.body[0]);
          scopes_.pop_back();
        }
        return;
      }
      case StmtKind::If: {
        Val c = expr(s.exprs[0]);
        if (!c.c || !c.scalar())
          fail(s.exprs[0].loc, "conditions that depend on parameters are not lowered yet");
        if ((*c.c)[0] != 0) {
          body(s.body[0]);
        } else if (s.body.size() > 1) {
          body(s.body[1]);
        }
        return;
      }
      case StmtKind::Block:
      case StmtKind::Profile:
        scopes_.emplace_back();
        for (const auto& c : s.body) stmt(c);
        scopes_.pop_back();
        return;
      case StmtKind::Print:
      case StmtKind::Empty: return;
      case StmtKind::Reject:
      case StmtKind::FatalError:
        fail(s.loc, "reject/fatal_error reached while lowering (with the data given)");
      default:
        fail(s.loc, "this statement is not lowered yet");
    }
  }

  // ---- loop vectorisation ----
  static bool mentions(const Expr& e, const std::string& v) {
    if (e.kind == ExprKind::Var && e.text == v) return true;
    for (const auto& a : e.args)
      if (mentions(a, v)) return true;
    for (const auto& ix : e.indices)
      for (const auto& b : ix.bounds)
        if (mentions(b, v)) return true;
    return false;
  }

  static bool elementwise_fn(const std::string& f) {
    static const std::set<std::string> fns = {
        "exp", "log", "sqrt", "square", "log1p", "expm1", "inv_logit", "logit", "lgamma",
        "digamma", "erf", "erfc", "Phi", "inv_Phi", "tanh", "fabs", "abs", "log1p_exp",
        "log_inv_logit", "log1m_inv_logit", "log10", "log2", "log1m", "inv", "inv_sqrt",
        "inv_square", "exp2", "pow", "fmin", "fmax"};
    return fns.count(f) != 0;
  }

  // Every subexpression that uses the loop variable `v` must be a scalar in the scalar reading
  // (checked by lowering it with v = lo) and built only from elementwise operations, so that
  // reading v as the index array lo..hi computes the same terms side by side.
  bool vec_expr_ok(const Expr& e, const std::string& v) {
    if (!mentions(e, v)) return true;
    switch (e.kind) {
      case ExprKind::Var: return true;
      case ExprKind::Paren:
      case ExprKind::Unary:
        if (e.kind == ExprKind::Unary && e.text == "!") return false;
        break;
      case ExprKind::Binary: {
        static const std::set<std::string> ops = {"+", "-", "*", "/", ".*", "./", "^", ".^"};
        if (!ops.count(e.text)) return false;
        break;
      }
      case ExprKind::Call:
        if (!elementwise_fn(e.text)) return false;
        break;
      case ExprKind::Index: {
        // Two uses of v in one index expression (a[n, n], a[n][n]) would form a product,
        // not a diagonal.
        int uses = mentions(e.args[0], v) ? 1 : 0;
        for (const auto& ix : e.indices)
          for (const auto& b : ix.bounds) uses += mentions(b, v) ? 1 : 0;
        if (uses > 1) return false;
        for (const auto& ix : e.indices) {
          if (ix.kind != IndexItem::Single && !ix.bounds.empty() && mentions(ix.bounds[0], v)) return false;
          if (ix.kind == IndexItem::Range && mentions(ix.bounds[1], v)) return false;
          for (const auto& b : ix.bounds)
            if (!vec_expr_ok(b, v)) return false;
        }
        if (!vec_expr_ok(e.args[0], v)) return false;
        return scalar_at_lo(e);
      }
      default: return false;
    }
    for (const auto& a : e.args)
      if (!vec_expr_ok(a, v)) return false;
    return scalar_at_lo(e);
  }

  bool scalar_at_lo(const Expr& e) {
    try {
      Val x = expr(e);  // unused nodes are removed by the graph compiler
      return x.scalar();
    } catch (const std::exception&) {
      return false;
    }
  }

  bool vec_stmt_ok(const Stmt& s, const std::string& v) {
    switch (s.kind) {
      case StmtKind::Empty: return true;
      case StmtKind::Block:
        for (const auto& c : s.body)
          if (!vec_stmt_ok(c, v)) return false;
        return !s.body.empty();
      case StmtKind::Tilde: {
        if (s.has_truncation) return false;
        for (const auto& e : s.exprs)
          if (!vec_expr_ok(e, v)) return false;
        // The variate must carry the loop's length: a term whose variate does not use v
        // is repeated, and is left to unrolling.
        return mentions(s.exprs[0], v);
      }
      case StmtKind::TargetPlus: {
        const Expr& e = s.exprs[0];
        if (e.kind != ExprKind::CondCall) return false;
        for (const auto& a : e.args)
          if (!vec_expr_ok(a, v)) return false;
        return !e.args.empty() && mentions(e.args[0], v);
      }
      default: return false;
    }
  }

  bool vectorizable(const Stmt& loop, long lo) {
    scopes_.emplace_back();
    scopes_.back().vars[loop.name] = scalar_const(static_cast<double>(lo), true);
    const bool ok = vec_stmt_ok(loop.body[0], loop.name);
    scopes_.pop_back();
    return ok;
  }

  void body(const Stmt& s) {
    if (s.kind == StmtKind::Block) {
      scopes_.emplace_back();
      for (const auto& c : s.body) stmt(c);
      scopes_.pop_back();
    } else {
      stmt(s);
    }
  }

  model::Arg arg(const Expr& e) {
    Val v = expr(e);
    if (v.c && v.scalar()) return model::Arg((*v.c)[0]);
    return model::Arg(ex(v, e.loc));
  }

  static const Expr& root(const Expr& e) { return e.kind == ExprKind::Index ? root(e.args[0]) : e; }

  void assign(const Stmt& s) {
    const Expr& lhs = s.exprs[0];
    const Expr& r = root(lhs);
    Val& target = lookup(r.text, r.loc);
    Val rhs = expr(s.exprs[1]);
    if (s.op != "=") {
      // x op= y is x = x op y.
      Val cur = expr(lhs);
      rhs = binary(s.op.substr(0, s.op.size() - 1), cur, rhs, s.loc);
    }
    if (lhs.kind == ExprKind::Var) {
      target = convert(rhs, target, s.exprs[1].loc, r.text);
      return;
    }
    if (lhs.args[0].kind != ExprKind::Var)
      fail(lhs.loc, "only one level of indexing on the left of '=' is lowered yet");
    // Element-wise assignment: record each element's expression.
    std::vector<size_t> offs;
    Val meta = index_meta(target, lhs.indices, lhs.loc, r.text, &offs);
    if (meta.total() != rhs.total())
      fail(s.exprs[1].loc, fmt::format("cannot assign {} elements to {} elements of '{}'", rhs.total(),
                                       meta.total(), r.text));
    if (!target.parts) {
      auto parts = std::make_shared<std::vector<g::Expr>>(target.total());
      if (target.e.valid())
        for (size_t i = 0; i < parts->size(); ++i)
          (*parts)[i] = g::reshape(g::slice(target.e, i, 1), {});
      target.parts = parts;
      target.e = g::Expr();
    }
    target.c.reset();
    const g::Expr re = ex(rhs, s.exprs[1].loc);
    for (size_t k = 0; k < offs.size(); ++k)
      (*target.parts)[offs[k]] = offs.size() == 1 && re.size() == 1 ? g::reshape(re, {}) : g::reshape(g::slice(re, k, 1), {});
  }

  // ---- expressions ----
  Val expr(const Expr& e) {
    switch (e.kind) {
      case ExprKind::IntLit: return scalar_const(std::stod(e.text), true);
      case ExprKind::RealLit: return scalar_const(std::stod(e.text), false);
      case ExprKind::Paren: return expr(e.args[0]);
      case ExprKind::Var: {
        Val& v = lookup(e.text, e.loc);
        if (v.parts) materialize(v, e.loc, e.text);
        if (!v.e.valid()) fail(e.loc, fmt::format("'{}' is used before it is assigned", e.text));
        return v;
      }
      case ExprKind::Unary: {
        Val a = expr(e.args[0]);
        if (e.text == "+") return a;
        if (e.text == "!") {
          if (!a.c || !a.scalar()) fail(e.loc, "'!' on parameters is not lowered");
          return scalar_const((*a.c)[0] == 0 ? 1 : 0, true);
        }
        if (a.c && a.scalar()) return scalar_const(-(*a.c)[0], a.is_int);
        Val r = a;
        r.c.reset();
        r.e = g::neg(ex(a, e.loc));
        return r;
      }
      case ExprKind::Binary: return binary(e.text, expr(e.args[0]), expr(e.args[1]), e.loc);
      case ExprKind::Ternary: {
        Val c = expr(e.args[0]);
        if (!c.c || !c.scalar()) fail(e.loc, "'?:' on a condition that depends on parameters is not lowered");
        return expr((*c.c)[0] != 0 ? e.args[1] : e.args[2]);
      }
      case ExprKind::Transpose: {
        Val a = expr(e.args[0]);
        Val r = a;
        if (a.inner == Inner::Vector) r.inner = Inner::RowVector;
        else if (a.inner == Inner::RowVector) r.inner = Inner::Vector;
        else if (a.inner == Inner::Matrix) {
          r.c.reset();
          r.idims = {a.idims[1], a.idims[0]};
          r.e = g::transpose(ex(a, e.loc));
        }
        return r;
      }
      case ExprKind::Index: {
        if (e.args[0].kind == ExprKind::Var) {
          Val& v = lookup(e.args[0].text, e.args[0].loc);
          if (v.parts) return index_parts(v, e);
        }
        Val base = expr(e.args[0]);
        return index(base, e.indices, e.loc, print_expr(e.args[0]));
      }
      case ExprKind::Call:
      case ExprKind::CondCall: return call(e);
      case ExprKind::ArrayExpr:
      case ExprKind::RowVectorExpr: {
        std::vector<g::Expr> parts;
        std::vector<double> cs;
        bool all_c = true, all_int = true;
        Val first;
        for (size_t i = 0; i < e.args.size(); ++i) {
          Val v = expr(e.args[i]);
          if (i == 0) first = v;
          if (!v.scalar()) fail(e.args[i].loc, "only scalar elements are lowered in { } and [ ] yet");
          all_c = all_c && v.c.has_value();
          all_int = all_int && v.is_int;
          if (v.c) cs.push_back((*v.c)[0]);
          parts.push_back(g::reshape(ex(v, e.args[i].loc), {1}));
        }
        Val meta;
        if (e.kind == ExprKind::ArrayExpr) {
          meta.arr = {e.args.size()};
          meta.is_int = all_int;
        } else {
          meta.inner = Inner::RowVector;
          meta.idims = {e.args.size()};
        }
        if (all_c) return constant(cs, meta);
        meta.e = g::concat(parts);
        return meta;
      }
      default: fail(e.loc, "this expression is not lowered yet");
    }
  }

  Val binary(const std::string& op, Val a, Val b, Loc loc) {
    if (a.c && b.c && a.scalar() && b.scalar()) {
      const double x = (*a.c)[0], y = (*b.c)[0];
      const bool ii = a.is_int && b.is_int;
      double r = 0;
      bool rint = ii;
      if (op == "+") r = x + y;
      else if (op == "-") r = x - y;
      else if (op == "*" || op == ".*") r = x * y;
      else if (op == "/" || op == "./" || op == "%/%") {
        if (ii && y == 0) fail(loc, "integer division by zero");
        r = ii ? std::trunc(x / y) : x / y;
      } else if (op == "%") {
        if (!ii || y == 0) fail(loc, "'%' needs ints and a non-zero divisor");
        r = std::fmod(x, y);
      } else if (op == "^" || op == ".^") {
        r = std::pow(x, y);
        rint = false;
      } else {
        rint = true;
        if (op == "<") r = x < y;
        else if (op == "<=") r = x <= y;
        else if (op == ">") r = x > y;
        else if (op == ">=") r = x >= y;
        else if (op == "==") r = x == y;
        else if (op == "!=") r = x != y;
        else if (op == "&&") r = (x != 0) && (y != 0);
        else if (op == "||") r = (x != 0) || (y != 0);
        else fail(loc, fmt::format("operator '{}' is not lowered yet", op));
      }
      return scalar_const(r, rint);
    }
    const g::Expr ea = ex(a, loc), eb = ex(b, loc);
    Val meta = a.scalar() ? b : a;
    meta.c.reset();
    meta.is_int = false;
    meta.parts.reset();
    try {
      if (op == "+" || op == "-" || op == ".*" || op == "./" ||
          ((op == "*" || op == "/") && (a.scalar() || b.scalar() || vec_mode_))) {
        if (op == "/" && b.scalar() == false && !a.scalar() && !vec_mode_)
          fail(loc, "matrix division is not lowered yet");
        if (!a.scalar() && !b.scalar() && a.total() != b.total())
          fail(loc, fmt::format("operator '{}' on {} and {} elements", op, a.total(), b.total()));
        if (op == "+") meta.e = ea + eb;
        else if (op == "-") meta.e = ea - eb;
        else if (op == "*" || op == ".*") meta.e = ea * eb;
        else meta.e = ea / eb;
        return meta;
      }
      if (op == "^" || op == ".^") {
        meta.e = g::pow(ea, eb);
        return meta;
      }
      if (op == "*") {
        if (a.inner == Inner::Matrix && b.inner == Inner::Vector) {
          Val r;
          r.inner = Inner::Vector;
          r.idims = {a.idims[0]};
          r.e = g::matvec(ea, eb);
          return r;
        }
        if (a.inner == Inner::RowVector && b.inner == Inner::Vector) {
          Val r;
          r.e = g::dot(ea, eb);
          return r;
        }
        if (a.inner == Inner::Matrix && b.inner == Inner::Matrix) {
          Val r;
          r.inner = Inner::Matrix;
          r.idims = {a.idims[0], b.idims[1]};
          r.e = g::matmul(ea, eb);
          return r;
        }
        if (a.inner == Inner::RowVector && b.inner == Inner::Matrix) {
          Val r;
          r.inner = Inner::RowVector;
          r.idims = {b.idims[1]};
          r.e = g::matvec(g::transpose(eb), ea);
          return r;
        }
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& x) {
      fail(loc, fmt::format("operator '{}': {}", op, x.what()));
    }
    if (op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" || op == "!=" || op == "&&" ||
        op == "||")
      fail(loc, fmt::format("operator '{}' on values that depend on parameters is not lowered yet "
                            "(conditions must be known from the data)",
                            op));
    fail(loc, fmt::format("operator '{}' on these operands is not lowered yet", op));
  }

  // Resolves indexes to flat offsets of `base` (in the result's layout order) and the
  // result's shape.
  Val index_meta(const Val& base, const std::vector<IndexItem>& ixs, Loc loc, const std::string& name,
                 std::vector<size_t>* offsets) {
    std::vector<size_t> dims = base.arr;
    for (size_t d : base.idims) dims.push_back(d);
    const size_t na = base.arr.size();
    if (ixs.size() > dims.size()) fail(loc, fmt::format("too many indexes for '{}'", name));
    std::vector<std::vector<size_t>> pos(dims.size());
    std::vector<bool> keep(dims.size(), true);
    for (size_t k = 0; k < dims.size(); ++k) {
      if (k >= ixs.size()) {
        for (size_t i = 0; i < dims[k]; ++i) pos[k].push_back(i);
        continue;
      }
      const IndexItem& it = ixs[k];
      auto check = [&](long i) {
        if (i < 1 || static_cast<size_t>(i) > dims[k])
          fail(loc, fmt::format("index {} out of range for '{}' (size {})", i, name, dims[k]));
        return static_cast<size_t>(i - 1);
      };
      switch (it.kind) {
        case IndexItem::Single: {
          Val v = expr(it.bounds[0]);
          if (!v.c) fail(it.bounds[0].loc, "indexes that depend on parameters are not lowered");
          if (v.scalar()) {
            keep[k] = false;
            pos[k].push_back(check(std::lround((*v.c)[0])));
          } else {
            for (double x : *v.c) pos[k].push_back(check(std::lround(x)));
          }
          break;
        }
        case IndexItem::All:
          for (size_t i = 0; i < dims[k]; ++i) pos[k].push_back(i);
          break;
        case IndexItem::Lower: {
          const long lo = known_int(it.bounds[0], "an index");
          for (long i = lo; i <= static_cast<long>(dims[k]); ++i) pos[k].push_back(check(i));
          break;
        }
        case IndexItem::Upper: {
          const long hi = known_int(it.bounds[0], "an index");
          for (long i = 1; i <= hi; ++i) pos[k].push_back(check(i));
          break;
        }
        case IndexItem::Range: {
          const long lo = known_int(it.bounds[0], "an index");
          const long hi = known_int(it.bounds[1], "an index");
          for (long i = lo; i <= hi; ++i) pos[k].push_back(check(i));
          break;
        }
      }
    }
    Val r;
    r.is_int = base.is_int;
    for (size_t k = 0; k < na; ++k)
      if (keep[k]) r.arr.push_back(pos[k].size());
    // Inner kind after indexing.
    if (base.inner == Inner::Vector || base.inner == Inner::RowVector) {
      if (keep[na]) {
        r.inner = base.inner;
        r.idims = {pos[na].size()};
      }
    } else if (base.inner == Inner::Matrix) {
      const bool kr = keep[na], kc = keep[na + 1];
      if (kr && kc) {
        r.inner = Inner::Matrix;
        r.idims = {pos[na].size(), pos[na + 1].size()};
      } else if (kr) {
        r.inner = Inner::Vector;
        r.idims = {pos[na].size()};
      } else if (kc) {
        r.inner = Inner::RowVector;
        r.idims = {pos[na + 1].size()};
      }
    }
    // Enumerate: array dims row-major, then the inner element in graph order.
    const size_t isz = base.inner_size();
    std::vector<size_t> outer{0};
    for (size_t k = 0; k < na; ++k) {
      std::vector<size_t> next;
      for (size_t o : outer)
        for (size_t p : pos[k]) next.push_back(o * dims[k] + p);
      outer = std::move(next);
    }
    std::vector<size_t> inner_off;
    if (base.inner == Inner::Scalar) {
      inner_off = {0};
    } else if (base.inner == Inner::Matrix) {
      const size_t R = dims[na];
      for (size_t cidx : pos[na + 1])
        for (size_t ridx : pos[na]) inner_off.push_back(ridx + R * cidx);
    } else {
      inner_off = pos[na];
    }
    offsets->clear();
    for (size_t o : outer)
      for (size_t i : inner_off) offsets->push_back(o * isz + i);
    return r;
  }

  Val index(const Val& base0, const std::vector<IndexItem>& ixs, Loc loc, const std::string& name) {
    Val base = base0;
    std::vector<size_t> offs;
    Val r = index_meta(base, ixs, loc, name, &offs);
    if (base.c) {
      std::vector<double> vals;
      for (size_t o : offs) vals.push_back((*base.c)[o]);
      return constant(vals, r);
    }
    const g::Expr src = ex(base, loc);
    bool contiguous = !offs.empty();
    for (size_t k = 1; k < offs.size() && contiguous; ++k) contiguous = offs[k] == offs[k - 1] + 1;
    g::Expr flat;
    if (contiguous) {
      flat = (offs.size() == base.total()) ? g::reshape(src, {base.total()}) : g::slice(src, offs[0], offs.size());
    } else {
      std::vector<int> idx(offs.begin(), offs.end());
      flat = g::gather(src, idx);
    }
    r.e = g::reshape(flat, r.gshape());
    return r;
  }

  // Reading elements of a local that is still being built element by element.
  Val index_parts(const Val& v, const Expr& e) {
    std::vector<size_t> offs;
    Val r = index_meta(v, e.indices, e.loc, e.args[0].text, &offs);
    std::vector<g::Expr> xs;
    for (size_t o : offs) {
      if (!(*v.parts)[o].valid())
        fail(e.loc, fmt::format("element {} of '{}' is used before it is assigned", o + 1, e.args[0].text));
      xs.push_back(g::reshape((*v.parts)[o], {1}));
    }
    r.e = g::reshape(xs.size() == 1 ? xs[0] : g::concat(xs), r.gshape());
    return r;
  }

  Val call(const Expr& e) {
    const std::string& f = e.text;
    auto family_of = [&](const std::string& n) -> std::string {
      for (const char* suf : {"_lpdf", "_lpmf", "_lupdf", "_lupmf"}) {
        const std::string s(suf);
        if (n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0)
          return n.substr(0, n.size() - s.size());
      }
      return "";
    };
    const std::string fam = family_of(f);
    std::vector<Val> args;
    for (const auto& a : e.args) args.push_back(expr(a));
    try {
      if (!fam.empty()) {
        const dist::DistInfo* d = dist::find_dist(fam);
        if (!d) fail(e.loc, fmt::format("distribution '{}' is not in exmc's library yet", fam));
        std::vector<g::Expr> xs;
        for (size_t i = 0; i < args.size(); ++i) xs.push_back(ex(args[i], e.args[i].loc));
        // _lupdf drops constants like '~'; _lpdf keeps the full density.
        const bool propto = f.find("_lup") != std::string::npos;
        Val r;
        r.e = g::dist_lpdf(*d, xs, propto);
        return r;
      }
      auto need = [&](size_t n) {
        if (args.size() != n) fail(e.loc, fmt::format("'{}' with {} arguments is not lowered yet", f, args.size()));
      };
      using UnaryFn = g::Expr (*)(g::Expr);
      static const std::map<std::string, UnaryFn> unary = {
          {"exp", g::exp}, {"log", g::log}, {"sqrt", g::sqrt}, {"square", g::square},
          {"log1p", g::log1p}, {"expm1", g::expm1}, {"inv_logit", g::inv_logit},
          {"logit", g::logit}, {"lgamma", g::lgamma}, {"digamma", g::digamma}, {"erf", g::erf},
          {"erfc", g::erfc}, {"Phi", g::Phi}, {"inv_Phi", g::inv_Phi}, {"tanh", g::tanh},
          {"fabs", g::abs}, {"abs", g::abs}, {"log1p_exp", g::log1p_exp},
          {"log_inv_logit", g::log_inv_logit}, {"log1m_inv_logit", g::log1m_inv_logit}};
      auto it = unary.find(f);
      if (it != unary.end()) {
        need(1);
        Val r = args[0];
        r.c.reset();
        r.is_int = false;
        r.parts.reset();
        r.e = it->second(ex(args[0], e.loc));
        return r;
      }
      if (f == "size" || f == "num_elements" || f == "rows" || f == "cols") {
        need(1);
        const Val& a = args[0];
        double n = 0;
        if (f == "num_elements") n = static_cast<double>(a.total());
        else if (f == "size") n = static_cast<double>(a.arr.empty() ? a.inner_size() : a.arr[0]);
        else if (f == "rows") n = static_cast<double>(a.idims.empty() ? 1 : a.idims[0]);
        else n = static_cast<double>(a.inner == Inner::Matrix ? a.idims[1] : a.inner == Inner::RowVector ? a.idims[0] : 1);
        if (f == "rows" && a.inner == Inner::RowVector) n = 1;
        return scalar_const(n, true);
      }
      if (f == "log10" || f == "log2" || f == "log1m" || f == "inv" || f == "inv_sqrt" ||
          f == "inv_square" || f == "exp2") {
        need(1);
        Val r = args[0];
        r.c.reset();
        r.is_int = false;
        r.parts.reset();
        const g::Expr x = ex(args[0], e.loc);
        if (f == "log10") r.e = g::log(x) / std::log(10.0);
        else if (f == "log2") r.e = g::log(x) / std::log(2.0);
        else if (f == "log1m") r.e = g::log1p(g::neg(x));
        else if (f == "inv") r.e = 1.0 / x;
        else if (f == "inv_sqrt") r.e = 1.0 / g::sqrt(x);
        else if (f == "inv_square") r.e = 1.0 / g::square(x);
        else r.e = g::exp(x * std::log(2.0));
        return r;
      }
      if (f == "pow" || f == "fmin" || f == "fmax") {
        need(2);
        Val r = args[0].scalar() ? args[1] : args[0];
        r.c.reset();
        r.is_int = false;
        r.parts.reset();
        const g::Expr a = ex(args[0], e.args[0].loc), b = ex(args[1], e.args[1].loc);
        r.e = f == "pow" ? g::pow(a, b) : f == "fmin" ? g::fmin(a, b) : g::fmax(a, b);
        return r;
      }
      if (f == "sd" || f == "variance") {
        need(1);
        const double n = static_cast<double>(args[0].total());
        if (n < 2) fail(e.loc, fmt::format("'{}' needs at least 2 elements", f));
        const g::Expr x = ex(args[0], e.loc);
        const g::Expr var = g::sum(g::square(x - g::mean(x))) / (n - 1);
        Val r;
        r.e = f == "sd" ? g::sqrt(var) : var;
        return r;
      }
      if (f == "log_mix" && args.size() == 3 && args[0].scalar() && args[1].scalar() && args[2].scalar()) {
        // log(theta e^a + (1 - theta) e^b), via log_sum_exp for stability.
        const g::Expr t = ex(args[0], e.args[0].loc);
        const g::Expr a = g::reshape(g::log(t) + ex(args[1], e.args[1].loc), {1});
        const g::Expr b = g::reshape(g::log1p(g::neg(t)) + ex(args[2], e.args[2].loc), {1});
        Val r;
        r.e = g::log_sum_exp(g::concat({a, b}));
        return r;
      }
      using ReduceFn = g::Expr (*)(g::Expr);
      static const std::map<std::string, ReduceFn> reduce = {
          {"sum", g::sum}, {"mean", g::mean}, {"dot_self", g::dot_self}, {"log_sum_exp", g::log_sum_exp}};
      auto rt = reduce.find(f);
      if (rt != reduce.end() && args.size() == 1) {
        if (args[0].c && f == "sum") {
          double s = 0;
          for (double x : *args[0].c) s += x;
          return scalar_const(s, args[0].is_int);
        }
        Val r;
        r.e = rt->second(ex(args[0], e.loc));
        return r;
      }
      if (f == "dot_product") {
        need(2);
        Val r;
        r.e = g::dot(ex(args[0], e.loc), ex(args[1], e.loc));
        return r;
      }
      if (f == "rep_vector" || f == "rep_row_vector" || f == "rep_array") {
        need(2);
        const long n = known_int(e.args[1], "a size");
        Val r;
        if (f == "rep_array") {
          r.arr = {static_cast<size_t>(n)};
          r.is_int = args[0].is_int;
        } else {
          r.inner = f == "rep_vector" ? Inner::Vector : Inner::RowVector;
          r.idims = {static_cast<size_t>(n)};
        }
        if (!args[0].scalar()) fail(e.loc, fmt::format("'{}' of a container is not lowered yet", f));
        if (args[0].c) return constant(std::vector<double>(static_cast<size_t>(n), (*args[0].c)[0]), r);
        r.e = g::broadcast(ex(args[0], e.loc), r.gshape());
        return r;
      }
      if (f == "to_vector") {
        need(1);
        Val r = args[0];
        if (r.inner == Inner::Matrix) fail(e.loc, "to_vector of a matrix is not lowered yet");
        r.arr.clear();
        r.inner = Inner::Vector;
        r.idims = {args[0].total()};
        r.is_int = false;
        if (r.c) return constant(*r.c, r);
        r.e = g::reshape(ex(args[0], e.loc), r.gshape());
        return r;
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& x) {
      fail(e.loc, fmt::format("'{}': {}", f, x.what()));
    }
    fail(e.loc, fmt::format("function '{}' is not lowered yet", f));
  }

  const Program& p_;
  const DataEnv& data_;
  LowerOptions opts_;
  bool vec_mode_ = false;  // inside a vectorised loop: '*' and '/' of two vectors are elementwise
  std::unique_ptr<model::Model> m_;
  std::vector<Scope> scopes_;
};

}  // namespace

std::unique_ptr<model::Model> lower_to_model(const Program& program, const DataEnv& data,
                                             LowerOptions options) {
  return Lowerer(program, data, options).run();
}

}  // namespace exmc::stan
