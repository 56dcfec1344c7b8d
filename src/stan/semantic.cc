// Semantic checker: scopes, block rules, obvious type errors and name resolution.
#include "exmc/stan/semantic.hpp"

#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "builtins.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/lexer.hpp"
#include "exmc/stan/parser.hpp"

namespace exmc::stan {

std::string type_string(const ExprType& t) {
  const char* b = "unknown";
  switch (t.base) {
    case ExprType::Unknown: b = "unknown"; break;
    case ExprType::Int: b = "int"; break;
    case ExprType::Real: b = "real"; break;
    case ExprType::Complex: b = "complex"; break;
    case ExprType::Vector: b = "vector"; break;
    case ExprType::RowVector: b = "row_vector"; break;
    case ExprType::Matrix: b = "matrix"; break;
    case ExprType::Void: b = "void"; break;
  }
  if (t.array_dims == 0) return b;
  return fmt::format("array[{}] {}", std::string(static_cast<size_t>(t.array_dims - 1), ','), b);
}

bool is_builtin_function(const std::string& name) {
  detail::Ret r;
  return detail::builtin_return(name, &r);
}
bool is_builtin_distribution(const std::string& family) { return detail::builtin_family(family); }

namespace {

using T = ExprType;

T::Base base_of(BaseType b) {
  switch (b) {
    case BaseType::Int: return T::Int;
    case BaseType::Real: return T::Real;
    case BaseType::Complex: return T::Complex;
    case BaseType::Vector:
    case BaseType::Simplex:
    case BaseType::Ordered:
    case BaseType::PositiveOrdered:
    case BaseType::UnitVector:
    case BaseType::SumToZeroVector: return T::Vector;
    case BaseType::RowVector: return T::RowVector;
    case BaseType::Matrix:
    case BaseType::CholeskyFactorCorr:
    case BaseType::CholeskyFactorCov:
    case BaseType::CorrMatrix:
    case BaseType::CovMatrix: return T::Matrix;
    default: return T::Unknown;  // complex containers: not modelled
  }
}

T of_sized(const SizedType& s) { return {base_of(s.base), static_cast<int>(s.array_dims.size())}; }
T of_unsized(const UnsizedType& u) {
  if (u.is_void) return {T::Void, 0};
  return {base_of(u.base), u.array_dims};
}

bool known(const T& t) { return t.base != T::Unknown; }
bool scalar(const T& t) { return t.array_dims == 0 && (t.base == T::Int || t.base == T::Real); }
bool is_int(const T& t) { return t.array_dims == 0 && t.base == T::Int; }

// Can a value of type `from` be stored in a variable of type `to`?
bool assignable(const T& to, const T& from) {
  if (!known(to) || !known(from)) return true;
  if (to.array_dims != from.array_dims) return false;
  if (to.base == from.base) return true;
  if (to.base == T::Real && from.base == T::Int) return true;
  if (to.base == T::Complex && (from.base == T::Int || from.base == T::Real)) return true;
  return false;
}

enum class Origin { Global, Local, LoopVar, FunArg };

struct VarInfo {
  T type;
  Origin origin = Origin::Local;
  int block = -1;  // declaring block, for globals
  Loc loc;
};

struct FunInfo {
  T ret;
  std::vector<T> args;
  bool defined = false;
  Loc loc;
};

bool ends_with(const std::string& s, const char* suf) {
  const std::string x(suf);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

class Checker {
 public:
  explicit Checker(const Program& p) : p_(p) {}

  void run() {
    scopes_.emplace_back();
    // Functions first, so that they may call each other in any order.
    for (const auto& f : p_.functions) declare_function(f);
    for (const auto& f : p_.functions)
      if (!f.is_forward_decl()) check_function(f);
    for (const auto& [name, fi] : funs_)
      if (!fi.defined)
        fail(fi.loc, fmt::format("function '{}' is declared but never defined", name));
    for (int b = 1; b < kNumBlocks; ++b) {
      const Block& blk = p_.blocks[b];
      if (!blk.present) continue;
      block_ = b;
      // Model-block variables are local to it; the other blocks' top-level ones are global.
      const bool global = b != static_cast<int>(BlockKind::Model);
      if (!global) scopes_.emplace_back();
      for (const auto& s : blk.stmts) {
        if (s.kind == StmtKind::Decl)
          declaration(s.decl[0], global ? Origin::Global : Origin::Local, true);
        else
          stmt(s);
      }
      if (!global) scopes_.pop_back();
    }
  }

 private:
  [[noreturn]] void fail(Loc loc, const std::string& msg) const {
    throw SemanticError(p_.file, loc.line, loc.col, msg, source_line(p_.source, loc.line));
  }

  const VarInfo* lookup(const std::string& n) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(n);
      if (f != it->end()) return &f->second;
    }
    return nullptr;
  }

