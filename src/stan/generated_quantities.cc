// Generated quantities: a tree-walking interpreter over the Stan AST on doubles (ints are
// doubles with an int flag), run once per draw on the constrained parameter values.
#include "exmc/stan/generated_quantities.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "exmc/core/math.hpp"
#include "exmc/dist/kernel.hpp"
#include "exmc/stan/error.hpp"
#include "exmc/stan/lexer.hpp"
#include "exmc/stan/printer.hpp"
#include "exmc/stan/semantic.hpp"

namespace exmc::stan {
namespace detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Stan's value of an int that was declared and never assigned.
constexpr double kIntUnset = static_cast<double>(INT_MIN);

enum class Inner : uint8_t { Scalar, Vector, RowVector, Matrix };

// A value: array dimensions (row-major, outermost first) of elements that are scalars,
// vectors, row vectors or column-major matrices; the same layout the lowering uses.
struct Value {
  Inner inner = Inner::Scalar;
  bool is_int = false;
  bool is_void = false;
  std::vector<size_t> arr;
  size_t rows = 1, cols = 1;  // of one element: vector n x 1, row vector 1 x n, scalar 1 x 1
  double s = 0;               // the value of a scalar (no heap allocation for scalars)
  std::vector<double> v;      // the values of anything else

  bool is_scalar() const { return arr.empty() && inner == Inner::Scalar; }
  size_t inner_size() const { return rows * cols; }
  size_t size() const {
    size_t n = inner_size();
    for (size_t d : arr) n *= d;
    return n;
  }
  double* data() { return is_scalar() ? &s : v.data(); }
  const double* data() const { return is_scalar() ? &s : v.data(); }
  double& operator[](size_t i) { return data()[i]; }
  double operator[](size_t i) const { return data()[i]; }
  // Vector length or the single dimension of a row vector.
  size_t length() const { return inner == Inner::RowVector ? cols : rows; }
  std::vector<size_t> full_dims() const {
    std::vector<size_t> d = arr;
    if (inner == Inner::Vector) d.push_back(rows);
    if (inner == Inner::RowVector) d.push_back(cols);
    if (inner == Inner::Matrix) {
      d.push_back(rows);
      d.push_back(cols);
    }
    return d;
  }
};

Value scalar(double x, bool is_int = false) {
  Value r;
  r.s = x;
  r.is_int = is_int;
  return r;
}

// A value of the given shape, every element `fill`.
Value make(Inner inner, std::vector<size_t> arr, size_t rows, size_t cols, bool is_int, double fill = 0) {
  Value r;
  r.inner = inner;
  r.arr = std::move(arr);
  r.rows = inner == Inner::Scalar || inner == Inner::RowVector ? 1 : rows;
  r.cols = inner == Inner::Scalar || inner == Inner::Vector ? 1 : cols;
  r.is_int = is_int;
  if (r.is_scalar()) r.s = fill;
  else r.v.assign(r.size(), fill);
  return r;
}
Value make_vector(size_t n, double fill = 0) { return make(Inner::Vector, {}, n, 1, false, fill); }
Value make_row_vector(size_t n, double fill = 0) { return make(Inner::RowVector, {}, 1, n, false, fill); }
Value make_matrix(size_t r, size_t c, double fill = 0) { return make(Inner::Matrix, {}, r, c, false, fill); }
Value make_array(size_t n, bool is_int, double fill = 0) { return make(Inner::Scalar, {n}, 1, 1, is_int, fill); }

// The same shape with other values (a copy whose storage is reused).
Value like(const Value& a, bool is_int) {
  Value r = a;
  r.is_int = is_int;
  return r;
}

std::string type_str(const Value& a) {
  std::string s;
  if (!a.arr.empty()) {
    s = "array[";
    for (size_t i = 0; i < a.arr.size(); ++i) s += (i ? "," : "") + std::to_string(a.arr[i]);
    s += "] ";
  }
  switch (a.inner) {
    case Inner::Scalar: return s + (a.is_int ? "int" : "real");
    case Inner::Vector: return s + fmt::format("vector[{}]", a.rows);
    case Inner::RowVector: return s + fmt::format("row_vector[{}]", a.cols);
    case Inner::Matrix: return s + fmt::format("matrix[{},{}]", a.rows, a.cols);
  }
  return s;
}

std::string num(double x) { return fmt::format("{}", x); }

// "[2,3]": the 1-based Stan index of the element at internal offset `off`.
std::string index_str(const Value& a, size_t off) {
  if (a.is_scalar()) return "";
  std::vector<size_t> idx;
  const size_t isz = a.inner_size();
  size_t outer = off / isz, in = off % isz;
  std::vector<size_t> ai(a.arr.size());
  for (size_t k = a.arr.size(); k-- > 0;) {
    ai[k] = outer % a.arr[k];
    outer /= a.arr[k];
  }
  for (size_t x : ai) idx.push_back(x + 1);
  if (a.inner == Inner::Vector || a.inner == Inner::RowVector) idx.push_back(in + 1);
  if (a.inner == Inner::Matrix) {
    idx.push_back(in % a.rows + 1);
    idx.push_back(in / a.rows + 1);
  }
  std::string s = "[";
  for (size_t i = 0; i < idx.size(); ++i) s += (i ? "," : "") + std::to_string(idx[i]);
  return s + "]";
}

// "[2,3]": the 1-based array index of array element `o` (row-major over the array dims).
std::string array_index_str(const Value& a, size_t o) {
  std::vector<size_t> ai(a.arr.size());
  for (size_t k = a.arr.size(); k-- > 0;) {
    ai[k] = o % a.arr[k] + 1;
    o /= a.arr[k];
  }
  std::string s = "[";
  for (size_t i = 0; i < ai.size(); ++i) s += (i ? "," : "") + std::to_string(ai[i]);
  return s + "]";
}

// Internal offset of each element of `a` in column-major order over its full shape (the
// order flat_names uses).
std::vector<size_t> column_major_offsets(const Value& a) {
  const std::vector<size_t> dims = a.full_dims();
  const size_t n = a.size(), na = a.arr.size(), isz = a.inner_size();
  std::vector<size_t> out(n);
  std::vector<size_t> idx(dims.size(), 0);
  for (size_t j = 0; j < n; ++j) {
    size_t outer = 0;
    for (size_t k = 0; k < na; ++k) outer = outer * dims[k] + idx[k];
    size_t in = 0;
    if (a.inner == Inner::Vector || a.inner == Inner::RowVector) in = idx[na];
    if (a.inner == Inner::Matrix) in = idx[na] + a.rows * idx[na + 1];
    out[j] = outer * isz + in;
    for (size_t d = 0; d < idx.size(); ++d) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

using MatMap = Eigen::Map<const Eigen::MatrixXd>;
MatMap mat(const Value& a) { return MatMap(a.data(), Eigen::Index(a.rows), Eigen::Index(a.cols)); }

Value from_eigen(const Eigen::MatrixXd& m, Inner inner) {
  Value r = make(inner, {}, size_t(m.rows()), size_t(m.cols()), false);
  if (inner == Inner::Scalar) r.s = m(0, 0);
  else std::copy(m.data(), m.data() + m.size(), r.v.begin());
  return r;
}

using math::log_sum_exp;
double log1p_exp(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double inv_logit(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
double Phi(double x) { return 0.5 * math::erfc(-x / std::sqrt(2.0)); }
double inv_Phi(double p) { return -std::sqrt(2.0) * math::erfc_inv(2.0 * p); }
double log1m_exp(double x) { return x > -0.693147 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x)); }
double log_diff_exp(double a, double b) {
  if (b == -kInf) return a;
  return a + log1m_exp(b - a);
}
double lchoose(double n, double k) { return math::lgamma(n + 1) - math::lgamma(k + 1) - math::lgamma(n - k + 1); }

enum class Op : uint8_t { Add, Sub, Mul, Div, IntDiv, Mod, Pow, EMul, EDiv, EPow, LDiv, Lt, Le, Gt, Ge, Eq, Ne, And, Or, Unknown };

Op op_code(const std::string& o) {
  static const std::unordered_map<std::string, Op> ops = {
      {"+", Op::Add},    {"-", Op::Sub},    {"*", Op::Mul},   {"/", Op::Div},  {"%/%", Op::IntDiv},
      {"%", Op::Mod},    {"^", Op::Pow},    {".*", Op::EMul}, {"./", Op::EDiv}, {".^", Op::EPow},
      {"\\", Op::LDiv}, {"<", Op::Lt},     {"<=", Op::Le},   {">", Op::Gt},   {">=", Op::Ge},
      {"==", Op::Eq},    {"!=", Op::Ne},    {"&&", Op::And},  {"||", Op::Or}};
  auto it = ops.find(o);
  return it == ops.end() ? Op::Unknown : it->second;
}
const char* op_name(Op op) {
  static const char* const names[] = {"+", "-", "*", "/", "%/%", "%", "^", ".*", "./", ".^", "\\",
                                      "<", "<=", ">", ">=", "==", "!=", "&&", "||", "?"};
  return names[static_cast<int>(op)];
}

class Interp;
using Fn = Value (*)(Interp&, std::vector<Value>&, const Expr&);
using UnaryD = double (*)(double);
using BinaryD = double (*)(double, double);

// What an expression node resolves to, found once by the constructor so that eval() neither
// parses literals nor searches names.
struct NodeInfo {
  double lit = 0;  // IntLit / RealLit
  int sym = -1;    // Var: the interned name
  Op op = Op::Unknown;
  enum class Call : uint8_t { None, User, Dist, Unary, Binary, Table } call = Call::None;
  const std::vector<const FunDef*>* user = nullptr;
  std::string fam, suffix;  // Dist
  const dist::DistInfo* dist = nullptr;
  UnaryD un = nullptr;
  BinaryD bin = nullptr;
  Fn fn = nullptr;
};

}  // namespace

// Everything the constructor resolves once; eval() only reads it.
struct GqState {
  const Program* program = nullptr;
  std::unordered_map<std::string, Value> globals;  // data and transformed data
  // Every identifier of the program, interned; lookups by symbol compare ints.
  std::unordered_map<std::string, int> sym_ids;
  std::vector<std::string> sym_names;
  std::vector<const Value*> global_by_sym;  // null where the symbol is no global
  std::vector<int> param_by_sym;            // -1 where the symbol is no parameter
  // Node -> what it resolves to, as an open-addressing table on the node's address (eval()
  // looks one up per node visited, so this is the interpreter's hottest lookup).
  struct NodeTable {
    std::vector<const Expr*> keys;
    std::vector<NodeInfo> vals;
    static size_t slot(const Expr* e, size_t mask) {
      return (size_t(reinterpret_cast<uintptr_t>(e)) * 0x9E3779B97F4A7C15ull >> 17) & mask;
    }
    NodeInfo& insert(const Expr* e) {
      if (2 * (count + 1) > keys.size()) grow();
      const size_t mask = keys.size() - 1;
      for (size_t i = slot(e, mask);; i = (i + 1) & mask) {
        if (keys[i] == e) return vals[i];
        if (!keys[i]) {
          keys[i] = e;
          ++count;
          return vals[i];
        }
      }
    }
    const NodeInfo* find(const Expr* e) const {
      if (keys.empty()) return nullptr;
      const size_t mask = keys.size() - 1;
      for (size_t i = slot(e, mask);; i = (i + 1) & mask) {
        if (keys[i] == e) return &vals[i];
        if (!keys[i]) return nullptr;
      }
    }
    void grow() {
      std::vector<const Expr*> old_keys(std::max<size_t>(64, 2 * keys.size()), nullptr);
      std::vector<NodeInfo> old_vals(old_keys.size());
      old_keys.swap(keys);
      old_vals.swap(vals);
      count = 0;
      for (size_t i = 0; i < old_keys.size(); ++i)
        if (old_keys[i]) insert(old_keys[i]) = std::move(old_vals[i]);
    }
    size_t count = 0;
  } info;
  int sym(const std::string& n) const {
    auto it = sym_ids.find(n);
    return it == sym_ids.end() ? -1 : it->second;
  }
  struct Param {
    std::string name;
    Value shape;                 // values unused
    size_t offset = 0;           // into a draw
    std::vector<size_t> perm;    // draw position k -> internal offset perm[k] (empty: identity)
  };
  std::vector<Param> params;
  size_t draw_size = 0;
  struct Out {
    const VarDecl* decl = nullptr;
    std::vector<size_t> perm;  // output position -> internal offset
  };
  std::vector<Out> outs;
  std::vector<VarInfo> vars;
  std::unordered_map<std::string, std::vector<const FunDef*>> functions;
};

namespace {

enum class Flow { Next, Break, Continue, Return };

class Interp {
 public:
  Interp(const GqState& st, Rng* rng, const char* block) : st_(st), p_(*st.program), rng_(rng), block_(block) {}

  const std::vector<Value>* params = nullptr;  // aligned with st_.params; null before they exist

  [[noreturn]] void fail(Loc loc, const std::string& msg) const {
    throw Error(p_.file, loc.line, loc.col, msg, source_line(p_.source, loc.line));
  }

  const NodeInfo& info(const Expr& e) const {
    const NodeInfo* ni = st_.info.find(&e);
    if (!ni) fail(e.loc, "internal error: an expression the constructor did not see");
    return *ni;
  }

  // ---- scopes ----
  struct Local {
    int sym;
    Value val;
  };
  std::vector<Local> locals;

  Value* find_local(int sym) {
    for (size_t i = locals.size(); i-- > frame_base_;)
      if (locals[i].sym == sym) return &locals[i].val;
    return nullptr;
  }
  Value* find_local(const std::string& n) { return find_local(st_.sym(n)); }
  void push_local(const std::string& name, Value v) { locals.push_back({st_.sym(name), std::move(v)}); }
  const Value& lookup(int sym, Loc loc) {
    if (Value* v = find_local(sym)) return *v;
    if (!in_function_ && sym >= 0) {
      if (params && st_.param_by_sym[size_t(sym)] >= 0) return (*params)[size_t(st_.param_by_sym[size_t(sym)])];
      if (const Value* g = st_.global_by_sym[size_t(sym)]) return *g;
    }
    fail(loc, fmt::format("'{}' has no value in {}{}", sym >= 0 ? st_.sym_names[size_t(sym)] : "?", block_,
                          in_function_ ? " (a function sees only its arguments and locals)" : ""));
  }

  // ---- declarations ----
  int64_t int_value(const Expr& e, const char* what) {
    const Value v = ev(e);
    if (!v.is_scalar() || !v.is_int) fail(e.loc, fmt::format("{} must be an int, found {}", what, type_str(v)));
    return static_cast<int64_t>(v.s);
  }
  size_t size_value(const Expr& e) {
    const int64_t n = int_value(e, "a size");
    if (n < 0) fail(e.loc, fmt::format("size '{}' is {}; sizes must be >= 0", print_expr(e), n));
    return static_cast<size_t>(n);
  }

  // An unassigned value of the declared type: reals NaN, ints INT_MIN, as Stan.
  Value declared(const SizedType& t, Loc loc) {
    std::vector<size_t> arr;
    for (const auto& e : t.array_dims) arr.push_back(size_value(e));
    std::vector<size_t> d;
    for (const auto& e : t.dims) d.push_back(size_value(e));
    const bool is_int = t.base == BaseType::Int;
    const double fill = is_int ? kIntUnset : kNaN;
    switch (t.base) {
      case BaseType::Int:
      case BaseType::Real: return make(Inner::Scalar, arr, 1, 1, is_int, fill);
      case BaseType::RowVector: return make(Inner::RowVector, arr, 1, d[0], false, fill);
      case BaseType::Matrix: return make(Inner::Matrix, arr, d[0], d[1], false, fill);
      case BaseType::CholeskyFactorCov:
        return make(Inner::Matrix, arr, d[0], d.size() > 1 ? d[1] : d[0], false, fill);
      case BaseType::CholeskyFactorCorr:
      case BaseType::CorrMatrix:
      case BaseType::CovMatrix: return make(Inner::Matrix, arr, d[0], d[0], false, fill);
      case BaseType::Complex:
      case BaseType::ComplexVector:
      case BaseType::ComplexRowVector:
      case BaseType::ComplexMatrix:
        fail(loc, fmt::format("complex types are not supported in {} yet", block_));
      default: return make(Inner::Vector, arr, d[0], 1, false, fill);
    }
  }

  // `from` stored into a variable shaped like `to` (ints promoted; shapes must agree).
  void store(Value& to, const Value& from, Loc loc, const std::string& name) {
    if (from.is_void) fail(loc, fmt::format("cannot assign the result of a void function to '{}'", name));
    if (from.full_dims() != to.full_dims())
      fail(loc, fmt::format("cannot assign a value of type {} to '{}' of type {}", type_str(from), name,
                            type_str(to)));
    if (to.is_int && !from.is_int) check_int_values(from, loc, name);
    if (to.is_scalar()) to.s = from.s;
    else std::copy(from.data(), from.data() + from.size(), to.v.begin());
  }

  void check_int_values(const Value& from, Loc loc, const std::string& name) {
    for (size_t i = 0; i < from.size(); ++i)
      if (from[i] != std::nearbyint(from[i]))
        fail(loc, fmt::format("cannot assign the real value {} to the int '{}'", num(from[i]), name));
  }

  void declare(const VarDecl& d) {
    Value v = declared(d.type, d.loc);
    if (d.init) store(v, ev(*d.init), d.init->loc, d.name);
    push_local(d.name, std::move(v));
  }

  // ---- statements ----
  Flow exec(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Decl: declare(s.decl[0]); return Flow::Next;
      case StmtKind::Assign: assign(s); return Flow::Next;
      case StmtKind::For: {
        const int64_t lo = int_value(s.exprs[0], "a loop bound");
        const int64_t hi = int_value(s.exprs[1], "a loop bound");
        const size_t mark = locals.size();
        push_local(s.name, scalar(0, true));
        Flow out = Flow::Next;
        for (int64_t i = lo; i <= hi; ++i) {
          locals[mark].val.s = static_cast<double>(i);
          const Flow f = exec(s.body[0]);
          if (f == Flow::Break) break;
          if (f == Flow::Return) {
            out = f;
            break;
          }
        }
        locals.resize(mark);
        return out;
      }
      case StmtKind::Foreach: {
        const Value c = ev(s.exprs[0]);
        std::vector<Value> elems;
        if (!c.arr.empty()) {
          const size_t n = c.arr[0], each = c.size() / std::max<size_t>(n, 1);
          for (size_t i = 0; i < n; ++i) {
            Value e = c;
            e.arr.erase(e.arr.begin());
            if (e.is_scalar()) e.s = c.v[i];
            else e.v.assign(c.v.begin() + long(i * each), c.v.begin() + long((i + 1) * each));
            elems.push_back(std::move(e));
          }
        } else if (!c.is_scalar()) {
          for (size_t i = 0; i < c.size(); ++i) elems.push_back(scalar(c[i], c.is_int));
        } else {
          fail(s.exprs[0].loc, "foreach needs an array, vector or matrix");
        }
        const size_t mark = locals.size();
        push_local(s.name, Value());
        Flow out = Flow::Next;
        for (auto& e : elems) {
          locals[mark].val = std::move(e);
          const Flow f = exec(s.body[0]);
          if (f == Flow::Break) break;
          if (f == Flow::Return) {
            out = f;
            break;
          }
        }
        locals.resize(mark);
        return out;
      }
      case StmtKind::While:
        while (truth(s.exprs[0])) {
          const Flow f = exec(s.body[0]);
          if (f == Flow::Break) break;
          if (f == Flow::Return) return f;
        }
        return Flow::Next;
      case StmtKind::If:
        if (truth(s.exprs[0])) return exec(s.body[0]);
        if (s.body.size() > 1) return exec(s.body[1]);
        return Flow::Next;
      case StmtKind::Block:
      case StmtKind::Profile: {
        const size_t mark = locals.size();
        Flow out = Flow::Next;
        for (const auto& c : s.body) {
          out = exec(c);
          if (out != Flow::Next) break;
        }
        locals.resize(mark);
        return out;
      }
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
      case StmtKind::Return:
        ret_ = s.exprs.empty() ? Value() : ev(s.exprs[0]);
        if (s.exprs.empty()) ret_.is_void = true;
        return Flow::Return;
      case StmtKind::Print: {
        const std::string msg = message(s.exprs) + "\n";
        std::fwrite(msg.data(), 1, msg.size(), stderr);
        return Flow::Next;
      }
      case StmtKind::Reject:
      case StmtKind::FatalError:
        fail(s.loc, fmt::format("{}() in {}: {}", s.kind == StmtKind::Reject ? "reject" : "fatal_error", block_,
                                message(s.exprs)));
      case StmtKind::CallStmt: ev(s.exprs[0]); return Flow::Next;
      case StmtKind::Empty: return Flow::Next;
      case StmtKind::Tilde:
      case StmtKind::TargetPlus:
      case StmtKind::JacobianPlus:
        fail(s.loc, fmt::format("'~', 'target +=' and 'jacobian +=' have no meaning in {}", block_));
    }
    return Flow::Next;
  }

  bool truth(const Expr& e) {
    const Value c = ev(e);
    if (!c.is_scalar()) fail(e.loc, fmt::format("a condition must be an int or real, found {}", type_str(c)));
    return c.s != 0;
  }

  std::string message(const std::vector<Expr>& xs) {
    std::string out;
    for (const auto& x : xs) {
      if (x.kind == ExprKind::StringLit) {
        for (size_t i = 0; i < x.text.size(); ++i) {
          if (x.text[i] == '\\' && i + 1 < x.text.size()) {
            const char c = x.text[++i];
            out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
          } else {
            out += x.text[i];
          }
        }
      } else {
        out += show(ev(x));
      }
    }
    return out;
  }

  static std::string show(const Value& a) {
    auto one = [&](double x) { return a.is_int ? fmt::format("{}", static_cast<int64_t>(x)) : num(x); };
    if (a.is_scalar()) return one(a.s);
    std::string s = "[";
    if (a.arr.empty() && a.inner == Inner::Matrix) {
      for (size_t i = 0; i < a.rows; ++i) {
        s += i ? ",[" : "[";
        for (size_t j = 0; j < a.cols; ++j) s += (j ? "," : "") + one(a.v[i + a.rows * j]);
        s += "]";
      }
      return s + "]";
    }
    for (size_t i = 0; i < a.size(); ++i) s += (i ? "," : "") + one(a.v[i]);
    return s + "]";
  }

  // ---- assignment ----
  void assign(const Stmt& s) {
    const Expr& lhs = s.exprs[0];
    Value rhs = ev(s.exprs[1]);
    if (s.op != "=") rhs = binary(op_code(s.op.substr(0, s.op.size() - 1)), ev(lhs), rhs, s.loc);
    // Fast path, free of allocation: x[i, j] = scalar with single int indexes, one per dimension.
    if (rhs.is_scalar() && lhs.kind == ExprKind::Index && lhs.args[0].kind == ExprKind::Var &&
        lhs.indices.size() <= 8) {
      bool singles = true;
      for (const auto& it : lhs.indices) singles = singles && it.kind == IndexItem::Single;
      double idx[8];
      std::vector<Value> all;
      const bool scalars = singles && single_indexes(lhs.indices, idx, &all);
      Value* target = find_local(info(lhs.args[0]).sym);
      size_t off = 0;
      if (scalars && target && single_offset(*target, lhs.indices.size(), idx, lhs.loc, lhs.args[0], &off)) {
        if (target->is_int && !rhs.is_int) check_int_values(rhs, s.exprs[1].loc, lhs.args[0].text);
        target->data()[off] = rhs.s;
        return;
      }
      if (singles && !target) assignable(lhs.args[0]);
      if (singles) {  // the general path, without evaluating the indexes again
        if (scalars) {
          all.assign(2 * lhs.indices.size(), Value());
          for (size_t k = 0; k < lhs.indices.size(); ++k) all[2 * k] = scalar(idx[k], true);
        }
        std::vector<const IndexItem*> items;
        for (const auto& it : lhs.indices) items.push_back(&it);
        assign_elements(*target, items, all, lhs, lhs.args[0], rhs, s.exprs[1].loc);
        return;
      }
    }
    // Nested indexes x[i][j] are x[i, j] when every index but the last level is single.
    std::vector<const std::vector<IndexItem>*> levels;
    const Expr* root = &lhs;
    while (root->kind == ExprKind::Index) {
      levels.push_back(&root->indices);
      root = &root->args[0];
    }
    if (root->kind != ExprKind::Var) fail(lhs.loc, "the left of an assignment must be a variable");
    std::reverse(levels.begin(), levels.end());
    std::vector<const IndexItem*> items;
    for (size_t l = 0; l < levels.size(); ++l)
      for (const auto& it : *levels[l]) items.push_back(&it);
    std::vector<Value> evaluated = eval_index_bounds(items);
    for (size_t l = 0, k = 0; l + 1 < levels.size(); ++l)
      for (size_t j = 0; j < levels[l]->size(); ++j, ++k)
        if (items[k]->kind != IndexItem::Single || !evaluated[2 * k].is_scalar())
          fail(lhs.loc, "only single indexes are supported before the last '[ ]' on the left of '='");
    Value* target = find_local(info(*root).sym);
    if (!target) assignable(*root);
    if (items.empty()) {
      store(*target, rhs, s.exprs[1].loc, root->text);
      return;
    }
    assign_elements(*target, items, evaluated, lhs, *root, rhs, s.exprs[1].loc);
  }

  [[noreturn]] void assignable(const Expr& root) {
    lookup(info(root).sym, root.loc);  // fails when unknown
    fail(root.loc, fmt::format("'{}' cannot be assigned in {} (it belongs to an earlier block)", root.text, block_));
  }

  void assign_elements(Value& target, const std::vector<const IndexItem*>& items, const std::vector<Value>& b,
                       const Expr& lhs, const Expr& root, const Value& rhs, Loc rhs_loc) {
    Value meta;
    std::vector<size_t> offs;
    plan_index(target, items, b, lhs.loc, root.text, &meta, &offs);
    if (rhs.size() != offs.size() || (rhs.is_scalar() != meta.is_scalar()))
      fail(rhs_loc, fmt::format("cannot assign a value of type {} to {} (type {})", type_str(rhs), print_expr(lhs),
                                type_str(meta)));
    if (target.is_int && !rhs.is_int) check_int_values(rhs, rhs_loc, root.text);
    double* dst = target.data();
    for (size_t k = 0; k < offs.size(); ++k) dst[offs[k]] = rhs[k];
  }

  // ---- indexing ----
  // Two Values per item: the bound(s) of the index (unused ones stay scalar 0).
  std::vector<Value> eval_index_bounds(const std::vector<const IndexItem*>& items) {
    std::vector<Value> out(2 * items.size());
    for (size_t k = 0; k < items.size(); ++k)
      for (size_t b = 0; b < items[k]->bounds.size(); ++b) {
        out[2 * k + b] = ev(items[k]->bounds[b]);
        check_bound(out[2 * k + b], *items[k], items[k]->bounds[b]);
      }
    return out;
  }
  void check_bound(const Value& v, const IndexItem& it, const Expr& bound) {
    if (!v.is_int || (!v.is_scalar() && !(v.arr.size() == 1 && v.inner == Inner::Scalar)))
      fail(bound.loc, fmt::format("an index must be an int or an int array, found {}", type_str(v)));
    if (!v.is_scalar() && it.kind != IndexItem::Single) fail(bound.loc, "a range bound must be a single int");
  }

  // Resolves indexes into flat offsets of `base` (in the layout of the result) and the
  // result's shape (`meta`, values not filled).
  void plan_index(const Value& base, const std::vector<const IndexItem*>& items, const std::vector<Value>& b,
                  Loc loc, const std::string& name, Value* meta, std::vector<size_t>* offs) {
    const std::vector<size_t> dims = base.full_dims();
    const size_t na = base.arr.size();
    if (items.size() > dims.size())
      fail(loc, fmt::format("too many indexes for '{}' (type {})", name, type_str(base)));
    std::vector<std::vector<size_t>> pos(dims.size());
    std::vector<bool> keep(dims.size(), true);
    for (size_t k = 0; k < dims.size(); ++k) {
      auto check = [&](double i) {
        if (!(i >= 1 && i <= double(dims[k])))
          fail(loc, fmt::format("index {} out of range for '{}' (size {} in dimension {})", num(i), name, dims[k],
                                k + 1));
        return static_cast<size_t>(i) - 1;
      };
      if (k >= items.size()) {
        pos[k].resize(dims[k]);
        std::iota(pos[k].begin(), pos[k].end(), size_t(0));
        continue;
      }
      const Value& lo = b[2 * k];
      switch (items[k]->kind) {
        case IndexItem::Single:
          if (lo.is_scalar()) {
            keep[k] = false;
            pos[k].push_back(check(lo.s));
          } else {
            for (double x : lo.v) pos[k].push_back(check(x));
          }
          break;
        case IndexItem::All:
          pos[k].resize(dims[k]);
          std::iota(pos[k].begin(), pos[k].end(), size_t(0));
          break;
        case IndexItem::Lower:
          for (double i = lo.s; i <= double(dims[k]); ++i) pos[k].push_back(check(i));
          break;
        case IndexItem::Upper:
          for (double i = 1; i <= lo.s; ++i) pos[k].push_back(check(i));
          break;
        case IndexItem::Range:
          for (double i = lo.s; i <= b[2 * k + 1].s; ++i) pos[k].push_back(check(i));
          break;
      }
    }
    Value r;
    r.is_int = base.is_int;
    for (size_t k = 0; k < na; ++k)
      if (keep[k]) r.arr.push_back(pos[k].size());
    if (base.inner == Inner::Vector && keep[na]) {
      r.inner = Inner::Vector;
      r.rows = pos[na].size();
    } else if (base.inner == Inner::RowVector && keep[na]) {
      r.inner = Inner::RowVector;
      r.cols = pos[na].size();
    } else if (base.inner == Inner::Matrix) {
      if (keep[na] && keep[na + 1]) {
        r.inner = Inner::Matrix;
        r.rows = pos[na].size();
        r.cols = pos[na + 1].size();
      } else if (keep[na]) {
        r.inner = Inner::Vector;
        r.rows = pos[na].size();
      } else if (keep[na + 1]) {
        r.inner = Inner::RowVector;
        r.cols = pos[na + 1].size();
      }
    }
    std::vector<size_t> outer{0};
    for (size_t k = 0; k < na; ++k) {
      std::vector<size_t> next;
      next.reserve(outer.size() * pos[k].size());
      for (size_t o : outer)
        for (size_t p : pos[k]) next.push_back(o * dims[k] + p);
      outer = std::move(next);
    }
    std::vector<size_t> in;
    if (base.inner == Inner::Scalar) {
      in = {0};
    } else if (base.inner == Inner::Matrix) {
      for (size_t c : pos[na + 1])
        for (size_t rr : pos[na]) in.push_back(rr + base.rows * c);
    } else {
      in = pos[na];
    }
    const size_t isz = base.inner_size();
    offs->clear();
    offs->reserve(outer.size() * in.size());
    for (size_t o : outer)
      for (size_t i : in) offs->push_back(o * isz + i);
    *meta = std::move(r);
  }

  static size_t rank(const Value& v) {
    return v.arr.size() + (v.inner == Inner::Matrix ? 2 : v.inner == Inner::Scalar ? 0 : 1);
  }

  // The internal offset of one element when every index is a single int and there is one per
  // dimension (the common case, kept free of allocation); false otherwise. `b` holds each
  // index's value at stride `stride`.
  bool single_offset(const Value& base, size_t n, const double* idx, Loc loc, const Expr& name, size_t* off) {
    if (n != rank(base)) return false;
    const size_t na = base.arr.size();
    auto at = [&](size_t k, size_t dim) {
      const double i = idx[k];
      if (!(i >= 1 && i <= double(dim)))
        fail(loc, fmt::format("index {} out of range for '{}' (size {} in dimension {})", num(i), print_expr(name),
                              dim, k + 1));
      return size_t(i) - 1;
    };
    size_t outer = 0;
    for (size_t k = 0; k < na; ++k) outer = outer * base.arr[k] + at(k, base.arr[k]);
    size_t in = 0;
    if (base.inner == Inner::Vector) in = at(na, base.rows);
    if (base.inner == Inner::RowVector) in = at(na, base.cols);
    if (base.inner == Inner::Matrix) in = at(na, base.rows) + base.rows * at(na + 1, base.cols);
    *off = outer * base.inner_size() + in;
    return true;
  }

  // Evaluates single indexes (at most 8) into `idx`; true when each is one int. Otherwise
  // (a multi-index among them) every value lands in `all`, laid out as eval_index_bounds does,
  // so that nothing is evaluated twice.
  bool single_indexes(const std::vector<IndexItem>& ixs, double* idx, std::vector<Value>* all) {
    for (size_t k = 0; k < ixs.size(); ++k) {
      Value v = ev(ixs[k].bounds[0]);
      check_bound(v, ixs[k], ixs[k].bounds[0]);
      if (v.is_scalar()) {
        idx[k] = v.s;
        continue;
      }
      all->assign(2 * ixs.size(), Value());
      for (size_t j = 0; j < k; ++j) (*all)[2 * j] = scalar(idx[j], true);
      (*all)[2 * k] = std::move(v);
      for (size_t j = k + 1; j < ixs.size(); ++j) {
        (*all)[2 * j] = ev(ixs[j].bounds[0]);
        check_bound((*all)[2 * j], ixs[j], ixs[j].bounds[0]);
      }
      return false;
    }
    return true;
  }

  Value index(const Expr& e) {
    Value holder;
    if (e.args[0].kind != ExprKind::Var) holder = ev(e.args[0]);
    // Bounds before the reference to the base: a user function called in an index pushes
    // locals, which may move them.
    const size_t n = e.indices.size();
    bool all_single = n <= 8;
    for (size_t k = 0; k < n && all_single; ++k) all_single = e.indices[k].kind == IndexItem::Single;
    std::vector<const IndexItem*> items;
    std::vector<Value> b;
    if (all_single) {
      double idx[8];
      const bool scalars = single_indexes(e.indices, idx, &b);
      const Value& base = e.args[0].kind == ExprKind::Var ? lookup(info(e.args[0]).sym, e.args[0].loc) : holder;
      size_t off = 0;
      if (scalars && single_offset(base, n, idx, e.loc, e.args[0], &off)) return scalar(base[off], base.is_int);
      if (scalars) {  // fewer indexes than dimensions: the general path, without evaluating again
        b.assign(2 * n, Value());
        for (size_t k = 0; k < n; ++k) b[2 * k] = scalar(idx[k], true);
      }
      for (const auto& it : e.indices) items.push_back(&it);
    } else {
      for (const auto& it : e.indices) items.push_back(&it);
      b = eval_index_bounds(items);
    }
    const Value& base = e.args[0].kind == ExprKind::Var ? lookup(info(e.args[0]).sym, e.args[0].loc) : holder;
    Value meta;
    std::vector<size_t> offs;
    plan_index(base, items, b, e.loc, print_expr(e.args[0]), &meta, &offs);
    if (meta.is_scalar()) {
      meta.s = base[offs[0]];
    } else {
      meta.v.resize(offs.size());
      for (size_t k = 0; k < offs.size(); ++k) meta.v[k] = base[offs[k]];
    }
    return meta;
  }

  // ---- expressions ----
  Value ev(const Expr& e) {
    switch (e.kind) {
      case ExprKind::IntLit: return scalar(info(e).lit, true);
      case ExprKind::RealLit: return scalar(info(e).lit);
      case ExprKind::Paren: return ev(e.args[0]);
      case ExprKind::Var: return lookup(info(e).sym, e.loc);
      case ExprKind::Unary: {
        Value a = ev(e.args[0]);
        if (e.text == "+") return a;
        if (e.text == "!") {
          if (!a.is_scalar()) fail(e.loc, fmt::format("'!' needs an int or real, found {}", type_str(a)));
          return scalar(a.s == 0 ? 1 : 0, true);
        }
        for (size_t i = 0; i < a.size(); ++i) a[i] = -a[i];
        return a;
      }
      case ExprKind::Binary: {
        const Op op = info(e).op;
        if (op == Op::And || op == Op::Or) {  // short-circuit, as Stan's generated C++
          const bool l = truth(e.args[0]);
          if (op == Op::And && !l) return scalar(0, true);
          if (op == Op::Or && l) return scalar(1, true);
          return scalar(truth(e.args[1]) ? 1 : 0, true);
        }
        return binary(op, ev(e.args[0]), ev(e.args[1]), e.loc);
      }
      case ExprKind::Ternary: return truth(e.args[0]) ? ev(e.args[1]) : ev(e.args[2]);
      case ExprKind::Transpose: {
        Value a = ev(e.args[0]);
        if (!a.arr.empty()) fail(e.loc, "cannot transpose an array");
        if (a.inner == Inner::Vector) {
          a.inner = Inner::RowVector;
          std::swap(a.rows, a.cols);
        } else if (a.inner == Inner::RowVector) {
          a.inner = Inner::Vector;
          std::swap(a.rows, a.cols);
        } else if (a.inner == Inner::Matrix) {
          a = from_eigen(mat(a).transpose(), Inner::Matrix);
        }
        return a;
      }
      case ExprKind::Index: return index(e);
      case ExprKind::Call:
      case ExprKind::CondCall: return call(e);
      case ExprKind::ArrayExpr: {
        std::vector<Value> xs;
        bool all_int = true;
        for (const auto& a : e.args) {
          xs.push_back(ev(a));
          all_int = all_int && xs.back().is_int;
        }
        Value r = xs[0];
        for (size_t i = 1; i < xs.size(); ++i)
          if (xs[i].full_dims() != r.full_dims() || xs[i].inner != r.inner)
            fail(e.args[i].loc, fmt::format("array elements must have one type: {} and {}", type_str(xs[0]),
                                            type_str(xs[i])));
        r.arr.insert(r.arr.begin(), xs.size());
        r.is_int = all_int;
        r.v.clear();
        for (const auto& x : xs) r.v.insert(r.v.end(), x.data(), x.data() + x.size());
        return r;
      }
      case ExprKind::RowVectorExpr: {
        std::vector<Value> xs;
        for (const auto& a : e.args) xs.push_back(ev(a));
        if (xs.empty() || xs[0].is_scalar()) {
          Value r = make_row_vector(xs.size());
          for (size_t i = 0; i < xs.size(); ++i) {
            if (!xs[i].is_scalar()) fail(e.args[i].loc, "[ ] mixes numbers and row vectors");
            r.v[i] = xs[i].s;
          }
          return r;
        }
        const size_t c = xs[0].length();
        Value r = make_matrix(xs.size(), c);
        for (size_t i = 0; i < xs.size(); ++i) {
          if (xs[i].inner != Inner::RowVector || !xs[i].arr.empty() || xs[i].cols != c)
            fail(e.args[i].loc, fmt::format("the rows of [ ] must be row vectors of size {}, found {}", c,
                                            type_str(xs[i])));
          for (size_t j = 0; j < c; ++j) r.v[i + xs.size() * j] = xs[i].v[j];
        }
        return r;
      }
      case ExprKind::StringLit: fail(e.loc, "a string can only appear in print, reject and fatal_error");
      case ExprKind::ImagLit: fail(e.loc, fmt::format("complex numbers are not supported in {} yet", block_));
    }
    fail(e.loc, "unknown expression");
  }

  Value binary(Op op, Value a, Value b, Loc loc) {
    if (a.is_scalar() && b.is_scalar()) {
      const double x = a.s, y = b.s;
      const bool ii = a.is_int && b.is_int;
      switch (op) {
        case Op::Add: return scalar(x + y, ii);
        case Op::Sub: return scalar(x - y, ii);
        case Op::Mul:
        case Op::EMul: return scalar(x * y, ii);
        case Op::Div:
        case Op::EDiv:
        case Op::IntDiv:
          if (ii) {
            if (y == 0) fail(loc, "integer division by zero");
            return scalar(std::trunc(x / y), true);
          }
          return scalar(x / y);
        case Op::Mod:
          if (!ii) fail(loc, "'%' needs int operands");
          if (y == 0) fail(loc, "modulus by zero");
          return scalar(std::fmod(x, y), true);
        case Op::Pow:
        case Op::EPow: return scalar(std::pow(x, y));
        case Op::Lt: return scalar(x < y, true);
        case Op::Le: return scalar(x <= y, true);
        case Op::Gt: return scalar(x > y, true);
        case Op::Ge: return scalar(x >= y, true);
        case Op::Eq: return scalar(x == y, true);
        case Op::Ne: return scalar(x != y, true);
        case Op::And: return scalar(x != 0 && y != 0, true);
        case Op::Or: return scalar(x != 0 || y != 0, true);
        default: fail(loc, fmt::format("operator '{}' cannot take two numbers", op_name(op)));
      }
    }
    const bool matrix_ops = a.arr.empty() && b.arr.empty() && !a.is_scalar() && !b.is_scalar();
    if (matrix_ops && op == Op::Mul) {
      if (a.cols != b.rows)  // vectors are n x 1, row vectors 1 x n
        fail(loc, fmt::format("cannot multiply {} by {}", type_str(a), type_str(b)));
      const Eigen::MatrixXd m = mat(a) * mat(b);
      if (m.rows() == 1 && m.cols() == 1 && a.inner == Inner::RowVector && b.inner == Inner::Vector)
        return scalar(m(0, 0));
      const Inner k = b.inner == Inner::Vector ? Inner::Vector : a.inner == Inner::RowVector ? Inner::RowVector
                                                                                             : Inner::Matrix;
      return from_eigen(m, k);
    }
    if (matrix_ops && op == Op::Div && b.inner == Inner::Matrix) {  // a * inverse(b)
      if (b.rows != b.cols || a.cols != b.rows) fail(loc, fmt::format("cannot divide {} by {}", type_str(a), type_str(b)));
      const Eigen::MatrixXd m = mat(b).transpose().partialPivLu().solve(mat(a).transpose()).transpose();
      return from_eigen(m, a.inner);
    }
    if (op == Op::LDiv) {
      if (!matrix_ops || a.inner != Inner::Matrix || a.rows != a.cols || b.rows != a.rows)
        fail(loc, fmt::format("cannot left-divide {} by {}", type_str(b), type_str(a)));
      return from_eigen(mat(a).partialPivLu().solve(mat(b)), b.inner);
    }
    // Elementwise, a scalar broadcast to the other's shape.
    BinaryD f = nullptr;
    switch (op) {
      case Op::Add: f = [](double x, double y) { return x + y; }; break;
      case Op::Sub: f = [](double x, double y) { return x - y; }; break;
      case Op::Mul:
      case Op::EMul: f = [](double x, double y) { return x * y; }; break;
      case Op::Div:
      case Op::EDiv: f = [](double x, double y) { return x / y; }; break;
      case Op::Pow:
      case Op::EPow: f = [](double x, double y) { return std::pow(x, y); }; break;
      default: break;
    }
    const bool both = !a.is_scalar() && !b.is_scalar();
    if (!f || (both && (op == Op::Mul || op == Op::Div || op == Op::Pow)))
      fail(loc, fmt::format("operator '{}' cannot take {} and {}", op_name(op), type_str(a), type_str(b)));
    if (both && a.full_dims() != b.full_dims())
      fail(loc, fmt::format("operator '{}' needs operands of one shape, found {} and {}", op_name(op), type_str(a),
                            type_str(b)));
    const bool ii = a.is_int && b.is_int && op != Op::EDiv && op != Op::EPow && op != Op::Pow;
    Value r = like(a.is_scalar() ? b : a, ii);
    const size_t n = r.size();
    for (size_t i = 0; i < n; ++i) r[i] = f(a.is_scalar() ? a.s : a[i], b.is_scalar() ? b.s : b[i]);
    return r;
  }

  // ---- calls ----
  Value call(const Expr& e);
  Value call_user(const FunDef& f, std::vector<Value> args, const Expr& e);
  Value call_dist(const NodeInfo& ni, std::vector<Value>& a, const Expr& e);

  Value ret_;
  const GqState& st_;
  const Program& p_;
  Rng* rng_;
  const char* block_;
  size_t frame_base_ = 0;
  bool in_function_ = false;
  int depth_ = 0;
};

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() > suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

Value Interp::call(const Expr& e) {
  const NodeInfo& ni = info(e);
  std::vector<Value> args;
  args.reserve(e.args.size());
  for (const auto& a : e.args) args.push_back(ev(a));
  switch (ni.call) {
    case NodeInfo::Call::User:
      for (const FunDef* d : *ni.user)
        if (d->args.size() == args.size()) return call_user(*d, std::move(args), e);
      fail(e.loc, fmt::format("no definition of '{}' takes {} arguments", e.text, args.size()));
    case NodeInfo::Call::Dist: return call_dist(ni, args, e);
    case NodeInfo::Call::Unary: {
      if (args.size() != 1) fail(e.loc, fmt::format("'{}' takes 1 argument, found {}", e.text, args.size()));
      Value r = like(args[0], false);
      double* p = r.data();
      for (size_t i = 0, n = r.size(); i < n; ++i) p[i] = ni.un(p[i]);
      return r;
    }
    case NodeInfo::Call::Binary: {
      if (args.size() != 2) fail(e.loc, fmt::format("'{}' takes 2 arguments, found {}", e.text, args.size()));
      const Value &a = args[0], &b = args[1];
      if (!a.is_scalar() && !b.is_scalar() && a.full_dims() != b.full_dims())
        fail(e.loc, fmt::format("'{}' needs arguments of one shape, found {} and {}", e.text, type_str(a), type_str(b)));
      Value r = like(a.is_scalar() ? b : a, false);
      for (size_t i = 0, n = r.size(); i < n; ++i) r[i] = ni.bin(a.is_scalar() ? a.s : a[i], b.is_scalar() ? b.s : b[i]);
      return r;
    }
    case NodeInfo::Call::Table: return ni.fn(*this, args, e);
    case NodeInfo::Call::None: break;
  }
  fail(e.loc, fmt::format("function '{}' is not supported in {} yet", e.text, block_));
}

Value Interp::call_user(const FunDef& f, std::vector<Value> args, const Expr& e) {
  if (++depth_ > 2000) fail(e.loc, fmt::format("recursion deeper than 2000 calls in '{}'", f.name));
  const size_t saved_base = frame_base_;
  const bool saved_in = in_function_;
  const size_t mark = locals.size();
  for (size_t i = 0; i < args.size(); ++i) {
    if (f.args[i].type.base != BaseType::Int) args[i].is_int = false;
    push_local(f.args[i].name, std::move(args[i]));
  }
  frame_base_ = mark;
  in_function_ = true;
  Flow fl = Flow::Next;
  try {
    for (const auto& s : f.body) {
      fl = exec(s);
      if (fl == Flow::Return) break;
    }
  } catch (...) {
    locals.resize(mark);
    frame_base_ = saved_base;
    in_function_ = saved_in;
    --depth_;
    throw;
  }
  locals.resize(mark);
  frame_base_ = saved_base;
  in_function_ = saved_in;
  --depth_;
  if (f.return_type.is_void) {
    Value v;
    v.is_void = true;
    return v;
  }
  if (fl != Flow::Return || ret_.is_void)
    fail(e.loc, fmt::format("function '{}' ended without returning a value", f.name));
  Value r = std::move(ret_);
  if (f.return_type.base != BaseType::Int) r.is_int = false;
  return r;
}

// Arguments of a distribution kernel: a vector is K x 1, an array of N vectors K x N (one
// observation per column), matrices as they are.
dist::Arg<double> kernel_arg(const Value& v) {
  dist::Arg<double> a;
  a.val = v.data();
  a.size = v.size();
  if (v.inner == Inner::Scalar) {
    a.rows = v.size();
    a.cols = 1;
  } else {
    a.rows = v.inner == Inner::Matrix ? v.rows : v.length();
    a.cols = v.size() / std::max<size_t>(a.rows, 1);
  }
  return a;
}

Value Interp::call_dist(const NodeInfo& ni, std::vector<Value>& a, const Expr& e) {
  const std::string &f = e.text, &fam = ni.fam, &suffix = ni.suffix;
  const dist::DistInfo* d = ni.dist;
  if (!d) fail(e.loc, fmt::format("'{}': the distribution '{}' is not in exmc's library yet", f, fam));
  const size_t K = d->arg_names.size();
  // The kernel's arguments (variate first); no family takes more than a handful.
  struct ArgList {
    dist::Arg<double> a[8];
    size_t n = 0;
    void push_back(const dist::Arg<double>& x) { a[n++] = x; }
    dist::Arg<double>& operator[](size_t i) { return a[i]; }
    const dist::Arg<double>* data() const { return a; }
    dist::Arg<double>* data() { return a; }
  } args;
  if (a.size() + 1 > 8) fail(e.loc, fmt::format("'{}' with {} arguments", f, a.size()));
  auto check_valid = [&](const ArgList& xs) {
    if (!d->validate) return;
    const std::string msg = d->validate(xs.data());
    if (!msg.empty()) fail(e.loc, fmt::format("{}: {}", f, msg));
  };
  if (suffix != "_rng") {
    if (a.size() != K)
      fail(e.loc, fmt::format("'{}' takes {} arguments ({}), found {}", f, K,
                              fmt::join(d->arg_names, ", "), a.size()));
    for (const auto& v : a) args.push_back(kernel_arg(v));
    args[0].is_param = true;  // the variate's support is the density's business (-inf outside)
    check_valid(args);
    args[0].is_param = false;
    double lp;
    if (suffix == "_lpdf" || suffix == "_lpmf" || suffix == "_lupdf" || suffix == "_lupmf") {
      lp = d->lpdf_f64(args.data(), false);
    } else {
      const auto fn = suffix == "_lccdf" ? d->lccdf_f64 : d->lcdf_f64;
      if (!fn) fail(e.loc, fmt::format("'{}' is not in exmc's library yet", f));
      lp = fn(args.data(), false);
      if (suffix == "_cdf") lp = std::exp(lp);
    }
    return scalar(lp);
  }
  if (!rng_)
    fail(e.loc, fmt::format("'{}' in {} is not supported: the lowering folds it without a random stream", f,
                            block_));
  // Shape of the draw and the kernel's variate argument.
  Value out;
  std::vector<double> counts;  // multinomial: the variate carries the number of trials
  std::vector<Value> xs;  // the kernel's arguments after the variate
  if (fam == "lkj_corr_cholesky" || fam == "lkj_corr") {
    if (a.size() != 2) fail(e.loc, fmt::format("'{}' takes (K, eta)", f));
    const double k = a[0].s;
    if (!a[0].is_int || k < 1) fail(e.loc, fmt::format("{}: K must be a positive int, found {}", f, num(k)));
    out = make_matrix(size_t(k), size_t(k));
    xs = {a[1]};
  } else if (fam == "multinomial" || fam == "multinomial_logit") {
    if (a.size() != 2 || !a[1].is_scalar() || !a[1].is_int || a[1].s < 0)
      fail(e.loc, fmt::format("'{}' takes (theta, N) with N a non-negative int", f));
    Value th = a[0];
    if (fam == "multinomial_logit") {
      const double l = log_sum_exp(th.data(), th.size());
      for (size_t i = 0; i < th.size(); ++i) th[i] = std::exp(th[i] - l);
    }
    out = make_array(th.size(), true);
    counts.assign(th.size(), 0.0);
    if (!counts.empty()) counts[0] = a[1].s;
    xs = {th};
  } else {
    if (a.size() + 1 != K)
      fail(e.loc, fmt::format("'{}' takes {} arguments ({}), found {}", f, K - 1,
                              fmt::join(d->arg_names.begin() + 1, d->arg_names.end(), ", "), a.size()));
    xs = a;
    if (fam == "categorical" || fam == "categorical_logit") {
      out = scalar(0, true);
    } else if (fam == "ordered_logistic" || fam == "ordered_probit") {
      out = xs[0].is_scalar() ? scalar(0, true) : make_array(xs[0].size(), true);
    } else if (fam == "dirichlet") {
      out = make_vector(xs[0].size());
    } else if (fam == "multi_normal" || fam == "multi_normal_cholesky" || fam == "multi_student_t") {
      const Value& mu = fam == "multi_student_t" ? xs[1] : xs[0];
      out = make(Inner::Vector, mu.arr, mu.length(), 1, false);
    } else if (fam == "wishart" || fam == "inv_wishart") {
      out = make_matrix(xs[1].rows, xs[1].cols);
    } else if (d->multivariate || fam == "gaussian_random_walk" || fam == "ar1" || fam == "normal_mixture") {
      fail(e.loc, fmt::format("'{}' is not supported in {} yet", f, block_));
    } else {
      // Univariate: one draw per element of the broadcast length, an array when any argument is
      // a container (as Stan's vectorised _rng).
      size_t n = 1;
      bool any_container = false;
      for (const auto& x : xs) {
        if (!x.is_scalar()) {
          any_container = true;
          if (x.size() != 1) n = x.size();
        }
      }
      out = any_container ? make_array(n, d->discrete) : scalar(0, d->discrete);
    }
  }
  args.push_back(kernel_arg(out));
  if (!counts.empty()) args[0].val = counts.data();
  if (out.inner == Inner::Matrix) {
    args[0].rows = out.rows;
    args[0].cols = out.cols;
  }
  for (const auto& x : xs) args.push_back(kernel_arg(x));
  args[0].is_param = true;  // no variate values to check
  check_valid(args);
  args[0].is_param = false;
  d->rng(args.data(), *rng_, out.data());
  out.is_int = d->discrete;
  return out;
}


// ---- built-in functions ----

using Fn = Value (*)(Interp&, std::vector<Value>&, const Expr&);

void arity(Interp& in, const std::vector<Value>& a, const Expr& e, size_t lo, size_t hi) {
  if (a.size() < lo || a.size() > hi)
    in.fail(e.loc, lo == hi ? fmt::format("'{}' takes {} argument{}, found {}", e.text, lo, lo == 1 ? "" : "s", a.size())
                            : fmt::format("'{}' takes {} to {} arguments, found {}", e.text, lo, hi, a.size()));
}
const Value& need_vector_like(Interp& in, const Value& a, const Expr& e, size_t i) {
  if (!a.arr.empty() || a.inner == Inner::Scalar) {
    if (a.arr.size() == 1 && a.inner == Inner::Scalar) return a;  // a 1-D array works as well
    in.fail(e.args[i].loc, fmt::format("'{}' needs a vector, row vector or 1-D array, found {}", e.text, type_str(a)));
  }
  if (a.inner == Inner::Matrix) in.fail(e.args[i].loc, fmt::format("'{}' needs a vector, found a matrix", e.text));
  return a;
}
const Value& need_matrix(Interp& in, const Value& a, const Expr& e, size_t i, bool square = false) {
  if (!a.arr.empty() || a.inner != Inner::Matrix)
    in.fail(e.args[i].loc, fmt::format("'{}' needs a matrix, found {}", e.text, type_str(a)));
  if (square && a.rows != a.cols)
    in.fail(e.args[i].loc, fmt::format("'{}' needs a square matrix, found {}", e.text, type_str(a)));
  return a;
}
size_t need_size(Interp& in, const Value& a, const Expr& e, size_t i) {
  if (!a.is_scalar() || !a.is_int || a.s < 0)
    in.fail(e.args[i].loc, fmt::format("'{}' needs a non-negative int here, found {}", e.text,
                                       a.is_scalar() ? num(a.s) : type_str(a)));
  return static_cast<size_t>(a.s);
}
// append_row (stack vertically; two vectors give a vector) / append_col (side by side; two
// row vectors give a row vector); a scalar counts as a 1x1 block.
Value append_matrices(Interp& in, std::vector<Value>& a, const Expr& e, bool rows) {
  arity(in, a, e, 2, 2);
  const char* fn = rows ? "append_row" : "append_col";
  auto block = [&](const Value& x, size_t i) -> Eigen::MatrixXd {
    if (x.is_scalar()) return Eigen::MatrixXd::Constant(1, 1, x.s);
    if (!x.arr.empty()) in.fail(e.args[i].loc, fmt::format("{} takes vectors, row vectors and matrices", fn));
    return mat(x);
  };
  const Eigen::MatrixXd A = block(a[0], 0), B = block(a[1], 1);
  if (rows ? A.cols() != B.cols() : A.rows() != B.rows())
    in.fail(e.loc, fmt::format("{}: {} and {} differ in {}", fn, type_str(a[0]), type_str(a[1]), rows ? "columns" : "rows"));
  Eigen::MatrixXd m(rows ? A.rows() + B.rows() : A.rows(), rows ? A.cols() : A.cols() + B.cols());
  m << A, B;
  const Inner keep = rows ? Inner::Vector : Inner::RowVector;
  const bool stays = (a[0].is_scalar() || a[0].inner == keep) && (a[1].is_scalar() || a[1].inner == keep);
  return from_eigen(m, stays ? keep : Inner::Matrix);
}
// head(x, n) / tail(x, n): the first / last n elements (of a vector) or n entries (of an array).
Value leading_or_trailing(Interp& in, std::vector<Value>& a, const Expr& e, bool trailing) {
  arity(in, a, e, 2, 2);
  const Value& x = a[0];
  const size_t n = need_size(in, a[1], e, 1);
  const size_t len = x.arr.empty() ? x.length() : x.arr[0], each = x.size() / std::max<size_t>(len, 1);
  if (n > len) in.fail(e.loc, fmt::format("{}: {} elements asked of {}", trailing ? "tail" : "head", n, len));
  Value r = x;
  if (x.arr.empty()) (x.inner == Inner::RowVector ? r.cols : r.rows) = n;
  else r.arr[0] = n;
  if (trailing) r.v.assign(x.v.end() - long(n * each), x.v.end());
  else r.v.assign(x.v.begin(), x.v.begin() + long(n * each));
  return r;
}
double need_scalar(Interp& in, const Value& a, const Expr& e, size_t i) {
  if (!a.is_scalar()) in.fail(e.args[i].loc, fmt::format("'{}' needs an int or real here, found {}", e.text, type_str(a)));
  return a.s;
}
// `shape` holding `vals` (same number of elements).
Value with_values(const Value& shape, std::vector<double> vals, bool is_int) {
  Value r = shape;
  r.is_int = is_int;
  if (r.is_scalar()) r.s = vals[0];
  else r.v = std::move(vals);
  return r;
}

using UnaryD = double (*)(double);
const std::unordered_map<std::string, UnaryD>& unary_table() {
  static const std::unordered_map<std::string, UnaryD> table = {
      {"exp", [](double x) { return std::exp(x); }},
      {"log", [](double x) { return std::log(x); }},
      {"sqrt", [](double x) { return std::sqrt(x); }},
      {"cbrt", [](double x) { return std::cbrt(x); }},
      {"square", [](double x) { return x * x; }},
      {"inv", [](double x) { return 1.0 / x; }},
      {"inv_sqrt", [](double x) { return 1.0 / std::sqrt(x); }},
      {"inv_square", [](double x) { return 1.0 / (x * x); }},
      {"log2", [](double x) { return std::log2(x); }},
      {"log10", [](double x) { return std::log10(x); }},
      {"exp2", [](double x) { return std::exp2(x); }},
      {"expm1", [](double x) { return std::expm1(x); }},
      {"log1p", [](double x) { return std::log1p(x); }},
      {"log1m", [](double x) { return std::log1p(-x); }},
      {"log1p_exp", [](double x) { return log1p_exp(x); }},
      {"log1m_exp", [](double x) { return log1m_exp(x); }},
      {"inv_logit", [](double x) { return inv_logit(x); }},
      {"logit", [](double x) { return std::log(x / (1 - x)); }},
      {"log_inv_logit", [](double x) { return -log1p_exp(-x); }},
      {"log1m_inv_logit", [](double x) { return -log1p_exp(x); }},
      {"inv_cloglog", [](double x) { return -std::expm1(-std::exp(x)); }},
      {"Phi", [](double x) { return Phi(x); }},
      {"Phi_approx", [](double x) { return inv_logit(0.07056 * x * x * x + 1.5976 * x); }},
      {"inv_Phi", [](double x) { return inv_Phi(x); }},
      {"std_normal_qf", [](double x) { return inv_Phi(x); }},
      {"std_normal_log_qf", [](double x) { return inv_Phi(std::exp(x)); }},
      {"erf", [](double x) { return math::erf(x); }},
      {"erfc", [](double x) { return math::erfc(x); }},
      {"lgamma", [](double x) { return math::lgamma(x); }},
      {"tgamma", [](double x) { return math::tgamma(x); }},
      {"digamma", [](double x) { return math::digamma(x); }},
      {"trigamma", [](double x) { return math::trigamma(x); }},
      {"sin", [](double x) { return std::sin(x); }},
      {"cos", [](double x) { return std::cos(x); }},
      {"tan", [](double x) { return std::tan(x); }},
      {"asin", [](double x) { return std::asin(x); }},
      {"acos", [](double x) { return std::acos(x); }},
      {"atan", [](double x) { return std::atan(x); }},
      {"sinh", [](double x) { return std::sinh(x); }},
      {"cosh", [](double x) { return std::cosh(x); }},
      {"tanh", [](double x) { return std::tanh(x); }},
      {"asinh", [](double x) { return std::asinh(x); }},
      {"acosh", [](double x) { return std::acosh(x); }},
      {"atanh", [](double x) { return std::atanh(x); }},
      {"fabs", [](double x) { return std::fabs(x); }},
      {"floor", [](double x) { return std::floor(x); }},
      {"ceil", [](double x) { return std::ceil(x); }},
      {"round", [](double x) { return std::round(x); }},
      {"trunc", [](double x) { return std::trunc(x); }},
      {"step", [](double x) { return x < 0 ? 0.0 : 1.0; }},
  };
  return table;
}

using BinaryD = double (*)(double, double);
const std::unordered_map<std::string, BinaryD>& binary_table() {
  static const std::unordered_map<std::string, BinaryD> table = {
      {"pow", [](double x, double y) { return std::pow(x, y); }},
      {"fmin", [](double x, double y) { return std::fmin(x, y); }},
      {"fmax", [](double x, double y) { return std::fmax(x, y); }},
      {"fmod", [](double x, double y) { return std::fmod(x, y); }},
      {"fdim", [](double x, double y) { return std::fdim(x, y); }},
      {"hypot", [](double x, double y) { return std::hypot(x, y); }},
      {"atan2", [](double x, double y) { return std::atan2(x, y); }},
      {"lbeta", [](double x, double y) { return math::lbeta(x, y); }},
      {"beta", [](double x, double y) { return std::exp(math::lbeta(x, y)); }},
      {"lchoose", [](double x, double y) { return lchoose(x, y); }},
      {"binomial_coefficient_log", [](double x, double y) { return lchoose(x, y); }},
      {"log_diff_exp", [](double x, double y) { return log_diff_exp(x, y); }},
      {"lmultiply", [](double x, double y) { return x == 0 && y == 0 ? 0.0 : x * std::log(y); }},
      {"multiply_log", [](double x, double y) { return x == 0 && y == 0 ? 0.0 : x * std::log(y); }},
      {"gamma_p", [](double x, double y) { return math::gamma_p(x, y); }},
      {"gamma_q", [](double x, double y) { return math::gamma_q(x, y); }},
      {"binary_log_loss", [](double y, double p) { return y != 0 ? -std::log(p) : -std::log1p(-p); }},
      {"falling_factorial", [](double x, double n) { return std::exp(math::lgamma(x + 1) - math::lgamma(x - n + 1)); }},
      {"log_falling_factorial", [](double x, double n) { return math::lgamma(x + 1) - math::lgamma(x - n + 1); }},
      {"rising_factorial", [](double x, double n) { return std::exp(math::lgamma(x + n) - math::lgamma(x)); }},
      {"log_rising_factorial", [](double x, double n) { return math::lgamma(x + n) - math::lgamma(x); }},
      {"log_modified_bessel_first_kind",
       [](double v, double z) { return std::log(math::cyl_bessel_i(v, z)); }},
      {"modified_bessel_first_kind", [](double v, double z) { return math::cyl_bessel_i(v, z); }},
  };
  return table;
}

// Reductions over every element of any container.
Value reduce(Interp& in, std::vector<Value>& a, const Expr& e) {
  const std::string& f = e.text;
  const Value& x = a[0];
  const double* p = x.data();
  const size_t n = x.size();
  if (f == "sum") return scalar(std::accumulate(p, p + n, 0.0), x.is_int);
  if (f == "prod") return scalar(std::accumulate(p, p + n, 1.0, std::multiplies<>()), x.is_int);
  if (f == "max" || f == "min") {
    if (n == 0) {
      if (x.is_int) in.fail(e.loc, fmt::format("'{}' of an empty int container", f));
      return scalar(f == "max" ? -kInf : kInf);
    }
    return scalar(f == "max" ? *std::max_element(p, p + n) : *std::min_element(p, p + n), x.is_int);
  }
  if (f == "log_sum_exp") return scalar(log_sum_exp(p, n));
  if (f == "mean") {
    if (n == 0) in.fail(e.loc, "'mean' of an empty container");
    return scalar(std::accumulate(p, p + n, 0.0) / double(n));
  }
  if (f == "variance" || f == "sd") {
    if (n == 0) in.fail(e.loc, fmt::format("'{}' of an empty container", f));
    if (n == 1) return scalar(0);
    const double m = std::accumulate(p, p + n, 0.0) / double(n);
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += (p[i] - m) * (p[i] - m);
    const double var = s / double(n - 1);
    return scalar(f == "sd" ? std::sqrt(var) : var);
  }
  if (f == "dot_self" || f == "squared_norm") {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += p[i] * p[i];
    return scalar(s);
  }
  if (f == "norm2") {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += p[i] * p[i];
    return scalar(std::sqrt(s));
  }
  if (f == "norm1") {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += std::fabs(p[i]);
    return scalar(s);
  }
  if (f == "num_elements") return scalar(double(n), true);
  in.fail(e.loc, fmt::format("'{}' is not a reduction", f));
}

const std::unordered_map<std::string, Fn>& fn_table() {
  static const std::unordered_map<std::string, Fn> table = {
      // constants
      {"pi", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 0, 0); return scalar(M_PI); }},
      {"e", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 0, 0); return scalar(M_E); }},
      {"sqrt2", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 0, 0); return scalar(M_SQRT2); }},
      {"not_a_number", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 0, 0); return scalar(kNaN); }},
      {"positive_infinity", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 0, 0); return scalar(kInf); }},
      {"negative_infinity", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 0, 0); return scalar(-kInf); }},
      {"machine_precision", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 0, 0);
         return scalar(std::numeric_limits<double>::epsilon());
       }},
      // ints and shapes
      {"size", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Value& x = a[0];
         if (!x.arr.empty()) return scalar(double(x.arr[0]), true);
         return scalar(double(x.is_scalar() ? 1 : x.inner_size()), true);
       }},
      {"num_elements", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"rows", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         return scalar(double(a[0].inner == Inner::Vector ? a[0].rows : a[0].inner == Inner::RowVector ? 1 : a[0].rows), true);
       }},
      {"cols", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         return scalar(double(a[0].cols), true);
       }},
      {"dims", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const std::vector<size_t> d = a[0].full_dims();
         Value r = make_array(d.size(), true);
         for (size_t i = 0; i < d.size(); ++i) r.v[i] = double(d[i]);
         return r;
       }},
      {"to_int", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = like(a[0], true);
         for (size_t i = 0; i < r.size(); ++i) {
           if (!(std::fabs(r[i]) < 2147483648.0)) in.fail(e.loc, fmt::format("to_int: {} is outside the int range", num(r[i])));
           r[i] = std::trunc(r[i]);
         }
         return r;
       }},
      {"int_step", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         return scalar(need_scalar(in, a[0], e, 0) > 0 ? 1 : 0, true);
       }},
      {"is_inf", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         return scalar(std::isinf(need_scalar(in, a[0], e, 0)) ? 1 : 0, true);
       }},
      {"is_nan", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         return scalar(std::isnan(need_scalar(in, a[0], e, 0)) ? 1 : 0, true);
       }},
      {"abs", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = a[0];
         for (size_t i = 0; i < r.size(); ++i) r[i] = std::fabs(r[i]);
         return r;
       }},
      {"choose", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const double n = need_scalar(in, a[0], e, 0), k = need_scalar(in, a[1], e, 1);
         if (k > n) return scalar(0, true);
         return scalar(std::round(std::exp(lchoose(n, k))), true);
       }},
      {"fma", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 3, 3);
         return scalar(std::fma(need_scalar(in, a[0], e, 0), need_scalar(in, a[1], e, 1), need_scalar(in, a[2], e, 2)));
       }},
      {"inc_beta", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 3, 3);
         return scalar(math::ibeta(need_scalar(in, a[0], e, 0), need_scalar(in, a[1], e, 1), need_scalar(in, a[2], e, 2)));
       }},
      // reductions
      {"sum", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"prod", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"mean", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"variance", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"sd", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"dot_self", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"norm1", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"norm2", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return reduce(in, a, e); }},
      {"max", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 2);
         if (a.size() == 1) return reduce(in, a, e);
         return scalar(std::max(need_scalar(in, a[0], e, 0), need_scalar(in, a[1], e, 1)), a[0].is_int && a[1].is_int);
       }},
      {"min", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 2);
         if (a.size() == 1) return reduce(in, a, e);
         return scalar(std::min(need_scalar(in, a[0], e, 0), need_scalar(in, a[1], e, 1)), a[0].is_int && a[1].is_int);
       }},
      {"log_sum_exp", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 2);
         if (a.size() == 1) return reduce(in, a, e);
         const double x[2] = {need_scalar(in, a[0], e, 0), need_scalar(in, a[1], e, 1)};
         return scalar(log_sum_exp(x, 2));
       }},
      {"log_mix", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 3);
         if (a.size() == 3) {
           const double t = need_scalar(in, a[0], e, 0);
           const double x[2] = {std::log(t) + need_scalar(in, a[1], e, 1), std::log1p(-t) + need_scalar(in, a[2], e, 2)};
           return scalar(log_sum_exp(x, 2));
         }
         // log_mix(theta, lambda): log sum_k theta_k exp(lambda_k).
         if (a[0].size() != a[1].size())
           in.fail(e.loc, fmt::format("log_mix: theta has {} elements, lambda {}", a[0].size(), a[1].size()));
         std::vector<double> x(a[0].size());
         for (size_t k = 0; k < x.size(); ++k) x[k] = std::log(a[0][k]) + a[1][k];
         return scalar(log_sum_exp(x.data(), x.size()));
       }},
      {"dot_product", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         if (a[0].size() != a[1].size())
           in.fail(e.loc, fmt::format("dot_product of sizes {} and {}", a[0].size(), a[1].size()));
         double s = 0;
         for (size_t i = 0; i < a[0].size(); ++i) s += a[0][i] * a[1][i];
         return scalar(s);
       }},
      {"squared_distance", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         if (a[0].size() != a[1].size()) in.fail(e.loc, fmt::format("{} of sizes {} and {}", e.text, a[0].size(), a[1].size()));
         double s = 0;
         for (size_t i = 0; i < a[0].size(); ++i) s += (a[0][i] - a[1][i]) * (a[0][i] - a[1][i]);
         return scalar(s);
       }},
      {"distance", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         if (a[0].size() != a[1].size()) in.fail(e.loc, fmt::format("{} of sizes {} and {}", e.text, a[0].size(), a[1].size()));
         double s = 0;
         for (size_t i = 0; i < a[0].size(); ++i) s += (a[0][i] - a[1][i]) * (a[0][i] - a[1][i]);
         return scalar(std::sqrt(s));
       }},
      // constructors
      {"rep_array", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 4);
         std::vector<size_t> d;
         for (size_t i = 1; i < a.size(); ++i) d.push_back(need_size(in, a[i], e, i));
         Value r = a[0];
         const size_t reps = std::accumulate(d.begin(), d.end(), size_t(1), std::multiplies<>());
         r.arr.insert(r.arr.begin(), d.begin(), d.end());
         std::vector<double> vals;
         vals.reserve(reps * a[0].size());
         for (size_t k = 0; k < reps; ++k) vals.insert(vals.end(), a[0].data(), a[0].data() + a[0].size());
         r.v = std::move(vals);
         return r;
       }},
      {"rep_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         return make_vector(need_size(in, a[1], e, 1), need_scalar(in, a[0], e, 0));
       }},
      {"rep_row_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         return make_row_vector(need_size(in, a[1], e, 1), need_scalar(in, a[0], e, 0));
       }},
      {"rep_matrix", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 3);
         if (a.size() == 3) return make_matrix(need_size(in, a[1], e, 1), need_size(in, a[2], e, 2), need_scalar(in, a[0], e, 0));
         const size_t n = need_size(in, a[1], e, 1);
         if (a[0].inner == Inner::Vector && a[0].arr.empty()) {  // n copies of the column
           Value r = make_matrix(a[0].rows, n);
           for (size_t j = 0; j < n; ++j) std::copy(a[0].v.begin(), a[0].v.end(), r.v.begin() + long(j * a[0].rows));
           return r;
         }
         if (a[0].inner == Inner::RowVector && a[0].arr.empty()) {  // n copies of the row
           Value r = make_matrix(n, a[0].cols);
           for (size_t j = 0; j < a[0].cols; ++j)
             for (size_t i = 0; i < n; ++i) r.v[i + n * j] = a[0].v[j];
           return r;
         }
         in.fail(e.loc, fmt::format("rep_matrix cannot repeat {}", type_str(a[0])));
       }},
      {"zeros_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return make_vector(need_size(in, a[0], e, 0), 0); }},
      {"ones_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return make_vector(need_size(in, a[0], e, 0), 1); }},
      {"zeros_row_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return make_row_vector(need_size(in, a[0], e, 0), 0); }},
      {"ones_row_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return make_row_vector(need_size(in, a[0], e, 0), 1); }},
      {"zeros_array", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return make_array(need_size(in, a[0], e, 0), false, 0); }},
      {"ones_array", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return make_array(need_size(in, a[0], e, 0), false, 1); }},
      {"zeros_int_array", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return make_array(need_size(in, a[0], e, 0), true, 0); }},
      {"ones_int_array", [](Interp& in, std::vector<Value>& a, const Expr& e) { arity(in, a, e, 1, 1); return make_array(need_size(in, a[0], e, 0), true, 1); }},
      {"uniform_simplex", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const size_t n = need_size(in, a[0], e, 0);
         return make_vector(n, 1.0 / double(n));
       }},
      {"linspaced_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 3, 3);
         const size_t n = need_size(in, a[0], e, 0);
         const double lo = need_scalar(in, a[1], e, 1), hi = need_scalar(in, a[2], e, 2);
         Value r = make_vector(n);
         for (size_t i = 0; i < n; ++i) r.v[i] = n == 1 ? hi : lo + (hi - lo) * double(i) / double(n - 1);
         return r;
       }},
      {"linspaced_array", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 3, 3);
         const size_t n = need_size(in, a[0], e, 0);
         const double lo = need_scalar(in, a[1], e, 1), hi = need_scalar(in, a[2], e, 2);
         Value r = make_array(n, false);
         for (size_t i = 0; i < n; ++i) r.v[i] = n == 1 ? hi : lo + (hi - lo) * double(i) / double(n - 1);
         return r;
       }},
      {"linspaced_int_array", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 3, 3);
         const size_t n = need_size(in, a[0], e, 0);
         const double lo = need_scalar(in, a[1], e, 1), hi = need_scalar(in, a[2], e, 2);
         Value r = make_array(n, true);
         const double by = n <= 1 ? 0 : std::floor((hi - lo) / double(n - 1));
         for (size_t i = 0; i < n; ++i) r.v[i] = lo + by * double(i);
         return r;
       }},
      {"one_hot_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const size_t n = need_size(in, a[0], e, 0), k = need_size(in, a[1], e, 1);
         if (k < 1 || k > n) in.fail(e.loc, fmt::format("one_hot_vector: index {} outside 1..{}", k, n));
         Value r = make_vector(n);
         r.v[k - 1] = 1;
         return r;
       }},
      {"one_hot_int_array", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const size_t n = need_size(in, a[0], e, 0), k = need_size(in, a[1], e, 1);
         if (k < 1 || k > n) in.fail(e.loc, fmt::format("one_hot_int_array: index {} outside 1..{}", k, n));
         Value r = make_array(n, true);
         r.v[k - 1] = 1;
         return r;
       }},
      {"identity_matrix", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const size_t n = need_size(in, a[0], e, 0);
         Value r = make_matrix(n, n);
         for (size_t i = 0; i < n; ++i) r.v[i * (n + 1)] = 1;
         return r;
       }},
      {"diag_matrix", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Value& x = need_vector_like(in, a[0], e, 0);
         const size_t n = x.size();
         Value r = make_matrix(n, n);
         for (size_t i = 0; i < n; ++i) r.v[i * (n + 1)] = x[i];
         return r;
       }},
      {"diagonal", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Value& m = need_matrix(in, a[0], e, 0);
         const size_t n = std::min(m.rows, m.cols);
         Value r = make_vector(n);
         for (size_t i = 0; i < n; ++i) r.v[i] = m.v[i * (m.rows + 1)];
         return r;
       }},
      {"to_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = make_vector(a[0].size());
         std::copy(a[0].data(), a[0].data() + a[0].size(), r.v.begin());
         return r;
       }},
      {"to_row_vector", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = make_row_vector(a[0].size());
         std::copy(a[0].data(), a[0].data() + a[0].size(), r.v.begin());
         return r;
       }},
      {"to_array_1d", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         // Arrays flatten row-major, matrices column-major: the internal order of both.
         Value r = make_array(a[0].size(), a[0].is_int);
         std::copy(a[0].data(), a[0].data() + a[0].size(), r.v.begin());
         return r;
       }},
      {"to_array_2d", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Value& m = need_matrix(in, a[0], e, 0);
         Value r = make(Inner::Scalar, {m.rows, m.cols}, 1, 1, false);
         for (size_t i = 0; i < m.rows; ++i)
           for (size_t j = 0; j < m.cols; ++j) r.v[i * m.cols + j] = m.v[i + m.rows * j];
         return r;
       }},
      {"to_matrix", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 4);
         const Value& x = a[0];
         if (a.size() == 1) {
           if (x.arr.empty() && x.inner == Inner::Matrix) return x;
           if (x.arr.empty() && x.inner == Inner::Vector) return with_values(make_matrix(x.rows, 1), x.v, false);
           if (x.arr.empty() && x.inner == Inner::RowVector) return with_values(make_matrix(1, x.cols), x.v, false);
           if (x.arr.size() == 2 && x.inner == Inner::Scalar) {
             Value r = make_matrix(x.arr[0], x.arr[1]);
             for (size_t i = 0; i < x.arr[0]; ++i)
               for (size_t j = 0; j < x.arr[1]; ++j) r.v[i + x.arr[0] * j] = x.v[i * x.arr[1] + j];
             return r;
           }
           if (x.arr.size() == 1 && x.inner == Inner::RowVector) {
             Value r = make_matrix(x.arr[0], x.cols);
             for (size_t i = 0; i < x.arr[0]; ++i)
               for (size_t j = 0; j < x.cols; ++j) r.v[i + x.arr[0] * j] = x.v[i * x.cols + j];
             return r;
           }
           in.fail(e.loc, fmt::format("to_matrix cannot convert {}", type_str(x)));
         }
         if (a.size() < 3) in.fail(e.loc, "to_matrix takes (x), (x, m, n) or (x, m, n, col_major)");
         const size_t m = need_size(in, a[1], e, 1), n = need_size(in, a[2], e, 2);
         if (m * n != x.size())
           in.fail(e.loc, fmt::format("to_matrix: {} elements cannot fill a {} x {} matrix", x.size(), m, n));
         const bool col_major = a.size() < 4 || need_scalar(in, a[3], e, 3) != 0;
         Value r = make_matrix(m, n);
         for (size_t k = 0; k < m * n; ++k) {
           if (col_major) r.v[k] = x[k];
           else r.v[(k / n) + m * (k % n)] = x[k];
         }
         return r;
       }},
      // slices and concatenation
      {"head", [](Interp& in, std::vector<Value>& a, const Expr& e) { return leading_or_trailing(in, a, e, false); }},
      {"tail", [](Interp& in, std::vector<Value>& a, const Expr& e) { return leading_or_trailing(in, a, e, true); }},
      {"segment", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 3, 3);
         const Value& x = a[0];
         const size_t i = need_size(in, a[1], e, 1), n = need_size(in, a[2], e, 2);
         const size_t len = x.arr.empty() ? x.length() : x.arr[0], each = x.size() / std::max<size_t>(len, 1);
         if (i < 1 || i + n - 1 > len) in.fail(e.loc, fmt::format("segment: elements {}..{} asked of {}", i, i + n - 1, len));
         Value r = x;
         if (x.arr.empty()) (x.inner == Inner::RowVector ? r.cols : r.rows) = n;
         else r.arr[0] = n;
         r.v.assign(x.v.begin() + long((i - 1) * each), x.v.begin() + long((i - 1 + n) * each));
         return r;
       }},
      {"reverse", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = a[0];
         const size_t len = r.arr.empty() ? r.length() : r.arr[0], each = r.size() / std::max<size_t>(len, 1);
         for (size_t i = 0; i < len; ++i)
           std::copy(a[0].v.begin() + long((len - 1 - i) * each), a[0].v.begin() + long((len - i) * each),
                     r.v.begin() + long(i * each));
         return r;
       }},
      {"sort_asc", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = need_vector_like(in, a[0], e, 0);
         std::sort(r.v.begin(), r.v.end());
         return r;
       }},
      {"sort_desc", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = need_vector_like(in, a[0], e, 0);
         std::sort(r.v.begin(), r.v.end(), std::greater<>());
         return r;
       }},
      {"sort_indices_asc", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Value& x = need_vector_like(in, a[0], e, 0);
         std::vector<size_t> idx(x.size());
         std::iota(idx.begin(), idx.end(), size_t(0));
         std::stable_sort(idx.begin(), idx.end(), [&](size_t i, size_t j) { return x.v[i] < x.v[j]; });
         Value r = make_array(idx.size(), true);
         for (size_t i = 0; i < idx.size(); ++i) r.v[i] = double(idx[i] + 1);
         return r;
       }},
      {"sort_indices_desc", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Value& x = need_vector_like(in, a[0], e, 0);
         std::vector<size_t> idx(x.size());
         std::iota(idx.begin(), idx.end(), size_t(0));
         std::stable_sort(idx.begin(), idx.end(), [&](size_t i, size_t j) { return x.v[i] > x.v[j]; });
         Value r = make_array(idx.size(), true);
         for (size_t i = 0; i < idx.size(); ++i) r.v[i] = double(idx[i] + 1);
         return r;
       }},
      {"rank", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const Value& x = need_vector_like(in, a[0], e, 0);
         const size_t s = need_size(in, a[1], e, 1);
         if (s < 1 || s > x.size()) in.fail(e.loc, fmt::format("rank: index {} outside 1..{}", s, x.size()));
         double c = 0;
         for (double y : x.v) c += y < x.v[s - 1] ? 1 : 0;
         return scalar(c, true);
       }},
      {"cumulative_sum", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = need_vector_like(in, a[0], e, 0);
         for (size_t i = 1; i < r.v.size(); ++i) r.v[i] += r.v[i - 1];
         return r;
       }},
      {"softmax", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = like(need_vector_like(in, a[0], e, 0), false);
         const double l = log_sum_exp(r.v.data(), r.v.size());
         for (double& x : r.v) x = std::exp(x - l);
         return r;
       }},
      {"log_softmax", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Value r = like(need_vector_like(in, a[0], e, 0), false);
         const double l = log_sum_exp(r.v.data(), r.v.size());
         for (double& x : r.v) x -= l;
         return r;
       }},
      {"append_array", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         if (a[0].arr.empty() || a[1].arr.empty() || a[0].inner != a[1].inner ||
             std::vector<size_t>(a[0].arr.begin() + 1, a[0].arr.end()) != std::vector<size_t>(a[1].arr.begin() + 1, a[1].arr.end()) ||
             a[0].inner_size() != a[1].inner_size())
           in.fail(e.loc, fmt::format("append_array cannot join {} and {}", type_str(a[0]), type_str(a[1])));
         Value r = a[0];
         r.is_int = a[0].is_int && a[1].is_int;
         r.arr[0] += a[1].arr[0];
         r.v.insert(r.v.end(), a[1].v.begin(), a[1].v.end());
         return r;
       }},
      {"append_row", [](Interp& in, std::vector<Value>& a, const Expr& e) { return append_matrices(in, a, e, true); }},
      {"append_col", [](Interp& in, std::vector<Value>& a, const Expr& e) { return append_matrices(in, a, e, false); }},
      {"col", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const Value& m = need_matrix(in, a[0], e, 0);
         const size_t j = need_size(in, a[1], e, 1);
         if (j < 1 || j > m.cols) in.fail(e.loc, fmt::format("col: column {} outside 1..{}", j, m.cols));
         return from_eigen(mat(m).col(Eigen::Index(j - 1)), Inner::Vector);
       }},
      {"row", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const Value& m = need_matrix(in, a[0], e, 0);
         const size_t i = need_size(in, a[1], e, 1);
         if (i < 1 || i > m.rows) in.fail(e.loc, fmt::format("row: row {} outside 1..{}", i, m.rows));
         return from_eigen(mat(m).row(Eigen::Index(i - 1)), Inner::RowVector);
       }},
      {"block", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 5, 5);
         const Value& m = need_matrix(in, a[0], e, 0);
         const size_t i = need_size(in, a[1], e, 1), j = need_size(in, a[2], e, 2);
         const size_t nr = need_size(in, a[3], e, 3), nc = need_size(in, a[4], e, 4);
         if (i < 1 || j < 1 || i + nr - 1 > m.rows || j + nc - 1 > m.cols)
           in.fail(e.loc, fmt::format("block: rows {}..{}, columns {}..{} outside a {}", i, i + nr - 1, j, j + nc - 1, type_str(m)));
         return from_eigen(mat(m).block(Eigen::Index(i - 1), Eigen::Index(j - 1), Eigen::Index(nr), Eigen::Index(nc)), Inner::Matrix);
       }},
      // linear algebra
      {"cholesky_decompose", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Value& m = need_matrix(in, a[0], e, 0, true);
         Eigen::LLT<Eigen::MatrixXd> llt(mat(m));
         if (llt.info() != Eigen::Success) in.fail(e.loc, "cholesky_decompose: the matrix is not positive definite");
         return from_eigen(llt.matrixL().toDenseMatrix(), Inner::Matrix);
       }},
      {"inverse", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         return from_eigen(mat(need_matrix(in, a[0], e, 0, true)).inverse(), Inner::Matrix);
       }},
      {"inverse_spd", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Value& m = need_matrix(in, a[0], e, 0, true);
         Eigen::LLT<Eigen::MatrixXd> llt(mat(m));
         if (llt.info() != Eigen::Success) in.fail(e.loc, "inverse_spd: the matrix is not positive definite");
         return from_eigen(llt.solve(Eigen::MatrixXd::Identity(Eigen::Index(m.rows), Eigen::Index(m.rows))), Inner::Matrix);
       }},
      {"determinant", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         return scalar(mat(need_matrix(in, a[0], e, 0, true)).determinant());
       }},
      {"log_determinant", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Eigen::MatrixXd lu = mat(need_matrix(in, a[0], e, 0, true)).partialPivLu().matrixLU();
         return scalar(lu.diagonal().array().abs().log().sum());
       }},
      {"trace", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         return scalar(mat(need_matrix(in, a[0], e, 0)).trace());
       }},
      {"tcrossprod", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const MatMap m = mat(need_matrix(in, a[0], e, 0));
         return from_eigen(m * m.transpose(), Inner::Matrix);
       }},
      {"crossprod", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const MatMap m = mat(need_matrix(in, a[0], e, 0));
         return from_eigen(m.transpose() * m, Inner::Matrix);
       }},
      {"multiply_lower_tri_self_transpose", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         const Eigen::MatrixXd L = mat(need_matrix(in, a[0], e, 0)).triangularView<Eigen::Lower>();
         return from_eigen(L * L.transpose(), Inner::Matrix);
       }},
      {"diag_pre_multiply", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const Value& v = need_vector_like(in, a[0], e, 0);
         const Value& m = need_matrix(in, a[1], e, 1);
         if (v.size() != m.rows) in.fail(e.loc, fmt::format("diag_pre_multiply: {} and {}", type_str(v), type_str(m)));
         return from_eigen(Eigen::Map<const Eigen::VectorXd>(v.data(), Eigen::Index(v.size())).asDiagonal() * mat(m), Inner::Matrix);
       }},
      {"diag_post_multiply", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const Value& m = need_matrix(in, a[0], e, 0);
         const Value& v = need_vector_like(in, a[1], e, 1);
         if (v.size() != m.cols) in.fail(e.loc, fmt::format("diag_post_multiply: {} and {}", type_str(m), type_str(v)));
         return from_eigen(mat(m) * Eigen::Map<const Eigen::VectorXd>(v.data(), Eigen::Index(v.size())).asDiagonal(), Inner::Matrix);
       }},
      {"quad_form", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const MatMap A = mat(need_matrix(in, a[0], e, 0, true));
         const MatMap B = mat(a[1]);
         if (B.rows() != A.rows()) in.fail(e.loc, "quad_form: sizes differ");
         const Eigen::MatrixXd q = B.transpose() * A * B;
         return a[1].inner == Inner::Vector ? scalar(q(0, 0)) : from_eigen(q, Inner::Matrix);
       }},
      {"quad_form_diag", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const Value& m = need_matrix(in, a[0], e, 0, true);
         const Value& v = need_vector_like(in, a[1], e, 1);
         if (v.size() != m.rows) in.fail(e.loc, "quad_form_diag: sizes differ");
         const auto d = Eigen::Map<const Eigen::VectorXd>(v.data(), Eigen::Index(v.size())).asDiagonal();
         return from_eigen(d * mat(m) * d, Inner::Matrix);
       }},
      {"add_diag", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         Value m = need_matrix(in, a[0], e, 0);
         const size_t n = std::min(m.rows, m.cols);
         if (!a[1].is_scalar() && a[1].size() != n) in.fail(e.loc, "add_diag: sizes differ");
         for (size_t i = 0; i < n; ++i) m.v[i * (m.rows + 1)] += a[1].is_scalar() ? a[1].s : a[1][i];
         return m;
       }},
      {"mdivide_left", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         return in.binary(Op::LDiv, a[0], a[1], e.loc);
       }},
      {"mdivide_right", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         need_matrix(in, a[1], e, 1, true);
         return in.binary(Op::Div, a[0], a[1], e.loc);
       }},
      {"mdivide_left_tri_low", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const Value& L = need_matrix(in, a[0], e, 0, true);
         if (a[1].rows != L.rows || !a[1].arr.empty() || a[1].is_scalar()) in.fail(e.loc, "mdivide_left_tri_low: sizes differ");
         return from_eigen(mat(L).triangularView<Eigen::Lower>().solve(mat(a[1])), a[1].inner);
       }},
      {"mdivide_right_tri_low", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         const Value& L = need_matrix(in, a[1], e, 1, true);
         if (a[0].cols != L.rows || !a[0].arr.empty() || a[0].is_scalar()) in.fail(e.loc, "mdivide_right_tri_low: sizes differ");
         const Eigen::MatrixXd Lm = mat(L), rhs = mat(a[0]).transpose();
         const Eigen::MatrixXd x = Lm.transpose().triangularView<Eigen::Upper>().solve(rhs).transpose();
         return from_eigen(x, a[0].inner);
       }},
      {"eigenvalues_sym", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(mat(need_matrix(in, a[0], e, 0, true)));
         return from_eigen(es.eigenvalues(), Inner::Vector);
       }},
      {"eigenvectors_sym", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(mat(need_matrix(in, a[0], e, 0, true)));
         return from_eigen(es.eigenvectors(), Inner::Matrix);
       }},
      {"columns_dot_self", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         if (!a[0].arr.empty() || a[0].is_scalar()) in.fail(e.loc, "columns_dot_self needs a vector or matrix");
         return from_eigen(mat(a[0]).colwise().squaredNorm(), Inner::RowVector);
       }},
      {"rows_dot_self", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 1, 1);
         if (!a[0].arr.empty() || a[0].is_scalar()) in.fail(e.loc, "rows_dot_self needs a vector or matrix");
         return from_eigen(mat(a[0]).rowwise().squaredNorm(), Inner::Vector);
       }},
      {"columns_dot_product", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         if (a[0].full_dims() != a[1].full_dims() || !a[0].arr.empty() || a[0].is_scalar())
           in.fail(e.loc, "columns_dot_product needs two vectors or matrices of one shape");
         return from_eigen(mat(a[0]).cwiseProduct(mat(a[1])).colwise().sum(), Inner::RowVector);
       }},
      {"rows_dot_product", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 2, 2);
         if (a[0].full_dims() != a[1].full_dims() || !a[0].arr.empty() || a[0].is_scalar())
           in.fail(e.loc, "rows_dot_product needs two vectors or matrices of one shape");
         return from_eigen(mat(a[0]).cwiseProduct(mat(a[1])).rowwise().sum(), Inner::Vector);
       }},
      {"gp_exp_quad_cov", [](Interp& in, std::vector<Value>& a, const Expr& e) {
         arity(in, a, e, 3, 3);
         const Value& x = a[0];
         if (x.arr.size() != 1) in.fail(e.loc, fmt::format("gp_exp_quad_cov needs an array of reals or vectors, found {}", type_str(x)));
         const size_t n = x.arr[0], d = x.inner_size();
         const double s2 = need_scalar(in, a[1], e, 1) * a[1].s, l = need_scalar(in, a[2], e, 2);
         Value r = make_matrix(n, n);
         for (size_t i = 0; i < n; ++i)
           for (size_t j = 0; j < n; ++j) {
             double sq = 0;
             for (size_t k = 0; k < d; ++k) sq += (x.v[i * d + k] - x.v[j * d + k]) * (x.v[i * d + k] - x.v[j * d + k]);
             r.v[i + n * j] = s2 * std::exp(-0.5 * sq / (l * l));
           }
         return r;
       }},
  };
  return table;
}

