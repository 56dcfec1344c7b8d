// Stan AST + bound data -> model::Model: parameters, deterministics, lpdf terms, unrolled loops.
#include "exmc/stan/lower.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
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

// What a statement left to its enclosing statements: run on, or leave a loop / a function.
enum class Flow { Normal, Break, Continue, Return };

class Lowerer {
 public:
  Lowerer(const Program& p, const DataEnv& d, LowerOptions o) : p_(p), data_(d), opts_(o) {}

  std::unique_ptr<model::Model> run() {
    m_ = std::make_unique<model::Model>();
    scopes_.emplace_back();
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
    {
      ScopeGuard model_scope(scopes_);
      for (const auto& s : p_.block(BlockKind::Model).stmts) stmt(s);
    }
    return std::move(m_);
  }

 private:
  [[noreturn]] void fail(Loc loc, const std::string& msg) const {
    throw Error(p_.file, loc.line, loc.col, msg, source_line(p_.source, loc.line));
  }

  g::Graph& graph() { return m_->graph(); }

  // Pushes a scope and drops it (and any scope pushed after it) on exit, errors included.
  struct ScopeGuard {
    explicit ScopeGuard(std::deque<Scope>& s) : scopes(s), depth(s.size()) { scopes.emplace_back(); }
    ~ScopeGuard() { scopes.resize(depth); }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    std::deque<Scope>& scopes;
    size_t depth;
  };