  void declare_var(const std::string& name, Loc loc, VarInfo info) {
    if (const VarInfo* prev = lookup(name))
      fail(loc, fmt::format("'{}' is already declared (at line {}, column {})", name,
                            prev->loc.line, prev->loc.col));
    if (funs_.count(name))
      fail(loc, fmt::format("'{}' is already the name of a function", name));
    info.loc = loc;
    scopes_.back()[name] = info;
  }

  // ---- functions ----
  void declare_function(const FunDef& f) {
    FunInfo fi;
    fi.ret = of_unsized(f.return_type);
    for (const auto& a : f.args) fi.args.push_back(of_unsized(a.type));
    fi.loc = f.loc;
    auto it = funs_.find(f.name);
    if (it != funs_.end()) {
      if (it->second.args.size() != fi.args.size() || !(it->second.ret == fi.ret))
        fail(f.loc, fmt::format("function '{}' does not match its earlier declaration at line {}",
                                f.name, it->second.loc.line));
      if (it->second.defined && !f.is_forward_decl())
        fail(f.loc, fmt::format("function '{}' is already defined at line {}", f.name,
                                it->second.loc.line));
      if (!f.is_forward_decl()) it->second.defined = true;
      return;
    }
    fi.defined = !f.is_forward_decl();
    funs_[f.name] = fi;
  }

  void check_function(const FunDef& f) {
    fun_ = &f;
    scopes_.emplace_back();
    for (const auto& a : f.args) {
      VarInfo vi;
      vi.type = of_unsized(a.type);
      vi.origin = Origin::FunArg;
      declare_var(a.name, a.loc, vi);
    }
    for (const auto& s : f.body[0].body) stmt(s);
    scopes_.pop_back();
    if (!f.return_type.is_void && !always_returns(f.body[0]))
      fail(f.loc, fmt::format("function '{}' may reach its end without returning a value (every "
                              "path of a non-void function must end in 'return' or 'reject')",
                              f.name));
    fun_ = nullptr;
  }

  // Conservative: loops may run zero times, so only return/reject/fatal_error, blocks ending in
  // one, and if/else with both branches returning count.
  static bool always_returns(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Return:
      case StmtKind::Reject:
      case StmtKind::FatalError: return true;
      case StmtKind::Block:
      case StmtKind::Profile:
        for (const auto& c : s.body)
          if (always_returns(c)) return true;
        return false;
      case StmtKind::If:
        return s.body.size() == 2 && always_returns(s.body[0]) && always_returns(s.body[1]);
      default: return false;
    }
  }

  bool in_lp_context() const {
    if (fun_) return ends_with(fun_->name, "_lp");
    return block_ == static_cast<int>(BlockKind::Model);
  }
  bool in_rng_context() const {
    if (fun_) return ends_with(fun_->name, "_rng");
    return block_ == static_cast<int>(BlockKind::TransformedData) ||
           block_ == static_cast<int>(BlockKind::GeneratedQuantities);
  }

  // ---- declarations ----
  void size_expr(const Expr& e, const char* what) {
    const T t = expr(e);
    if (known(t) && !is_int(t))
      fail(e.loc, fmt::format("{} must be int, found {}", what, type_string(t)));
  }