// What a call resolves to: a user function, a distribution function, or a built-in.
void resolve_call(const GqState& st, const Expr& e, NodeInfo& ni) {
  const std::string& f = e.text;
  if (auto uf = st.functions.find(f); uf != st.functions.end()) {
    ni.call = NodeInfo::Call::User;
    ni.user = &uf->second;
    return;
  }
  for (const char* suf : {"_lpdf", "_lpmf", "_lupdf", "_lupmf", "_rng", "_lcdf", "_lccdf", "_cdf"}) {
    const std::string suffix(suf);
    if (!ends_with(f, suffix)) continue;
    const std::string fam = f.substr(0, f.size() - suffix.size());
    if (!dist::find_dist(fam) && !is_builtin_distribution(fam)) continue;
    ni.call = NodeInfo::Call::Dist;
    ni.fam = fam;
    ni.suffix = suffix;
    ni.dist = dist::find_dist(fam == "multinomial_logit" && suffix == "_rng" ? "multinomial" : fam);
    return;
  }
  if (auto it = unary_table().find(f); it != unary_table().end()) {
    ni.call = NodeInfo::Call::Unary;
    ni.un = it->second;
  } else if (auto b = binary_table().find(f); b != binary_table().end()) {
    ni.call = NodeInfo::Call::Binary;
    ni.bin = b->second;
  } else if (auto t = fn_table().find(f); t != fn_table().end()) {
    ni.call = NodeInfo::Call::Table;
    ni.fn = t->second;
  }
}