  Val& lookup(const std::string& n, Loc loc) {
    for (size_t k = scopes_.size(); k-- > floor_;) {
      auto f = scopes_[k].vars.find(n);
      if (f != scopes_[k].vars.end()) return f->second;
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
        if (s.has_truncation && user_distribution(s.name))
          fail(s.loc, "truncation T[,] of a user-defined distribution is not lowered yet");
        if (const FunDef* f = user_distribution(s.name)) {
          // Stan: `y ~ foo(a)` adds foo_lupdf(y | a).
          std::vector<Val> args;
          for (const auto& e : s.exprs) args.push_back(expr(e));
          Val lp = call_user(*f, std::move(args), s.loc, /*called_propto=*/true);
          add_potential(lp, s.loc, print_expr(s.exprs[0]) + " ~ " + s.name);
          return;
        }
        Val y = expr(s.exprs[0]);
        std::vector<model::Arg> args;
        for (size_t i = 1; i < s.exprs.size(); ++i) args.push_back(arg(s.exprs[i]));
        try {
          if (s.has_truncation) {
            // Stan: y ~ D(...) T[L, U] adds log p(y) - log(F(U) - F(L)); either bound may be absent.
            std::optional<model::Arg> lo, hi;
            if (s.trunc_lo) lo = arg(*s.trunc_lo);
            if (s.trunc_hi) hi = arg(*s.trunc_hi);
            m_->add_truncated_lpdf(s.name, ex(y, s.exprs[0].loc), std::move(args), lo, hi, print_expr(s.exprs[0]));
            return;
          }
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
        add_potential(expr(e), e.loc, print_expr(e));
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
          ScopeGuard loop_scope(scopes_);
          scopes_.back().vars[s.name] = constant(idx, iv);
          vec_mode_ = true;
          body(s.body[0]);
          vec_mode_ = false;
          return;
        }
        for (long i = lo; i <= hi; ++i) {
          ScopeGuard loop_scope(scopes_);
          scopes_.back().vars[s.name] = scalar_const(static_cast<double>(i), true);
          body(s.body[0]);
          if (leave_loop()) break;
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
          ScopeGuard loop_scope(scopes_);
          scopes_.back().vars[s.name] = std::move(elem);
          body(s.body[0]);
          if (leave_loop()) break;
        }
        return;
      }
      case StmtKind::While: {
        // Unrolled: the condition is re-evaluated before each pass and must be known.
        constexpr long kMaxPasses = 1000000;
        for (long pass = 0;; ++pass) {
          const std::optional<bool> c = known_condition(s.exprs[0]);
          if (!c)
            fail(s.exprs[0].loc,
                 fmt::format("the condition of 'while' must be known from the data (loops are "
                             "unrolled), but '{}' depends on parameters",
                             print_expr(s.exprs[0])));
          if (!*c) break;
          if (pass == kMaxPasses)
            fail(s.loc, fmt::format("'while' loop still running after {} passes (loops are "
                                    "unrolled; does its condition ever become false?)",
                                    kMaxPasses));
          body(s.body[0]);
          if (leave_loop()) break;
        }
        return;
      }
      case StmtKind::Break: flow_ = Flow::Break; return;
      case StmtKind::Continue: flow_ = Flow::Continue; return;
      case StmtKind::Return: {
        if (frames_.empty()) fail(s.loc, "'return' outside a function");
        if (!s.exprs.empty()) frames_.back().ret = expr(s.exprs[0]);
        flow_ = Flow::Return;
        return;
      }
      case StmtKind::CallStmt: {
        const Expr& e = s.exprs[0];
        if (e.kind == ExprKind::Call && user_function(e.text)) {
          call(e);  // a void function: its target += / ~ statements are what it contributes
          return;
        }
        if (e.kind == ExprKind::Call && e.text == "print") return;
        fail(s.loc, fmt::format("the call statement '{}' is not lowered yet", print_expr(e)));
      }
      case StmtKind::If: {
        const std::optional<bool> c = known_condition(s.exprs[0]);
        if (!c) {
          if_on_parameters(s);
          return;
        }
        if (*c) {
          body(s.body[0]);
        } else if (s.body.size() > 1) {
          body(s.body[1]);
        }
        return;
      }
      case StmtKind::Block:
      case StmtKind::Profile: {
        ScopeGuard block_scope(scopes_);
        statements(s.body);
        return;
      }
      case StmtKind::Print:
      case StmtKind::Empty: return;
      case StmtKind::Reject:
      case StmtKind::FatalError:
        fail(s.loc, "reject/fatal_error reached while lowering (with the data given)");
      default:
        fail(s.loc, "this statement is not lowered yet");
    }
  }

  // Runs statements in order until one leaves the enclosing loop or function.
  void statements(const std::vector<Stmt>& ss) {
    for (size_t i = 0; i < ss.size(); ++i) {
      const Stmt& c = ss[i];
      if (c.kind == StmtKind::If && !frames_.empty() && has_return(c) && !known_condition(c.exprs[0])) {
        return_on_parameters(c, ss, i + 1);
        return;
      }
      stmt(c);
      if (flow_ != Flow::Normal) return;
    }
  }

  static bool has_return(const Stmt& s) {
    if (s.kind == StmtKind::Return) return true;
    for (const auto& c : s.body)
      if (has_return(c)) return true;
    return false;
  }
  // Every path through s ends in a return (loops may run zero times: they do not count).
  static bool always_returns(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Return: return true;
      case StmtKind::Block:
      case StmtKind::Profile:
        for (const auto& c : s.body)
          if (always_returns(c)) return true;
        return false;
      case StmtKind::If: return s.body.size() == 2 && always_returns(s.body[0]) && always_returns(s.body[1]);
      default: return false;
    }
  }
  // Like not_selectable, with returns allowed outside loops (a function's value may depend on
  // a parameter condition; a return inside a loop would need the remaining passes selected too).
  const Stmt* not_selectable_with_returns(const Stmt& s, bool in_loop) const {
    switch (s.kind) {
      case StmtKind::Return: return in_loop ? &s : nullptr;
      case StmtKind::Block:
      case StmtKind::Profile:
      case StmtKind::If:
      case StmtKind::For:
      case StmtKind::Foreach:
      case StmtKind::While: {
        const bool loop = in_loop || s.kind == StmtKind::For || s.kind == StmtKind::Foreach || s.kind == StmtKind::While;
        for (const auto& c : s.body)
          if (const Stmt* bad = not_selectable_with_returns(c, loop)) return bad;
        return nullptr;
      }
      default: return not_selectable(s);
    }
  }

  // Inside a function: `if (c) A else B; R...` with c depending on parameters and a return in
  // A or B. A branch that does not return continues with R, so both paths end in a return;
  // each is lowered from the same state and the value returned is select(c, then, else).
  void return_on_parameters(const Stmt& s, const std::vector<Stmt>& ss, size_t rest) {
    Stmt empty;
    const Stmt* branches[2] = {&s.body[0], s.body.size() > 1 ? &s.body[1] : &empty};
    for (const Stmt* b : branches) {
      if (has_return(*b) && !always_returns(*b))
        fail(s.loc, "a 'return' on only some paths of an 'if' whose condition depends on parameters is "
                    "not supported (return in every path of the branch, or in none)");
      if (const Stmt* bad = not_selectable_with_returns(*b, false))
        fail(bad->loc, fmt::format("{} inside an 'if' whose condition depends on parameters is not "
                                   "supported (only assignments and returns can depend on such a "
                                   "condition)",
                                   stmt_word(bad->kind)));
    }
    for (size_t i = rest; i < ss.size(); ++i)
      if (const Stmt* bad = not_selectable_with_returns(ss[i], false))
        fail(bad->loc, fmt::format("{} after a 'return' under a condition that depends on parameters is "
                                   "not supported (only assignments and returns can follow it)",
                                   stmt_word(bad->kind)));
    const auto before = snapshot();
    Val returned[2];
    for (int k = 0; k < 2; ++k) {
      if (k == 1) restore(before);
      body(*branches[k]);
      if (flow_ == Flow::Normal)
        for (size_t i = rest; i < ss.size() && flow_ == Flow::Normal; ++i) stmt(ss[i]);
      if (flow_ != Flow::Return || !frames_.back().ret)
        fail(s.loc, fmt::format("'{}' reaches its end without returning a value after this 'if'",
                                frames_.back().fun->name));
      returned[k] = *frames_.back().ret;
      frames_.back().ret.reset();
      flow_ = Flow::Normal;
    }
    const Val& a = returned[0];
    const Val& b = returned[1];
    if (a.total() != b.total() && !a.scalar() && !b.scalar())
      fail(s.loc, fmt::format("the two paths of this 'if' return {} and {} elements", a.total(), b.total()));
    Val meta = a.scalar() ? b : a;
    frames_.back().ret = with_expr(meta, select_on(s.exprs[0], flat(a, s.loc), flat(b, s.loc)));
    flow_ = Flow::Return;
  }

  // After one pass of a loop body: true when the loop ends here (break, or a return leaving it).
  bool leave_loop() {
    if (flow_ == Flow::Continue) flow_ = Flow::Normal;
    if (flow_ == Flow::Break) {
      flow_ = Flow::Normal;
      return true;
    }
    return flow_ == Flow::Return;
  }

  void add_potential(Val v, Loc loc, const std::string& label) {
    if (!v.scalar()) fail(loc, fmt::format("'target +=' of a container ({} elements) is not lowered yet; sum it", v.total()));
    try {
      m_->potential(ex(v, loc), label);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& x) {
      fail(loc, fmt::format("cannot lower 'target += {}': {}", label, x.what()));
    }
  }

  // The value of a condition when it is known from the data; nullopt when it depends on
  // parameters. && and || short-circuit on a known left side, as in Stan.
  std::optional<bool> known_condition(const Expr& e) {
    switch (e.kind) {
      case ExprKind::Paren: return known_condition(e.args[0]);
      case ExprKind::Unary:
        if (e.text == "!") {
          auto v = known_condition(e.args[0]);
          if (!v) return std::nullopt;
          return !*v;
        }
        break;
      case ExprKind::Binary: {
        const std::string& op = e.text;
        if (op == "&&" || op == "||") {
          auto l = known_condition(e.args[0]);
          if (l && *l == (op == "||")) return *l;
          auto r = known_condition(e.args[1]);
          if (l && r) return *r;
          if (r && *r == (op == "||")) return *r;
          return std::nullopt;
        }
        if (op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" || op == "!=") {
          Val a = expr(e.args[0]), b = expr(e.args[1]);
          if (!(a.c && b.c && a.scalar() && b.scalar())) {
            if (!a.scalar() || !b.scalar())
              fail(e.loc, fmt::format("operator '{}' needs two scalars (int or real)", op));
            return std::nullopt;
          }
          return (*binary(op, a, b, e.loc).c)[0] != 0;
        }
        break;
      }
      default: break;
    }
    Val v = expr(e);
    if (!v.scalar()) fail(e.loc, fmt::format("a condition must be an int or real, found {} elements", v.total()));
    if (!v.c) return std::nullopt;
    return (*v.c)[0] != 0;
  }

  // cond ? a : b elementwise, for a condition that depends on parameters (a and b flat, of one
  // element or of one common size). Only the chosen branch receives gradient.
  g::Expr select_on(const Expr& cond, g::Expr a, g::Expr b) {
    if (auto k = known_condition(cond)) return *k ? a : b;
    switch (cond.kind) {
      case ExprKind::Paren: return select_on(cond.args[0], a, b);
      case ExprKind::Unary:
        if (cond.text == "!") return select_on(cond.args[0], b, a);
        break;
      case ExprKind::Binary: {
        const std::string& op = cond.text;
        if (op == "&&") return select_on(cond.args[0], select_on(cond.args[1], a, b), b);
        if (op == "||") return select_on(cond.args[0], a, select_on(cond.args[1], a, b));
        const bool cmp = op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" || op == "!=";
        if (cmp) {
          const g::Expr l = ex(expr(cond.args[0]), cond.args[0].loc), r = ex(expr(cond.args[1]), cond.args[1].loc);
          if (op == "<") return g::select(g::Cmp::kLt, l, r, a, b);
          if (op == "<=") return g::select(g::Cmp::kLe, l, r, a, b);
          if (op == ">") return g::select(g::Cmp::kLt, r, l, a, b);
          if (op == ">=") return g::select(g::Cmp::kLe, r, l, a, b);
          if (op == "==") return g::select(g::Cmp::kEq, l, r, a, b);
          return g::select(g::Cmp::kEq, l, r, b, a);
        }
        break;
      }
      default: break;
    }
    // Any other real: true where it is non-zero.
    const g::Expr v = ex(expr(cond), cond.loc);
    return g::select(g::Cmp::kEq, v, graph().constant(0.0), b, a);
  }

  // `c ? a : b` with c depending on parameters: both branches are lowered and selected
  // elementwise; they must have the same shape (or one be a scalar of a real result).
  Val ternary_on_parameters(const Expr& e) {
    Val a = expr(e.args[1]), b = expr(e.args[2]);
    if (a.total() != b.total() && !a.scalar() && !b.scalar())
      fail(e.loc, fmt::format("the branches of '?:' have {} and {} elements; a condition that depends "
                              "on parameters needs branches of the same shape",
                              a.total(), b.total()));
    Val r = a.scalar() ? b : a;
    const g::Expr s = select_on(e.args[0], flat(a, e.args[1].loc), flat(b, e.args[2].loc));
    Val out = with_expr(r, s);
    return out;
  }

  // The first statement an if on parameters cannot make conditional, or nullptr: only
  // assignments (in blocks, loops and nested ifs) can become selects.
  // Whether e calls a user _lp function (which adds to the target wherever it is called).
  bool calls_lp_function(const Expr& e) const {
    if ((e.kind == ExprKind::Call || e.kind == ExprKind::CondCall) && ends_with(e.text, "_lp") &&
        user_function(e.text))
      return true;
    for (const auto& a : e.args)
      if (calls_lp_function(a)) return true;
    for (const auto& ix : e.indices)
      for (const auto& b : ix.bounds)
        if (calls_lp_function(b)) return true;
    return false;
  }

  const Stmt* not_selectable(const Stmt& s) const {
    switch (s.kind) {
      case StmtKind::Decl:
        if (s.decl[0].init && calls_lp_function(*s.decl[0].init)) return &s;
        return nullptr;
      case StmtKind::Assign:
        for (const auto& e : s.exprs)
          if (calls_lp_function(e)) return &s;
        return nullptr;
      case StmtKind::Empty:
      case StmtKind::Print: return nullptr;
      case StmtKind::Block:
      case StmtKind::Profile:
      case StmtKind::If:
      case StmtKind::For:
      case StmtKind::Foreach:
      case StmtKind::While:
        for (const auto& c : s.body)
          if (const Stmt* bad = not_selectable(c)) return bad;
        return nullptr;
      default: return &s;
    }
  }

  static const char* stmt_word(StmtKind k) {
    switch (k) {
      case StmtKind::Tilde: return "'~'";
      case StmtKind::TargetPlus: return "'target +='";
      case StmtKind::JacobianPlus: return "'jacobian +='";
      case StmtKind::Break: return "'break'";
      case StmtKind::Continue: return "'continue'";
      case StmtKind::Return: return "'return'";
      case StmtKind::Reject: return "'reject'";
      case StmtKind::FatalError: return "'fatal_error'";
      case StmtKind::CallStmt: return "a function call statement";
      case StmtKind::Decl:
      case StmtKind::Assign: return "a call of an _lp function";
      default: return "this statement";
    }
  }

  // Copies every visible variable, with private element lists, so a branch can be undone.
  std::vector<std::pair<Val*, Val>> snapshot() {
    std::vector<std::pair<Val*, Val>> snap;
    for (size_t k = floor_; k < scopes_.size(); ++k)
      for (auto& [name, v] : scopes_[k].vars) {
        Val copy = v;
        if (copy.parts) copy.parts = std::make_shared<std::vector<g::Expr>>(*copy.parts);
        snap.emplace_back(&v, std::move(copy));
      }
    return snap;
  }
  void restore(const std::vector<std::pair<Val*, Val>>& snap) {
    for (const auto& [ptr, v] : snap) {
      *ptr = v;
      if (ptr->parts) ptr->parts = std::make_shared<std::vector<g::Expr>>(*v.parts);
    }
  }

  // Elements of a value as scalar expressions (invalid where never assigned).
  std::vector<g::Expr> elements(const Val& v) {
    if (v.parts) return *v.parts;
    std::vector<g::Expr> out(v.total());
    if (!v.e.valid()) return out;
    const g::Expr f = g::reshape(v.e, {v.total()});
    for (size_t i = 0; i < out.size(); ++i) out[i] = g::reshape(g::slice(f, i, 1), {});
    return out;
  }
  static bool same_value(const Val& a, const Val& b) {
    if (static_cast<bool>(a.parts) != static_cast<bool>(b.parts)) return false;
    if (a.parts) {
      for (size_t i = 0; i < a.parts->size(); ++i)
        if ((*a.parts)[i].id() != (*b.parts)[i].id()) return false;
      return true;
    }
    return a.e.id() == b.e.id();
  }

  // if (c) A else B with c depending on parameters: both branches are lowered from the same
  // state; every variable either changes becomes select(c, then-value, else-value), element by
  // element where it is being built element by element.
  void if_on_parameters(const Stmt& s) {
    for (const auto& b : s.body)
      if (const Stmt* bad = not_selectable(b))
        fail(bad->loc, fmt::format("{} inside an 'if' whose condition depends on parameters is not "
                                   "supported (only assignments can depend on such a condition)",
                                   stmt_word(bad->kind)));
    const auto before = snapshot();
    body(s.body[0]);
    const auto then_state = snapshot();
    if (then_state.size() != before.size()) fail(s.loc, "internal: a branch changed the set of variables");
    restore(before);
    if (s.body.size() > 1) body(s.body[1]);
    const g::Expr nan = graph().constant(std::nan(""));
    for (size_t k = 0; k < before.size(); ++k) {
      Val* var = before[k].first;
      const Val& t = then_state[k].second;
      Val& el = *var;  // the else-state, in place
      if (same_value(t, el)) continue;
      el.c.reset();
      if (t.is_int != el.is_int) el.is_int = false;
      if (!t.parts && !el.parts) {  // whole values: one select
        const size_t n = el.total();
        auto whole = [&](const Val& v) { return v.e.valid() ? g::reshape(v.e, {n}) : g::broadcast(nan, {n}); };
        el.e = g::reshape(select_on(s.exprs[0], whole(t), whole(el)), el.gshape());
        continue;
      }
      std::vector<g::Expr> te = elements(t), ee = elements(el);
      auto merged = std::make_shared<std::vector<g::Expr>>(te.size());
      for (size_t i = 0; i < te.size(); ++i) {
        if (te[i].valid() && ee[i].valid() && te[i].id() == ee[i].id()) {
          (*merged)[i] = te[i];
        } else if (te[i].valid() || ee[i].valid()) {
          (*merged)[i] = g::reshape(select_on(s.exprs[0], te[i].valid() ? te[i] : nan, ee[i].valid() ? ee[i] : nan), {});
        }
      }
      el.e = g::Expr();
      if (merged->size() == 1 && (*merged)[0].valid()) {
        el.e = g::reshape((*merged)[0], el.gshape());
        el.parts.reset();
      } else {
        el.parts = merged;
      }
    }
  }

  // ---- user-defined functions (inlined at each call) ----
  static bool ends_with(const std::string& s, const char* suf) {
    const std::string x(suf);
    return s.size() > x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
  }

  // The definition (with a body) of user function `name`; `foo_lupdf` finds foo_lpdf.
  const FunDef* user_function(const std::string& name) const {
    std::string n = name;
    if (ends_with(n, "_lupdf")) n = n.substr(0, n.size() - 6) + "_lpdf";
    else if (ends_with(n, "_lupmf")) n = n.substr(0, n.size() - 6) + "_lpmf";
    for (const auto& f : p_.functions)
      if (f.name == n && !f.is_forward_decl()) return &f;
    return nullptr;
  }

  // The user function behind `~ family`: family_lpdf, family_lpmf or family_log.
  const FunDef* user_distribution(const std::string& family) const {
    for (const char* suf : {"_lpdf", "_lpmf", "_log"})
      if (const FunDef* f = user_function(family + suf)) return f;
    return nullptr;
  }

  bool mentions_user_call(const Expr& e) const {
    if ((e.kind == ExprKind::Call || e.kind == ExprKind::CondCall) && user_function(e.text)) return true;
    for (const auto& a : e.args)
      if (mentions_user_call(a)) return true;
    for (const auto& ix : e.indices)
      for (const auto& b : ix.bounds)
        if (mentions_user_call(b)) return true;
    return false;
  }

  // Inlines one call: the arguments become the locals of a fresh scope that hides the caller's
  // variables, the body is lowered statement by statement, and `return` hands back its value.
  // called_propto: called as `~` or `_lupdf` (Stan drops constants inside only then).
  Val call_user(const FunDef& f, std::vector<Val> args, Loc loc, bool called_propto) {
    for (const Frame& fr : frames_)
      if (fr.fun == &f)
        fail(loc, fmt::format("'{}' is called recursively (from '{}'); user functions are lowered "
                              "by inlining each call, so recursion is not supported",
                              f.name, frames_.back().fun->name));
    if (args.size() != f.args.size())
      fail(loc, fmt::format("'{}' takes {} arguments, found {}", f.name, f.args.size(), args.size()));
    const size_t saved_floor = floor_;
    const bool saved_propto = propto_ctx_;
    struct Restore {
      Lowerer& l;
      size_t floor;
      bool propto;
      ~Restore() {
        l.floor_ = floor;
        l.propto_ctx_ = propto;
        l.frames_.pop_back();
        l.flow_ = Flow::Normal;
      }
    };
    frames_.push_back({&f, std::nullopt});
    Restore restore{*this, saved_floor, saved_propto};
    if (ends_with(f.name, "_lpdf") || ends_with(f.name, "_lpmf") || ends_with(f.name, "_log"))
      propto_ctx_ = propto_ctx_ && called_propto;
    ScopeGuard frame_scope(scopes_);
    floor_ = scopes_.size() - 1;
    for (size_t i = 0; i < args.size(); ++i) {
      Val v = std::move(args[i]);
      if (f.args[i].type.base != BaseType::Int) v.is_int = false;  // int arguments promote
      scopes_.back().vars[f.args[i].name] = std::move(v);
    }
    const Stmt& b = f.body[0];
    if (b.kind == StmtKind::Block) statements(b.body);
    else stmt(b);
    if (f.return_type.is_void) return Val{};
    std::optional<Val> ret = frames_.back().ret;
    if (flow_ != Flow::Return || !ret)
      fail(loc, fmt::format("'{}' reached its end without returning a value (with the data given)", f.name));
    if (f.return_type.base != BaseType::Int) ret->is_int = false;
    return *ret;
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
        // A user density is inlined, not a fused vector kernel; calls may add to the target.
        if (s.has_truncation || user_distribution(s.name)) return false;
        for (const auto& e : s.exprs)
          if (mentions_user_call(e)) return false;
        for (const auto& e : s.exprs)
          if (!vec_expr_ok(e, v)) return false;
        // The variate must carry the loop's length: a term whose variate does not use v
        // is repeated, and is left to unrolling.
        return mentions(s.exprs[0], v);
      }
      case StmtKind::TargetPlus: {
        const Expr& e = s.exprs[0];
        if (e.kind != ExprKind::CondCall || mentions_user_call(e)) return false;
        for (const auto& a : e.args)
          if (!vec_expr_ok(a, v)) return false;
        return !e.args.empty() && mentions(e.args[0], v);
      }
      case StmtKind::Assign: {
        // x[v] = (elementwise in v): one vector assignment of the elements lo..hi.
        const Expr& lhs = s.exprs[0];
        if (!is_element_of(lhs, v) || lhs.args[0].text == v) return false;
        if (mentions_user_call(s.exprs[1]) || !vec_expr_ok(s.exprs[1], v)) return false;
        try {
          std::vector<size_t> offs;
          const Val& target = lookup(lhs.args[0].text, lhs.loc);
          return index_meta(target, lhs.indices, lhs.loc, lhs.args[0].text, &offs).scalar() && !target.is_int;
        } catch (const std::exception&) {
          return false;
        }
      }
      default: return false;
    }
  }

  // e is name[v] with v the bare loop variable.
  static bool is_element_of(const Expr& e, const std::string& v) {
    return e.kind == ExprKind::Index && e.args[0].kind == ExprKind::Var && e.indices.size() == 1 &&
           e.indices[0].kind == IndexItem::Single && e.indices[0].bounds[0].kind == ExprKind::Var &&
           e.indices[0].bounds[0].text == v;
  }
  // Every use of `name` in e is name[v]: no element of another pass is read (a recurrence
  // such as x[n] = x[n - 1] + ... must stay unrolled).
  static bool only_own_element(const Expr& e, const std::string& name, const std::string& v) {
    if (e.kind == ExprKind::Index && e.args[0].kind == ExprKind::Var && e.args[0].text == name)
      return is_element_of(e, v);
    if (e.kind == ExprKind::Var && e.text == name) return false;
    for (const auto& a : e.args)
      if (!only_own_element(a, name, v)) return false;
    for (const auto& ix : e.indices)
      for (const auto& b : ix.bounds)
        if (!only_own_element(b, name, v)) return false;
    return true;
  }
  static void assigned_names(const Stmt& s, std::set<std::string>& out) {
    if (s.kind == StmtKind::Assign) out.insert(root(s.exprs[0]).text);
    for (const auto& c : s.body) assigned_names(c, out);
  }
  static bool body_reads_only_own_elements(const Stmt& s, const std::set<std::string>& names, const std::string& v) {
    for (const auto& e : s.exprs)
      for (const auto& n : names)
        if (!only_own_element(e, n, v)) return false;
    for (const auto& c : s.body)
      if (!body_reads_only_own_elements(c, names, v)) return false;
    return true;
  }

  bool vectorizable(const Stmt& loop, long lo) {
    std::set<std::string> names;
    assigned_names(loop.body[0], names);
    if (!body_reads_only_own_elements(loop.body[0], names, loop.name)) return false;
    // While probing, the variables the body assigns read as zeros of their shape (they may
    // hold no value yet); their real values are put back afterwards.
    std::vector<std::pair<Val*, Val>> saved;
    for (const auto& n : names) {
      for (size_t k = scopes_.size(); k-- > floor_;) {
        auto f = scopes_[k].vars.find(n);
        if (f == scopes_[k].vars.end()) continue;
        Val& t = f->second;
        saved.emplace_back(&t, t);
        Val zero = t;
        zero.parts.reset();
        t = constant(std::vector<double>(t.total(), 0.0), zero);
        break;
      }
    }
    bool ok = false;
    {
      ScopeGuard probe_scope(scopes_);
      scopes_.back().vars[loop.name] = scalar_const(static_cast<double>(lo), true);
      try {
        ok = vec_stmt_ok(loop.body[0], loop.name);
      } catch (...) {
        for (auto& [ptr, v] : saved) *ptr = v;
        throw;
      }
    }
    for (auto& [ptr, v] : saved) *ptr = v;
    return ok;
  }

  void body(const Stmt& s) {
    if (s.kind == StmtKind::Block) {
      ScopeGuard block_scope(scopes_);
      statements(s.body);
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
    if (vec_mode_ && rhs.scalar() && meta.total() > 1) {  // x[n] = a in a vectorised loop
      Val b = meta;
      b.is_int = rhs.is_int;
      if (rhs.c) b = constant(std::vector<double>(meta.total(), (*rhs.c)[0]), b);
      else b.e = g::broadcast(ex(rhs, s.exprs[1].loc), meta.gshape());
      rhs = b;
    }
    if (meta.total() != rhs.total())
      fail(s.exprs[1].loc, fmt::format("cannot assign {} elements to {} elements of '{}'", rhs.total(),
                                       meta.total(), r.text));
    // Known values stay known element by element (an index array built in a loop over the
    // data); elements not yet assigned hold NaN and are caught by the parts check on reading.
    std::optional<std::vector<double>> known;
    if (rhs.c && (target.c || (!target.e.valid() && !target.parts))) {
      known = target.c ? *target.c : std::vector<double>(target.total(), std::nan(""));
      for (size_t k = 0; k < offs.size(); ++k) (*known)[offs[k]] = (*rhs.c)[rhs.c->size() == 1 ? 0 : k];
    }
    bool whole = offs.size() == target.total();
    for (size_t k = 0; k < offs.size() && whole; ++k) whole = offs[k] == k;
    if (whole) {  // every element in order (a vectorised loop): one expression, no parts
      target.e = g::reshape(ex(rhs, s.exprs[1].loc), target.gshape());
      target.parts.reset();
      target.c = std::move(known);
      return;
    }
    if (!target.parts) {
      auto parts = std::make_shared<std::vector<g::Expr>>(target.total());
      if (target.e.valid())
        for (size_t i = 0; i < parts->size(); ++i)
          (*parts)[i] = g::reshape(g::slice(target.e, i, 1), {});
      target.parts = parts;
      target.e = g::Expr();
    }
    target.c = std::move(known);
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
        const std::optional<bool> c = known_condition(e.args[0]);
        if (!c) return ternary_on_parameters(e);
        return expr(*c ? e.args[1] : e.args[2]);
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
    // Known containers stay known (index arithmetic such as x[N + 1 - n] in a vectorised
    // loop, transformed data): elementwise arithmetic folded here.
    const bool elementwise = op == "+" || op == "-" || op == ".*" || op == "./" ||
                             ((op == "*" || op == "/") && (a.scalar() || b.scalar() || vec_mode_));
    if (a.c && b.c && elementwise && (a.scalar() || b.scalar() || a.total() == b.total())) {
      const Val& big = a.scalar() ? b : a;
      const bool ii = a.is_int && b.is_int;
      std::vector<double> r(big.total());
      for (size_t i = 0; i < r.size(); ++i) {
        const double x = (*a.c)[a.scalar() ? 0 : i], y = (*b.c)[b.scalar() ? 0 : i];
        if (op == "+") r[i] = x + y;
        else if (op == "-") r[i] = x - y;
        else if (op == "*" || op == ".*") r[i] = x * y;
        else if (ii && y == 0) fail(loc, "integer division by zero");
        else r[i] = ii ? std::trunc(x / y) : x / y;
      }
      Val meta = big;
      meta.is_int = ii;
      meta.parts.reset();
      return constant(std::move(r), meta);
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
    if (v.c) {
      std::vector<double> vals;
      for (size_t o : offs) vals.push_back((*v.c)[o]);
      return constant(vals, r);
    }
    r.e = g::reshape(xs.size() == 1 ? xs[0] : g::concat(xs), r.gshape());
    return r;
  }


  // ---- built-ins beyond the elementwise core ----
  static Val matrix_meta(size_t r, size_t c) {
    Val v;
    v.inner = Inner::Matrix;
    v.idims = {r, c};
    return v;
  }
  static Val vector_meta(size_t n, Inner kind = Inner::Vector) {
    Val v;
    v.inner = kind;
    v.idims = {n};
    return v;
  }
  Val with_expr(Val meta, g::Expr e) {
    meta.e = g::reshape(e, meta.gshape());
    meta.c.reset();
    meta.parts.reset();
    meta.is_int = false;
    return meta;
  }
  g::Expr flat(const Val& v, Loc loc) { return g::reshape(ex(v, loc), {v.total()}); }
  // Elements of `v` picked by 0-based flat indexes, as a graph expression (folded for data).
  g::Expr pick(const Val& v, const std::vector<int>& idx, Loc loc) { return g::gather(flat(v, loc), idx); }

  // The n x n matrix with v (n elements, or one repeated) on its diagonal and exact zeros off it.
  g::Expr diag_of(const Val& v, size_t n, Loc loc) {
    const size_t k = v.total();
    if (k != 1 && k != n) fail(loc, fmt::format("a diagonal of {} elements for a {} x {} matrix", k, n, n));
    const g::Expr src = g::concat({flat(v, loc), graph().data({0.0}, {1})});
    std::vector<int> idx(n * n, static_cast<int>(k));
    for (size_t i = 0; i < n; ++i) idx[i + n * i] = k == 1 ? 0 : static_cast<int>(i);
    return g::reshape(g::gather(src, idx), {n, n});
  }

  const Val& matrix_arg(const std::vector<Val>& args, size_t i, const std::string& f, Loc loc) {
    if (args[i].inner != Inner::Matrix || !args[i].arr.empty())
      fail(loc, fmt::format("'{}' expects a matrix as argument {}", f, i + 1));
    return args[i];
  }
  const Val& vector_arg(const std::vector<Val>& args, size_t i, const std::string& f, Loc loc) {
    if ((args[i].inner != Inner::Vector && args[i].inner != Inner::RowVector) || !args[i].arr.empty())
      fail(loc, fmt::format("'{}' expects a vector as argument {}", f, i + 1));
    return args[i];
  }

  // The points of a covariance function: array[] real (dimension 1) or array[] vector.
  struct Points {
    Val v;
    size_t n = 0, dim = 1;
  };
  Points points_of(const Val& x, const std::string& f, Loc loc) {
    Points p{x};
    if (x.arr.size() == 1 && x.inner == Inner::Scalar) {
      p.n = x.arr[0];
    } else if (x.arr.size() == 1 && (x.inner == Inner::Vector || x.inner == Inner::RowVector)) {
      p.n = x.arr[0];
      p.dim = x.idims[0];
    } else if (x.arr.empty() && (x.inner == Inner::Vector || x.inner == Inner::RowVector)) {
      p.n = x.idims[0];
    } else {
      fail(loc, fmt::format("'{}' expects its points as array[] real or array[] vector", f));
    }
    return p;
  }

  // Squared Euclidean distances between two point sets, an n1 x n2 matrix (column-major).
  g::Expr squared_distances(const Points& a, const Points& b, Loc loc) {
    if (a.dim != b.dim) fail(loc, fmt::format("points of dimension {} and {}", a.dim, b.dim));
    if (a.v.c && b.v.c) {
      std::vector<double> d(a.n * b.n, 0.0);
      for (size_t j = 0; j < b.n; ++j)
        for (size_t i = 0; i < a.n; ++i)
          for (size_t k = 0; k < a.dim; ++k) {
            const double diff = (*a.v.c)[i * a.dim + k] - (*b.v.c)[j * b.dim + k];
            d[i + a.n * j] += diff * diff;
          }
      return graph().data(d, {a.n, b.n});
    }
    g::Expr acc;
    for (size_t k = 0; k < a.dim; ++k) {
      std::vector<int> ia(a.n * b.n), ib(a.n * b.n);
      for (size_t j = 0; j < b.n; ++j)
        for (size_t i = 0; i < a.n; ++i) {
          ia[i + a.n * j] = static_cast<int>(i * a.dim + k);
          ib[i + a.n * j] = static_cast<int>(j * b.dim + k);
        }
      const g::Expr sq = g::square(pick(a.v, ia, loc) - pick(b.v, ib, loc));
      acc = k == 0 ? sq : acc + sq;
    }
    return g::reshape(acc, {a.n, b.n});
  }

  // gp_exp_quad_cov (cov_exp_quad), gp_exponential_cov, gp_matern32_cov, gp_matern52_cov with
  // one magnitude and one length scale: (x, alpha, rho) or (x1, x2, alpha, rho).
  Val gp_cov(const std::string& f, const std::vector<Val>& args, const Expr& e) {
    if (args.size() != 3 && args.size() != 4)
      fail(e.loc, fmt::format("'{}' with {} arguments is not lowered", f, args.size()));
    const bool cross = args.size() == 4;
    const Points a = points_of(args[0], f, e.loc);
    const Points b = cross ? points_of(args[1], f, e.loc) : a;
    const Val& alpha = args[cross ? 2 : 1];
    const Val& rho = args[cross ? 3 : 2];
    if (!alpha.scalar() || !rho.scalar())
      fail(e.loc, fmt::format("'{}' with a length scale per dimension is not lowered yet", f));
    const g::Expr d2 = squared_distances(a, b, e.loc);
    const g::Expr s2 = g::square(ex(alpha, e.loc)), r = ex(rho, e.loc);
    Val out = matrix_meta(a.n, b.n);
    if (f == "gp_exp_quad_cov" || f == "cov_exp_quad") return with_expr(out, s2 * g::exp(d2 * (-0.5 / g::square(r))));
    // The distance's derivative is infinite where two points meet: points must be data.
    if (!a.v.c || !b.v.c) fail(e.loc, fmt::format("'{}' of points that depend on parameters is not lowered", f));
    const g::Expr dist = g::sqrt(d2);
    if (f == "gp_exponential_cov") return with_expr(out, s2 * g::exp(g::neg(dist / r)));
    const g::Expr t = (f == "gp_matern32_cov" ? std::sqrt(3.0) : std::sqrt(5.0)) * dist / r;
    if (f == "gp_matern32_cov") return with_expr(out, s2 * (1.0 + t) * g::exp(g::neg(t)));
    return with_expr(out, s2 * (1.0 + t + g::square(t) / 3.0) * g::exp(g::neg(t)));
  }

  // A copy of a family's DistInfo whose density is its log cdf or log ccdf, so that a cdf term
  // is one fused graph node like a density (the node reads only lpdf_f64 / lpdf_f32).
  static const dist::DistInfo* cdf_as_density(const dist::DistInfo& d, bool upper) {
    static std::mutex mu;
    static std::map<std::pair<const dist::DistInfo*, bool>, std::unique_ptr<dist::DistInfo>> made;
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = made[{&d, upper}];
    if (!slot) {
      auto c = std::make_unique<dist::DistInfo>(d);
      c->lpdf_f64 = upper ? d.lccdf_f64 : d.lcdf_f64;
      c->lpdf_f32 = upper ? d.lccdf_f32 : d.lcdf_f32;
      c->rng = nullptr;
      if (!c->lpdf_f64 || !c->lpdf_f32) return nullptr;
      slot = std::move(c);
    }
    return slot.get();
  }

  // family_cdf / _lcdf / _lccdf (and the pre-2.33 _cdf_log / _ccdf_log).
  std::optional<Val> cdf_call(const std::string& f, const std::vector<Val>& args, const Expr& e) {
    static const std::pair<const char*, int> kinds[] = {
        {"_cdf_log", 0}, {"_ccdf_log", 1}, {"_lcdf", 0}, {"_lccdf", 1}, {"_cdf", 2}};
    std::string fam;
    int kind = -1;
    for (const auto& [suf, k] : kinds)
      if (ends_with(f, suf)) {
        fam = f.substr(0, f.size() - std::string(suf).size());
        kind = k;
        break;
      }
    if (kind < 0) return std::nullopt;
    const dist::DistInfo* d = dist::find_dist(fam);
    if (!d) fail(e.loc, fmt::format("distribution '{}' is not in exmc's library yet", fam));
    const bool upper = kind == 1;
    const dist::DistInfo* cd = cdf_as_density(*d, upper);
    if (!cd) fail(e.loc, fmt::format("'{}' is not lowered yet (exmc's {} has no cdf)", f, fam));
    if (args.size() != d->arg_names.size())
      fail(e.loc, fmt::format("'{}' takes {} arguments, found {}", f, d->arg_names.size(), args.size()));
    std::vector<g::Expr> xs;
    for (size_t i = 0; i < args.size(); ++i) xs.push_back(ex(args[i], e.args[i].loc));
    const g::Expr lp = g::dist_lpdf(*cd, xs, false);
    Val r;
    r.e = kind == 2 ? g::exp(lp) : lp;
    return r;
  }

  // Folds a scalar function of known scalars (sizes, bounds and conditions need the value).
  std::optional<Val> fold_known(const std::string& f, const std::vector<Val>& args) {
    for (const Val& a : args)
      if (!a.c || !a.scalar()) return std::nullopt;
    auto x = [&](size_t i) { return (*args[i].c)[0]; };
    const bool all_int = std::all_of(args.begin(), args.end(), [](const Val& a) { return a.is_int; });
    if (args.size() == 1) {
      using F = double (*)(double);
      static const std::map<std::string, F> real_fns = {
          {"exp", [](double v) { return std::exp(v); }},     {"log", [](double v) { return std::log(v); }},
          {"sqrt", [](double v) { return std::sqrt(v); }},   {"square", [](double v) { return v * v; }},
          {"log1p", [](double v) { return std::log1p(v); }}, {"expm1", [](double v) { return std::expm1(v); }},
          {"inv", [](double v) { return 1 / v; }},           {"log2", [](double v) { return std::log2(v); }},
          {"log10", [](double v) { return std::log10(v); }}, {"fabs", [](double v) { return std::fabs(v); }},
          {"floor", [](double v) { return std::floor(v); }}, {"ceil", [](double v) { return std::ceil(v); }},
          {"round", [](double v) { return std::round(v); }}, {"trunc", [](double v) { return std::trunc(v); }},
          {"inv_logit", [](double v) { return 1 / (1 + std::exp(-v)); }},
          {"logit", [](double v) { return std::log(v / (1 - v)); }}};
      auto it = real_fns.find(f);
      if (it != real_fns.end()) return scalar_const(it->second(x(0)), false);
      if (f == "abs") return scalar_const(std::fabs(x(0)), all_int);
      if (f == "to_int") return scalar_const(std::trunc(x(0)), true);
      if (f == "int_step") return scalar_const(x(0) > 0 ? 1 : 0, true);
      if (f == "step") return scalar_const(x(0) < 0 ? 0 : 1, false);
      if (f == "is_inf") return scalar_const(std::isinf(x(0)) ? 1 : 0, true);
      if (f == "is_nan") return scalar_const(std::isnan(x(0)) ? 1 : 0, true);
    }
    if (args.size() == 2) {
      if (f == "pow") return scalar_const(std::pow(x(0), x(1)), false);
      if (f == "fmin") return scalar_const(std::fmin(x(0), x(1)), false);
      if (f == "fmax") return scalar_const(std::fmax(x(0), x(1)), false);
      if (f == "min") return scalar_const(std::min(x(0), x(1)), all_int);
      if (f == "max") return scalar_const(std::max(x(0), x(1)), all_int);
      if (f == "fmod") return scalar_const(std::fmod(x(0), x(1)), false);
      if (f == "hypot") return scalar_const(std::hypot(x(0), x(1)), false);
    }
    return std::nullopt;
  }

  std::optional<Val> call_more(const std::string& f, std::vector<Val>& args, const Expr& e) {
    const Loc loc = e.loc;
    auto need = [&](size_t n) {
      if (args.size() != n) fail(loc, fmt::format("'{}' with {} arguments is not lowered yet", f, args.size()));
    };
    if (args.empty()) {
      static const std::map<std::string, double> constants = {
          {"pi", std::numbers::pi},
          {"e", std::numbers::e},
          {"sqrt2", std::numbers::sqrt2},
          {"log2", std::numbers::ln2},
          {"log10", std::numbers::ln10},
          {"not_a_number", std::nan("")},
          {"positive_infinity", HUGE_VAL},
          {"negative_infinity", -HUGE_VAL},
          {"machine_precision", 2.220446049250313e-16}};
      auto it = constants.find(f);
      if (it != constants.end()) return scalar_const(it->second, false);
    }
    if (std::optional<Val> r = fold_known(f, args)) return r;
    if (std::optional<Val> r = cdf_call(f, args, e)) return r;
    if (f == "gp_exp_quad_cov" || f == "cov_exp_quad" || f == "gp_exponential_cov" || f == "gp_matern32_cov" ||
        f == "gp_matern52_cov")
      return gp_cov(f, args, e);
    if (f == "dims") {
      need(1);
      std::vector<double> d;
      for (size_t k : args[0].arr) d.push_back(static_cast<double>(k));
      for (size_t k : args[0].idims) d.push_back(static_cast<double>(k));
      Val meta;
      meta.arr = {d.size()};
      meta.is_int = true;
      return constant(d, meta);
    }
    if (f == "prod") {
      need(1);
      const Val& a = args[0];
      if (a.c) {
        double p = 1;
        for (double v : *a.c) p *= v;
        return scalar_const(p, a.is_int);
      }
      const g::Expr x = flat(a, loc);
      g::Expr p = g::slice(x, 0, 1);
      for (size_t i = 1; i < a.total(); ++i) p = p * g::slice(x, i, 1);
      Val r;
      r.e = g::reshape(p, {});
      return r;
    }
    if ((f == "min" || f == "max") && args.size() == 1 && args[0].c) {
      const auto& v = *args[0].c;
      if (v.empty()) fail(loc, fmt::format("'{}' of no elements", f));
      return scalar_const(f == "min" ? *std::min_element(v.begin(), v.end()) : *std::max_element(v.begin(), v.end()),
                          args[0].is_int);
    }
    if (f == "rep_array") {
      if (args.size() < 2 || args.size() > 4) fail(loc, "'rep_array' takes a value and 1 to 3 sizes");
      const Val& x = args[0];
      Val r = x;
      r.arr.clear();
      size_t reps = 1;
      for (size_t i = 1; i < args.size(); ++i) {
        r.arr.push_back(size_value(e.args[i]));
        reps *= r.arr.back();
      }
      r.arr.insert(r.arr.end(), x.arr.begin(), x.arr.end());
      if (x.c) {
        std::vector<double> vals;
        for (size_t k = 0; k < reps; ++k) vals.insert(vals.end(), x.c->begin(), x.c->end());
        return constant(vals, r);
      }
      std::vector<int> idx(reps * x.total());
      for (size_t t = 0; t < idx.size(); ++t) idx[t] = static_cast<int>(t % x.total());
      r.e = g::reshape(pick(x, idx, loc), r.gshape());
      r.parts.reset();
      return r;
    }
    if (f == "rep_matrix") {
      const Val& x = args[0];
      if (args.size() == 3 && x.scalar()) {
        const size_t m = size_value(e.args[1]), n = size_value(e.args[2]);
        Val r = matrix_meta(m, n);
        if (x.c) return constant(std::vector<double>(m * n, (*x.c)[0]), r);
        return with_expr(r, g::broadcast(ex(x, loc), {m, n}));
      }
      need(2);
      const Val& v = vector_arg(args, 0, f, loc);
      const size_t k = size_value(e.args[1]), len = v.idims[0];
      const bool col = v.inner == Inner::Vector;  // a vector fills columns; a row vector rows
      const size_t m = col ? len : k, n = col ? k : len;
      std::vector<int> idx(m * n);
      for (size_t j = 0; j < n; ++j)
        for (size_t i = 0; i < m; ++i) idx[i + m * j] = static_cast<int>(col ? i : j);
      return with_expr(matrix_meta(m, n), pick(v, idx, loc));
    }
    if (f == "diag_matrix") {
      need(1);
      const Val& v = vector_arg(args, 0, f, loc);
      const size_t n = v.idims[0];
      return with_expr(matrix_meta(n, n), diag_of(v, n, loc));
    }
    if (f == "add_diag") {
      need(2);
      const Val& m = matrix_arg(args, 0, f, loc);
      if (m.idims[0] != m.idims[1]) fail(loc, "'add_diag' expects a square matrix");
      return with_expr(m, ex(m, loc) + diag_of(args[1], m.idims[0], loc));
    }
    if (f == "diagonal") {
      need(1);
      const Val& m = matrix_arg(args, 0, f, loc);
      const size_t n = std::min(m.idims[0], m.idims[1]);
      std::vector<int> idx(n);
      for (size_t i = 0; i < n; ++i) idx[i] = static_cast<int>(i + m.idims[0] * i);
      return with_expr(vector_meta(n), pick(m, idx, loc));
    }
    if (f == "cholesky_decompose") {
      need(1);
      const Val& m = matrix_arg(args, 0, f, loc);
      if (m.idims[0] != m.idims[1]) fail(loc, "'cholesky_decompose' expects a square matrix");
      return with_expr(m, g::cholesky_decompose(ex(m, loc)));
    }
    if (f == "log_determinant") {
      need(1);
      Val r;
      r.e = g::log_determinant(ex(matrix_arg(args, 0, f, loc), loc));
      return r;
    }
    if (f == "mdivide_left_tri_low") {
      need(2);
      const Val& l = matrix_arg(args, 0, f, loc);
      Val r = args[1];
      return with_expr(r, g::mdivide_left_tri_low(ex(l, loc), ex(args[1], loc)));
    }
    if (f == "tcrossprod" || f == "crossprod" || f == "multiply_lower_tri_self_transpose") {
      need(1);
      const Val& m = matrix_arg(args, 0, f, loc);
      g::Expr a = ex(m, loc);
      const size_t r = m.idims[0], c = m.idims[1];
      if (f == "multiply_lower_tri_self_transpose") {  // reads only the lower triangle
        std::vector<double> mask(r * c, 0.0);
        for (size_t j = 0; j < c; ++j)
          for (size_t i = j; i < r; ++i) mask[i + r * j] = 1.0;
        a = a * graph().data(mask, {r, c});
      }
      if (f == "crossprod") return with_expr(matrix_meta(c, c), g::matmul(g::transpose(a), a));
      return with_expr(matrix_meta(r, r), g::matmul(a, g::transpose(a)));
    }
    if (f == "diag_pre_multiply" || f == "diag_post_multiply" || f == "quad_form_diag") {
      need(2);
      const bool pre = f == "diag_pre_multiply";
      const Val& m = matrix_arg(args, pre ? 1 : 0, f, loc);
      const Val& v = vector_arg(args, pre ? 0 : 1, f, loc);
      const size_t r = m.idims[0], c = m.idims[1];
      if (v.idims[0] != (pre ? r : c) || (f == "quad_form_diag" && r != c))
        fail(loc, fmt::format("'{}' of a {} x {} matrix and {} elements", f, r, c, v.idims[0]));
      std::vector<int> by_row(r * c), by_col(r * c);
      for (size_t j = 0; j < c; ++j)
        for (size_t i = 0; i < r; ++i) {
          by_row[i + r * j] = static_cast<int>(i);
          by_col[i + r * j] = static_cast<int>(j);
        }
      const g::Expr me = g::reshape(ex(m, loc), {r * c});
      g::Expr out;
      if (pre) out = pick(v, by_row, loc) * me;
      else if (f == "diag_post_multiply") out = me * pick(v, by_col, loc);
      else out = pick(v, by_row, loc) * me * pick(v, by_col, loc);
      return with_expr(m, out);
    }
    if (f == "to_vector" || f == "to_row_vector") {
      need(1);
      const Val& a = args[0];
      Val r = vector_meta(a.total(), f == "to_vector" ? Inner::Vector : Inner::RowVector);
      if (a.c) return constant(*a.c, r);  // arrays row-major, matrices column-major: as Stan
      return with_expr(r, flat(a, loc));
    }
    if (f == "head" || f == "tail" || f == "segment") {
      need(f == "segment" ? 3 : 2);
      const Val& a = args[0];
      const bool array = !a.arr.empty();
      if (!array && a.inner != Inner::Vector && a.inner != Inner::RowVector)
        fail(loc, fmt::format("'{}' expects a vector or an array", f));
      const size_t len = array ? a.arr[0] : a.idims[0];
      const size_t unit = array ? a.total() / std::max<size_t>(len, 1) : 1;
      const long n = known_int(e.args.back(), "a length");
      long start = 1;  // 1-based
      if (f == "tail") start = static_cast<long>(len) - n + 1;
      if (f == "segment") start = known_int(e.args[1], "a start");
      if (n < 0 || start < 1 || start + n - 1 > static_cast<long>(len))
        fail(loc, fmt::format("'{}' of elements {}..{} out of {}", f, start, start + n - 1, len));
      Val r = a;
      if (array) r.arr[0] = static_cast<size_t>(n);
      else r.idims[0] = static_cast<size_t>(n);
      const size_t off = static_cast<size_t>(start - 1) * unit, cnt = static_cast<size_t>(n) * unit;
      if (a.c) return constant(std::vector<double>(a.c->begin() + static_cast<long>(off), a.c->begin() + static_cast<long>(off + cnt)), r);
      r.e = g::reshape(g::slice(flat(a, loc), off, cnt), r.gshape());
      r.c.reset();
      r.parts.reset();
      return r;
    }
    if (f == "append_row" || f == "append_col") {
      need(2);
      const Inner kind = f == "append_row" ? Inner::Vector : Inner::RowVector;
      for (const Val& a : args)
        if (!a.arr.empty() || (a.inner != kind && a.inner != Inner::Scalar))
          fail(loc, fmt::format("'{}' is lowered for {}s and scalars only yet", f,
                                kind == Inner::Vector ? "vector" : "row vector"));
      Val r = vector_meta(args[0].total() + args[1].total(), kind);
      return with_expr(r, g::concat({flat(args[0], loc), flat(args[1], loc)}));
    }
    if (f == "softmax" || f == "log_softmax") {
      need(1);
      const Val& v = vector_arg(args, 0, f, loc);
      const g::Expr x = ex(v, loc);
      const g::Expr ls = x - g::log_sum_exp(x);
      return with_expr(v, f == "softmax" ? g::exp(ls) : ls);
    }
    if (f == "cumulative_sum") {
      need(1);
      if (args[0].arr.size() > 1 || args[0].inner == Inner::Matrix) fail(loc, "'cumulative_sum' of a matrix");
      return with_expr(args[0], g::cumulative_sum(ex(args[0], loc)));
    }
    if (f == "squared_distance" || f == "distance") {
      need(2);
      Val r;
      const g::Expr d = g::dot_self(flat(args[0], loc) - flat(args[1], loc));
      r.e = f == "distance" ? g::sqrt(d) : d;
      return r;
    }
    if (f == "norm2" || f == "norm1") {
      need(1);
      Val r;
      r.e = f == "norm2" ? g::sqrt(g::dot_self(ex(args[0], loc))) : g::sum(g::abs(ex(args[0], loc)));
      return r;
    }
    if (f == "log_sum_exp" && args.size() == 2 && args[0].scalar() && args[1].scalar()) {
      Val r;
      r.e = g::log_sum_exp(g::concat({flat(args[0], loc), flat(args[1], loc)}));
      return r;
    }
    if (f == "fma") {
      need(3);
      Val r = args[0].scalar() ? (args[1].scalar() ? args[2] : args[1]) : args[0];
      return with_expr(r, ex(args[0], loc) * ex(args[1], loc) + ex(args[2], loc));
    }
    // Elementwise functions composed from graph ops.
    if (args.size() == 1 && (f == "inv_cloglog" || f == "log1m_exp" || f == "Phi_approx" || f == "cbrt")) {
      const g::Expr x = ex(args[0], loc);
      g::Expr y;
      if (f == "inv_cloglog") y = 1.0 - g::exp(g::neg(g::exp(x)));
      else if (f == "log1m_exp") y = g::log(g::neg(g::expm1(x)));
      else if (f == "Phi_approx") y = g::inv_logit(0.07056 * g::pow(x, 3.0) + 1.5976 * x);
      else if (f == "cbrt") y = g::pow(x, 1.0 / 3.0);
      if (y.valid()) return with_expr(args[0], y);
    }
    if (args.size() == 2 && (f == "log_diff_exp" || f == "lbeta" || f == "lmultiply" || f == "multiply_log")) {
      const g::Expr a = ex(args[0], loc), b = ex(args[1], loc);
      Val r = args[0].scalar() ? args[1] : args[0];
      if (f == "log_diff_exp") return with_expr(r, a + g::log(g::neg(g::expm1(b - a))));
      if (f == "lbeta") return with_expr(r, g::lgamma(a) + g::lgamma(b) - g::lgamma(a + b));
      return with_expr(r, a * g::log(b));
    }
    return std::nullopt;
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
    static const std::set<std::string> higher_order = {
        "integrate_ode_rk45", "integrate_ode_bdf", "integrate_ode_adams", "ode_rk45", "ode_rk45_tol",
        "ode_bdf", "ode_bdf_tol", "ode_adams", "ode_adams_tol", "ode_ckrk", "ode_ckrk_tol",
        "algebra_solver", "algebra_solver_newton", "solve_newton", "solve_powell", "integrate_1d",
        "map_rect", "reduce_sum", "reduce_sum_static"};
    if (higher_order.count(f))
      fail(e.loc, fmt::format("'{}' is not lowered yet (ODE solvers, algebraic solvers and other "
                              "built-ins that take a function are not supported)",
                              f));
    std::vector<Val> args;
    for (const auto& a : e.args) args.push_back(expr(a));
    if (const FunDef* uf = user_function(f))
      return call_user(*uf, std::move(args), e.loc, ends_with(f, "_lupdf") || ends_with(f, "_lupmf"));
    const std::string fam = family_of(f);
    try {
      if (std::optional<Val> r = call_more(f, args, e)) return std::move(*r);
      if (!fam.empty()) {
        const dist::DistInfo* d = dist::find_dist(fam);
        if (!d) fail(e.loc, fmt::format("distribution '{}' is not in exmc's library yet", fam));
        std::vector<g::Expr> xs;
        for (size_t i = 0; i < args.size(); ++i) xs.push_back(ex(args[i], e.args[i].loc));
        // _lupdf drops constants like '~'; _lpdf keeps the full density.
        const bool propto = f.find("_lup") != std::string::npos && propto_ctx_;
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
  // A deque: references to a scope's variables stay valid while inlined calls push scopes.
  std::deque<Scope> scopes_;
  // Lookups stop at this scope: an inlined function body sees only its arguments and locals.
  size_t floor_ = 0;
  Flow flow_ = Flow::Normal;
  struct Frame {
    const FunDef* fun;
    std::optional<Val> ret;
  };
  std::vector<Frame> frames_;  // the user functions being inlined, outermost first
  // Whether a '_lupdf' call drops constants here: false inside a user _lpdf called as _lpdf.
  bool propto_ctx_ = true;
};

}  // namespace

std::unique_ptr<model::Model> lower_to_model(const Program& program, const DataEnv& data,
                                             LowerOptions options) {
  return Lowerer(program, data, options).run();
}

}  // namespace exmc::stan