  void declaration(const VarDecl& d, Origin origin, bool top_level) {
    for (const auto& e : d.type.array_dims) size_expr(e, "array size");
    for (const auto& e : d.type.dims) size_expr(e, "size");
    for (const auto* c : {&d.type.lower, &d.type.upper, &d.type.offset, &d.type.multiplier})
      if (*c) expr(**c);
    const bool constrained = d.type.lower || d.type.upper || d.type.offset || d.type.multiplier;
    const bool structured = d.type.base >= BaseType::Simplex;
    if ((constrained || structured) && (origin != Origin::Global || !top_level))
      fail(d.loc, fmt::format("local variable '{}' cannot have a constraint or a constrained "
                              "type ({}); only block-level declarations can",
                              d.name, print_base(d.type)));
    if (block_ == static_cast<int>(BlockKind::Parameters) && d.type.base == BaseType::Int)
      fail(d.loc, fmt::format("parameter '{}' cannot be an int (parameters are real-valued)",
                              d.name));
    const T t = of_sized(d.type);
    if (d.init) {
      if (block_ == static_cast<int>(BlockKind::Data) ||
          block_ == static_cast<int>(BlockKind::Parameters))
        fail(d.init->loc, fmt::format("'{}' cannot be given a value in the '{}' block", d.name,
                                      block_name(static_cast<BlockKind>(block_))));
      const T it = expr(*d.init);
      if (!assignable(t, it))
        fail(d.init->loc, fmt::format("cannot initialise '{}' (declared {}) with a value of type {}",
                                      d.name, type_string(t), type_string(it)));
    }
    VarInfo vi;
    vi.type = t;
    vi.origin = origin;
    vi.block = block_;
    declare_var(d.name, d.name_loc, vi);
  }

  static std::string print_base(const SizedType& t) { return base_type_name(t.base); }

  // ---- statements ----
  void body(const Stmt& s) {
    scopes_.emplace_back();
    if (s.kind == StmtKind::Block) {
      for (const auto& c : s.body) stmt(c);
    } else {
      stmt(s);
    }
    scopes_.pop_back();
  }

  void condition(const Expr& e, const char* what) {
    const T t = expr(e);
    if (known(t) && !scalar(t))
      fail(e.loc, fmt::format("{} must be int or real, found {}", what, type_string(t)));
  }