// Interns the program's identifiers and resolves every expression node once.
class Resolver {
 public:
  explicit Resolver(GqState& st) : st_(st) {}
  void name(const std::string& n) {
    if (st_.sym_ids.emplace(n, int(st_.sym_names.size())).second) st_.sym_names.push_back(n);
  }
  void expr(const Expr& e) {
    NodeInfo& ni = st_.info.insert(&e);
    switch (e.kind) {
      case ExprKind::IntLit:
      case ExprKind::RealLit: ni.lit = std::stod(e.text); break;
      case ExprKind::Var:
        name(e.text);
        ni.sym = st_.sym_ids.at(e.text);
        break;
      case ExprKind::Binary: ni.op = op_code(e.text); break;
      case ExprKind::Call:
      case ExprKind::CondCall: resolve_call(st_, e, ni); break;
      default: break;
    }
    for (const auto& a : e.args) expr(a);
    for (const auto& ix : e.indices)
      for (const auto& b : ix.bounds) expr(b);
  }
  void opt(const std::optional<Expr>& e) {
    if (e) expr(*e);
  }
  void decl(const VarDecl& d) {
    name(d.name);
    for (const auto& e : d.type.array_dims) expr(e);
    for (const auto& e : d.type.dims) expr(e);
    opt(d.type.lower);
    opt(d.type.upper);
    opt(d.type.offset);
    opt(d.type.multiplier);
    opt(d.init);
  }
  void stmt(const Stmt& s) {
    if (!s.name.empty()) name(s.name);
    for (const auto& e : s.exprs) expr(e);
    for (const auto& b : s.body) stmt(b);
    for (const auto& d : s.decl) decl(d);
    opt(s.trunc_lo);
    opt(s.trunc_hi);
  }
  void program(const Program& p) {
    for (const auto& f : p.functions) {
      for (const auto& a : f.args) name(a.name);
      for (const auto& s : f.body) stmt(s);
    }
    for (const auto& b : p.blocks)
      for (const auto& s : b.stmts) stmt(s);
  }

 private:
  GqState& st_;
};

// ---- declared constraints ----

// "" when one element (vector/matrix at `x`) of a structured type is valid, else what is wrong.
std::string structured_problem(BaseType b, const double* x, size_t rows, size_t cols) {
  constexpr double tol = 1e-8;
  const size_t n = rows;
  switch (b) {
    case BaseType::Simplex: {
      double s = 0;
      for (size_t i = 0; i < n; ++i) {
        if (!(x[i] >= 0)) return fmt::format("is not a simplex: element {} is {}", i + 1, num(x[i]));
        s += x[i];
      }
      if (!(std::fabs(s - 1) <= tol)) return fmt::format("is not a simplex: its elements sum to {}", num(s));
      return "";
    }
    case BaseType::SumToZeroVector: {
      double s = 0;
      for (size_t i = 0; i < n; ++i) s += x[i];
      if (!(std::fabs(s) <= tol)) return fmt::format("is not a sum-to-zero vector: its elements sum to {}", num(s));
      return "";
    }
    case BaseType::Ordered:
    case BaseType::PositiveOrdered:
      if (b == BaseType::PositiveOrdered && n > 0 && !(x[0] > 0))
        return fmt::format("is not positive_ordered: element 1 is {}", num(x[0]));
      for (size_t i = 1; i < n; ++i)
        if (!(x[i] > x[i - 1]))
          return fmt::format("is not ordered: element {} ({}) is not above element {} ({})", i + 1, num(x[i]), i,
                             num(x[i - 1]));
      return "";
    case BaseType::UnitVector: {
      double s = 0;
      for (size_t i = 0; i < n; ++i) s += x[i] * x[i];
      if (!(std::fabs(s - 1) <= tol)) return fmt::format("is not a unit vector: its squared norm is {}", num(s));
      return "";
    }
    case BaseType::CovMatrix:
    case BaseType::CorrMatrix: {
      const MatMap m(x, Eigen::Index(n), Eigen::Index(n));
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < i; ++j)
          if (!(std::fabs(m(i, j) - m(j, i)) <= tol * std::max(1.0, std::fabs(m(i, j)))))
            return fmt::format("is not symmetric: element [{},{}] is {} but [{},{}] is {}", i + 1, j + 1,
                               num(m(i, j)), j + 1, i + 1, num(m(j, i)));
      if (b == BaseType::CorrMatrix)
        for (size_t i = 0; i < n; ++i)
          if (!(std::fabs(m(i, i) - 1) <= tol))
            return fmt::format("is not a correlation matrix: diagonal element {} is {}", i + 1, num(m(i, i)));
      if (Eigen::LLT<Eigen::MatrixXd>(m).info() != Eigen::Success) return "is not positive definite";
      return "";
    }
    case BaseType::CholeskyFactorCov:
    case BaseType::CholeskyFactorCorr: {
      const MatMap m(x, Eigen::Index(rows), Eigen::Index(cols));
      for (size_t i = 0; i < rows; ++i) {
        for (size_t j = i + 1; j < cols; ++j)
          if (m(i, j) != 0)
            return fmt::format("is not lower triangular: element [{},{}] is {}", i + 1, j + 1, num(m(i, j)));
        if (i < cols && !(m(i, i) > 0))
          return fmt::format("is not a Cholesky factor: diagonal element {} is {}", i + 1, num(m(i, i)));
      }
      if (b == BaseType::CholeskyFactorCorr)
        for (size_t i = 0; i < rows; ++i)
          if (!(std::fabs(m.row(Eigen::Index(i)).squaredNorm() - 1) <= tol))
            return fmt::format("is not a correlation Cholesky factor: row {} has squared length {}", i + 1,
                               num(m.row(Eigen::Index(i)).squaredNorm()));
      return "";
    }
    default: return "";
  }
}