  void stmt(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Decl: declaration(s.decl[0], Origin::Local, false); return;
      case StmtKind::Assign: assign(s); return;
      case StmtKind::Tilde: tilde(s); return;
      case StmtKind::TargetPlus:
        if (!in_lp_context())
          fail(s.loc, "'target +=' is only allowed in the model block and in functions ending "
                      "in _lp");
        expr(s.exprs[0]);
        return;
      case StmtKind::JacobianPlus:
        if (!(fun_ ? ends_with(fun_->name, "_jacobian")
                   : block_ == static_cast<int>(BlockKind::TransformedParameters)))
          fail(s.loc, "'jacobian +=' is only allowed in the transformed parameters block and in "
                      "functions ending in _jacobian");
        expr(s.exprs[0]);
        return;
      case StmtKind::For: {
        for (int i = 0; i < 2; ++i) {
          const T t = expr(s.exprs[static_cast<size_t>(i)]);
          if (known(t) && !is_int(t))
            fail(s.exprs[static_cast<size_t>(i)].loc,
                 fmt::format("for-loop bounds must be int, found {}", type_string(t)));
        }
        loop(s, {T::Int, 0});
        return;
      }
      case StmtKind::Foreach: {
        T t = expr(s.exprs[0]);
        T elem{T::Unknown, 0};
        if (t.array_dims > 0) {
          elem = {t.base, t.array_dims - 1};
        } else if (t.base == T::Vector || t.base == T::RowVector || t.base == T::Matrix) {
          elem = {T::Real, 0};
        } else if (known(t)) {
          fail(s.exprs[0].loc, fmt::format("foreach loops run over arrays, vectors and matrices, "
                                           "found {}", type_string(t)));
        }
        loop(s, elem);
        return;
      }
      case StmtKind::While:
        condition(s.exprs[0], "the 'while' condition");
        ++loop_depth_;
        body(s.body[0]);
        --loop_depth_;
        return;
      case StmtKind::If:
        condition(s.exprs[0], "the 'if' condition");
        for (const auto& b : s.body) body(b);
        return;
      case StmtKind::Block: body(s); return;
      case StmtKind::Profile:
        scopes_.emplace_back();
        for (const auto& c : s.body) stmt(c);
        scopes_.pop_back();
        return;
      case StmtKind::Break:
      case StmtKind::Continue:
        if (loop_depth_ == 0)
          fail(s.loc, fmt::format("'{}' is only allowed inside a loop",
                                  s.kind == StmtKind::Break ? "break" : "continue"));
        return;
      case StmtKind::Return: {
        if (!fun_) fail(s.loc, "'return' is only allowed inside a function");
        const T want = of_unsized(fun_->return_type);
        if (s.exprs.empty()) {
          if (want.base != T::Void)
            fail(s.loc, fmt::format("function '{}' must return a value of type {}", fun_->name,
                                    type_string(want)));
          return;
        }
        if (want.base == T::Void)
          fail(s.exprs[0].loc, fmt::format("void function '{}' cannot return a value", fun_->name));
        const T got = expr(s.exprs[0]);
        if (!assignable(want, got))
          fail(s.exprs[0].loc, fmt::format("function '{}' returns {}, found {}", fun_->name,
                                           type_string(want), type_string(got)));
        return;
      }
      case StmtKind::Print:
      case StmtKind::Reject:
      case StmtKind::FatalError:
        for (const auto& e : s.exprs)
          if (e.kind != ExprKind::StringLit) expr(e);
        return;
      case StmtKind::CallStmt: {
        const Expr& c = s.exprs[0];
        const T t = expr(c);
        if (known(t) && t.base != T::Void)
          fail(c.loc, fmt::format("the value of '{}' (a {}) is not used; only void functions can "
                                  "be called as statements",
                                  c.text, type_string(t)));
        return;
      }
      case StmtKind::Empty: return;
    }
  }

  void loop(const Stmt& s, T var_type) {
    scopes_.emplace_back();
    VarInfo vi;
    vi.type = var_type;
    vi.origin = Origin::LoopVar;
    declare_var(s.name, s.loc, vi);
    ++loop_depth_;
    body(s.body[0]);
    --loop_depth_;
    scopes_.pop_back();
  }

  static const Expr& root_var(const Expr& e) {
    return e.kind == ExprKind::Index ? root_var(e.args[0]) : e;
  }

  void assign(const Stmt& s) {
    const Expr& lhs = s.exprs[0];
    const Expr& var = root_var(lhs);
    const VarInfo* vi = lookup(var.text);
    if (!vi) fail(var.loc, fmt::format("undeclared identifier '{}'", var.text));
    switch (vi->origin) {
      case Origin::LoopVar:
        fail(var.loc, fmt::format("cannot assign to loop variable '{}'", var.text));
      case Origin::FunArg:
        fail(var.loc, fmt::format("cannot assign to function argument '{}'", var.text));
      case Origin::Global:
        if (fun_ || vi->block != block_)
          fail(var.loc,
               fmt::format("cannot assign to '{}' in the '{}' block: it is declared in the '{}' "
                           "block, and variables can only be assigned in the block that declares "
                           "them",
                           var.text, fun_ ? "functions" : block_name(static_cast<BlockKind>(block_)),
                           block_name(static_cast<BlockKind>(vi->block))));
        break;
      case Origin::Local: break;
    }
    const T lt = expr(lhs);
    const T rt = expr(s.exprs[1]);
    if (s.op == "=") {
      if (!assignable(lt, rt))
        fail(s.exprs[1].loc, fmt::format("cannot assign a value of type {} to '{}' of type {}",
                                         type_string(rt), print_lhs(lhs), type_string(lt)));
    } else if (known(lt) && lt.base == T::Int && known(rt) && rt.base != T::Int) {
      fail(s.exprs[1].loc, fmt::format("cannot apply '{}' with a {} to int '{}'", s.op,
                                       type_string(rt), print_lhs(lhs)));
    }
  }

  static std::string print_lhs(const Expr& e) { return root_var(e).text + (e.kind == ExprKind::Index ? "[...]" : ""); }

  void tilde(const Stmt& s) {
    if (!in_lp_context())
      fail(s.loc, "'~' statements are only allowed in the model block and in functions ending in "
                  "_lp");
    for (const auto& e : s.exprs) expr(e);
    if (s.trunc_lo) expr(*s.trunc_lo);
    if (s.trunc_hi) expr(*s.trunc_hi);
    const std::string& d = s.name;
    for (const char* suf : {"_lpdf", "_lpmf", "_log"}) {
      auto it = funs_.find(d + suf);
      if (it != funs_.end()) {
        if (it->second.args.size() != s.exprs.size())
          fail(s.loc, fmt::format("distribution '{}' takes {} arguments after the variate, found {}",
                                  d, it->second.args.size() - 1, s.exprs.size() - 1));
        return;
      }
    }
    if (is_builtin_distribution(d)) return;
    std::string msg = fmt::format("unknown distribution '{}' after '~'", d);
    if (ends_with(d, "_lpdf") || ends_with(d, "_lpmf"))
      msg += fmt::format(" (write the family name without the suffix: '~ {}(...)')",
                         d.substr(0, d.size() - 5));
    const Stmt& st = s;
    // Point at the distribution name: it follows the '~' on the statement's line.
    Loc at = st.loc;
    const std::string line = source_line(p_.source, st.loc.line);
    const auto tpos = line.find('~', static_cast<size_t>(std::max(0, st.loc.col - 1)));
    if (tpos != std::string::npos) {
      const auto npos = line.find(d, tpos);
      if (npos != std::string::npos) at.col = static_cast<int>(npos) + 1;
    }
    fail(at, msg);
  }

  // ---- expressions ----
  // Indexes apply to the array dimensions first, then to the vector or matrix inside.
  T index(const Expr& e) {
    const T base = expr(e.args[0]);
    T t = base;
    int consumed = 0, kept = 0, inner = 0;
    bool row_dropped = false;
    for (const auto& ix : e.indices) {
      bool drops = ix.kind == IndexItem::Single;
      for (const auto& b : ix.bounds) {
        const T bt = expr(b);
        if (!known(bt)) continue;
        const bool int_scalar = is_int(bt);
        const bool int_array = bt.base == T::Int && bt.array_dims == 1;
        if (ix.kind == IndexItem::Single) {
          if (!int_scalar && !int_array)
            fail(b.loc, fmt::format("index must be int or array of int, found {}", type_string(bt)));
          drops = int_scalar;
        } else if (!int_scalar) {
          fail(b.loc, fmt::format("range bound must be int, found {}", type_string(bt)));
        }
      }
      if (!known(base)) continue;
      if (consumed < base.array_dims) {
        ++consumed;
        if (!drops) ++kept;
        continue;
      }
      if (base.base == T::Matrix && inner == 0) {
        inner = 1;
        row_dropped = drops;
        t.base = drops ? T::RowVector : T::Matrix;
        continue;
      }
      if (base.base == T::Matrix && inner == 1) {
        inner = 2;
        if (row_dropped)
          t.base = drops ? T::Real : T::RowVector;
        else
          t.base = drops ? T::Vector : T::Matrix;
        continue;
      }
      if ((base.base == T::Vector || base.base == T::RowVector) && inner == 0) {
        inner = 2;
        if (drops) t.base = T::Real;
        continue;
      }
      too_many(e);
    }
    if (!known(base)) return base;
    t.array_dims = kept + (base.array_dims - consumed);
    return t;
  }

  [[noreturn]] void too_many(const Expr& e) {
    const Expr& v = root_var(e);
    const VarInfo* vi = v.kind == ExprKind::Var ? lookup(v.text) : nullptr;
    fail(e.loc, fmt::format("too many indexes for '{}'{}", print_lhs(e.args[0]),
                            vi ? " (declared " + type_string(vi->type) + ")" : ""));
  }

  T call(const Expr& e) {
    std::vector<T> args;
    for (const auto& a : e.args) args.push_back(expr(a));
    auto uf = funs_.find(e.text);
    if (ends_with(e.text, "_rng") && !in_rng_context())
      fail(e.loc, fmt::format("random number generator '{}' is only allowed in transformed data, "
                              "generated quantities and functions ending in _rng",
                              e.text));
    if ((ends_with(e.text, "_lp")) && !in_lp_context() &&
        !(block_ == static_cast<int>(BlockKind::TransformedParameters) && !fun_))
      fail(e.loc, fmt::format("'{}' (a _lp function) can only be called in the model and "
                              "transformed parameters blocks",
                              e.text));
    if (uf != funs_.end()) {
      if (uf->second.args.size() != args.size())
        fail(e.loc, fmt::format("function '{}' takes {} argument{}, found {}", e.text,
                                uf->second.args.size(), uf->second.args.size() == 1 ? "" : "s",
                                args.size()));
      for (size_t i = 0; i < args.size(); ++i)
        if (!assignable(uf->second.args[i], args[i]))
          fail(e.args[i].loc, fmt::format("argument {} of '{}' must be {}, found {}", i + 1, e.text,
                                          type_string(uf->second.args[i]), type_string(args[i])));
      return uf->second.ret;
    }
    detail::Ret r;
    if (!detail::builtin_return(e.text, &r)) {
      if (lookup(e.text))
        fail(e.loc, fmt::format("'{}' is a variable, not a function", e.text));
      fail(e.loc, fmt::format("unknown function '{}'", e.text));
    }
    switch (r) {
      case detail::Ret::Elementwise: {
        if (args.empty()) return {T::Real, 0};
        T t = args[0];
        if (t.base == T::Int) t.base = T::Real;
        return t;
      }
      case detail::Ret::Real: return {T::Real, 0};
      case detail::Ret::Int: return {T::Int, 0};
      case detail::Ret::Vector: return {T::Vector, 0};
      case detail::Ret::RowVector: return {T::RowVector, 0};
      case detail::Ret::Matrix: return {T::Matrix, 0};
      case detail::Ret::Other: return {T::Unknown, 0};
    }
    return {T::Unknown, 0};
  }

  T binary(const Expr& e) {
    const T a = expr(e.args[0]);
    const T b = expr(e.args[1]);
    const std::string& op = e.text;
    if (!known(a) || !known(b)) return {T::Unknown, 0};
    const bool logic = op == "||" || op == "&&" || op == "==" || op == "!=" || op == "<" ||
                       op == "<=" || op == ">" || op == ">=";
    if (logic) {
      if (scalar(a) && scalar(b)) return {T::Int, 0};
      if (op == "||" || op == "&&" || op == "<" || op == "<=" || op == ">" || op == ">=")
        fail(e.loc, fmt::format("operator '{}' needs int or real operands, found {} and {}", op,
                                type_string(a), type_string(b)));
      return {T::Unknown, 0};
    }
    if (a.array_dims > 0 || b.array_dims > 0)
      fail(e.loc, fmt::format("operator '{}' is not defined for arrays (found {} and {}); use "
                              "vectors or a loop",
                              op, type_string(a), type_string(b)));
    if (scalar(a) && scalar(b)) {
      if (op == "%" || op == "%/%") {
        if (a.base != T::Int || b.base != T::Int)
          fail(e.loc, fmt::format("operator '{}' needs int operands, found {} and {}", op,
                                  type_string(a), type_string(b)));
        return {T::Int, 0};
      }
      if (op == "^" || op == ".^") return {T::Real, 0};
      return {a.base == T::Int && b.base == T::Int ? T::Int : T::Real, 0};
    }
    if (a.base == T::Complex || b.base == T::Complex) return {T::Unknown, 0};
    if (scalar(a)) return {b.base, 0};
    if (scalar(b)) {
      if (op == "\\") return {T::Unknown, 0};
      return {a.base, 0};
    }
    // Two containers.
    if (op == "+" || op == "-" || op == ".*" || op == "./" || op == ".^") {
      if (a.base != b.base)
        fail(e.loc, fmt::format("operator '{}' needs operands of the same shape, found {} and {}",
                                op, type_string(a), type_string(b)));
      return a;
    }
    if (op == "*") {
      if (a.base == T::RowVector && b.base == T::Vector) return {T::Real, 0};
      if (a.base == T::Vector && b.base == T::RowVector) return {T::Matrix, 0};
      if (a.base == T::Matrix && b.base == T::Vector) return {T::Vector, 0};
      if (a.base == T::RowVector && b.base == T::Matrix) return {T::RowVector, 0};
      if (a.base == T::Matrix && b.base == T::Matrix) return {T::Matrix, 0};
      fail(e.loc, fmt::format("cannot multiply {} by {} (matrix product shapes do not fit; "
                              "'.*' multiplies elementwise)",
                              type_string(a), type_string(b)));
    }
    return {T::Unknown, 0};
  }

  T expr(const Expr& e) {
    switch (e.kind) {
      case ExprKind::IntLit: return {T::Int, 0};
      case ExprKind::RealLit: return {T::Real, 0};
      case ExprKind::ImagLit: return {T::Complex, 0};
      case ExprKind::StringLit: return {T::Unknown, 0};
      case ExprKind::Var: {
        const VarInfo* vi = lookup(e.text);
        if (!vi) {
          // User functions are passed by name to higher-order built-ins (ODE solvers, ...).
          if (funs_.count(e.text)) return {T::Unknown, 0};
          if (is_builtin_function(e.text))
            fail(e.loc, fmt::format("'{}' is a function; expected a variable (call it with "
                                    "'{}(...)')",
                                    e.text, e.text));
          fail(e.loc, fmt::format("undeclared identifier '{}'", e.text));
        }
        return vi->type;
      }
      case ExprKind::Unary: {
        const T t = expr(e.args[0]);
        if (e.text == "!") {
          if (known(t) && !scalar(t))
            fail(e.loc, fmt::format("operator '!' needs an int or real, found {}", type_string(t)));
          return {T::Int, 0};
        }
        return t;
      }
      case ExprKind::Binary: return binary(e);
      case ExprKind::Ternary: {
        condition(e.args[0], "the condition of '?:'");
        const T a = expr(e.args[1]);
        const T b = expr(e.args[2]);
        if (known(a) && known(b) && !assignable(a, b) && !assignable(b, a))
          fail(e.loc, fmt::format("the branches of '?:' have different types ({} and {})",
                                  type_string(a), type_string(b)));
        if (a.base == T::Int && b.base == T::Real) return b;
        return a;
      }
      case ExprKind::Transpose: {
        T t = expr(e.args[0]);
        if (t.array_dims > 0) fail(e.loc, "arrays cannot be transposed");
        if (t.base == T::Vector) return {T::RowVector, 0};
        if (t.base == T::RowVector) return {T::Vector, 0};
        return t;
      }
      case ExprKind::Call:
      case ExprKind::CondCall: return call(e);
      case ExprKind::Index: return index(e);
      case ExprKind::ArrayExpr: {
        T t{T::Unknown, 0};
        for (const auto& a : e.args) {
          const T at = expr(a);
          if (!known(t) || (t.base == T::Int && at.base == T::Real)) t = at;
        }
        if (!known(t)) return t;
        return {t.base, t.array_dims + 1};
      }
      case ExprKind::RowVectorExpr: {
        bool rows = false;
        for (const auto& a : e.args) {
          const T at = expr(a);
          if (at.base == T::RowVector) rows = true;
        }
        return {rows ? T::Matrix : T::RowVector, 0};
      }
      case ExprKind::Paren: return expr(e.args[0]);
    }
    return {T::Unknown, 0};
  }

  const Program& p_;
  std::vector<std::map<std::string, VarInfo>> scopes_;
  std::map<std::string, FunInfo> funs_;
  const FunDef* fun_ = nullptr;
  int block_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

void check(const Program& program) { Checker(program).run(); }

Program parse_and_check(const std::string& source, const std::string& file) {
  Program p = parse(source, file);
  check(p);
  return p;
}

}  // namespace exmc::stan