// Throws naming the variable (`what` says which block's) when `v` breaks its declaration.
void check_declared(Interp& in, const VarDecl& d, const Value& v, const char* what) {
  auto bound = [&](const std::optional<Expr>& e, bool lower) {
    if (!e) return;
    const Value b = in.ev(*e);
    if (!b.is_scalar() && b.size() != v.size())
      in.fail(e->loc, fmt::format("the bound of '{}' has {} elements, the variable {}", d.name, b.size(), v.size()));
    for (size_t i = 0; i < v.size(); ++i) {
      const double lim = b.is_scalar() ? b.s : b[i];
      const double x = v[i];
      if (lower ? x >= lim : x <= lim) continue;
      const bool literal = e->kind == ExprKind::IntLit || e->kind == ExprKind::RealLit;
      in.fail(d.name_loc, fmt::format("{} '{}' must be {} {}{}, found {}{}", what, d.name, lower ? ">=" : "<=",
                                      num(lim), literal || !b.is_scalar() ? "" : " (" + print_expr(*e) + ")", num(x),
                                      v.is_scalar() ? "" : " at " + d.name + index_str(v, i)));
    }
  };
  bound(d.type.lower, true);
  bound(d.type.upper, false);
  if (d.type.base < BaseType::Simplex) return;
  const size_t each = v.inner_size();
  for (size_t o = 0; o * each < v.size(); ++o) {
    const std::string bad = structured_problem(d.type.base, v.data() + o * each, v.rows, v.cols);
    if (!bad.empty())
      in.fail(d.name_loc, fmt::format("{} '{}' {}{}", what, d.name, bad,
                                      v.arr.empty() ? "" : " at " + d.name + array_index_str(v, o)));
  }
}

}  // namespace
}  // namespace detail

using detail::GqState;
using detail::Inner;
using detail::Interp;
using detail::Value;

GeneratedQuantities::GeneratedQuantities(const Program& program, const DataEnv& data, std::vector<VarInfo> output_vars)
    : state_(std::make_unique<GqState>()) {
  GqState& st = *state_;
  st.program = &program;
  for (const auto& f : program.functions)
    if (!f.is_forward_decl()) st.functions[f.name].push_back(&f);
  detail::Resolver(st).program(program);
  st.global_by_sym.assign(st.sym_names.size(), nullptr);
  st.param_by_sym.assign(st.sym_names.size(), -1);
  auto set_global = [&](const std::string& name, Value v) {
    Value& slot = st.globals[name];
    slot = std::move(v);
    st.global_by_sym[size_t(st.sym(name))] = &slot;
  };

  // Data: row-major JSON values, each matrix element converted to column-major.
  for (const auto& s : program.block(BlockKind::Data).stmts) {
    if (s.kind != StmtKind::Decl) continue;
    const VarDecl& d = s.decl[0];
    const DataValue& dv = data.at(d.name);
    Interp in(st, nullptr, "data");
    Value v = in.declared(d.type, d.loc);
    if (v.size() != dv.values.size())
      throw Error(program.file, d.loc.line, d.loc.col,
                  fmt::format("data variable '{}' has {} values, its declaration {}", d.name, dv.values.size(), v.size()));
    v.is_int = d.type.base == BaseType::Int;
    if (v.inner == Inner::Matrix) {
      const size_t r = v.rows, c = v.cols, n = r * c;
      for (size_t o = 0; o * n < v.size(); ++o)
        for (size_t i = 0; i < r; ++i)
          for (size_t j = 0; j < c; ++j) v.v[o * n + i + r * j] = dv.values[o * n + i * c + j];
    } else if (v.is_scalar()) {
      v.s = dv.values[0];
    } else {
      v.v = dv.values;
    }
    set_global(d.name, std::move(v));
  }

  // Transformed data, evaluated once with the interpreter.
  {
    Interp in(st, nullptr, "transformed data");
    for (const auto& s : program.block(BlockKind::TransformedData).stmts) in.exec(s);
    for (const auto& s : program.block(BlockKind::TransformedData).stmts) {
      if (s.kind != StmtKind::Decl) continue;
      const VarDecl& d = s.decl[0];
      const Value v = *in.find_local(d.name);
      detail::check_declared(in, d, v, "transformed data variable");
    }
    for (auto& l : in.locals) set_global(st.sym_names[size_t(l.sym)], std::move(l.val));
  }

  // Parameters and transformed parameters, in the order of the draw.
  std::map<std::string, const VarDecl*> decls;
  for (BlockKind b : {BlockKind::Parameters, BlockKind::TransformedParameters})
    for (const auto& s : program.block(b).stmts)
      if (s.kind == StmtKind::Decl) decls[s.decl[0].name] = &s.decl[0];
  {
    Interp in(st, nullptr, "parameters");
    size_t offset = 0;
    for (const auto& ov : output_vars) {
      auto it = decls.find(ov.name);
      if (it != decls.end()) {
        GqState::Param p;
        p.name = ov.name;
        p.shape = in.declared(it->second->type, it->second->loc);
        p.offset = offset;
        const std::vector<size_t> full = p.shape.full_dims();
        if (ov.size() != p.shape.size())
          throw Error(program.file, it->second->loc.line, it->second->loc.col,
                      fmt::format("output variable '{}' has {} values but its declaration {}", ov.name, ov.size(),
                                  p.shape.size()));
        if (ov.shape == full && full.size() >= 2) p.perm = detail::column_major_offsets(p.shape);
        st.param_by_sym[size_t(st.sym(p.name))] = int(st.params.size());
        st.params.push_back(std::move(p));
      }
      offset += ov.size();
    }
    st.draw_size = offset;
  }

  // The block's top-level declarations: shapes from the data only.
  {
    Interp in(st, nullptr, "generated quantities");
    for (const auto& s : program.block(BlockKind::GeneratedQuantities).stmts) {
      if (s.kind != StmtKind::Decl) continue;
      const VarDecl& d = s.decl[0];
      const Value v = in.declared(d.type, d.loc);
      st.outs.push_back({&d, detail::column_major_offsets(v)});
      st.vars.push_back(VarInfo{d.name, v.full_dims()});
    }
  }
}

GeneratedQuantities::~GeneratedQuantities() = default;
GeneratedQuantities::GeneratedQuantities(GeneratedQuantities&&) noexcept = default;
GeneratedQuantities& GeneratedQuantities::operator=(GeneratedQuantities&&) noexcept = default;

bool GeneratedQuantities::empty() const { return state_->vars.empty(); }
const std::vector<VarInfo>& GeneratedQuantities::vars() const { return state_->vars; }

void GeneratedQuantities::eval(const double* values, Rng& rng, double* out) const {
  const GqState& st = *state_;
  std::vector<Value> params;
  params.reserve(st.params.size());
  for (const auto& p : st.params) {
    Value v = p.shape;
    const double* src = values + p.offset;
    const size_t n = v.size();
    double* dst = v.data();
    if (p.perm.empty()) std::copy(src, src + n, dst);
    else for (size_t k = 0; k < n; ++k) dst[p.perm[k]] = src[k];
    params.push_back(std::move(v));
  }
  Interp in(st, &rng, "generated quantities");
  in.params = &params;
  for (const auto& s : st.program->block(BlockKind::GeneratedQuantities).stmts) in.exec(s);
  size_t pos = 0;
  for (const auto& o : st.outs) {
    const Value v = *in.find_local(o.decl->name);  // a copy: bounds may call functions that push locals
    detail::check_declared(in, *o.decl, v, "generated quantity");
    const double* src = v.data();
    for (size_t k = 0; k < o.perm.size(); ++k) out[pos++] = src[o.perm[k]];
  }
}

std::vector<double> GeneratedQuantities::transformed_data(const std::string& name) const {
  const GqState& st = *state_;
  auto it = st.globals.find(name);
  bool is_td = false;
  for (const auto& s : st.program->block(BlockKind::TransformedData).stmts)
    is_td = is_td || (s.kind == StmtKind::Decl && s.decl[0].name == name);
  if (it == st.globals.end() || !is_td)
    throw Error(st.program->file, 0, 0, fmt::format("no transformed data variable named '{}'", name));
  const Value& v = it->second;
  std::vector<double> out;
  for (size_t off : detail::column_major_offsets(v)) out.push_back(v[off]);
  return out;
}

std::vector<std::string> generated_quantities_names(const GeneratedQuantities& gq) { return flat_names(gq.vars()); }

}  // namespace exmc::stan
