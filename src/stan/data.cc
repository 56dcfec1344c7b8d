// Checks Stan JSON data against the data block (types, shapes, bounds, structured types).
#include "exmc/stan/data.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "exmc/stan/error.hpp"
#include "exmc/stan/lexer.hpp"
#include "exmc/stan/printer.hpp"

namespace exmc::stan {
namespace {

std::string num(double v) { return fmt::format("{}", v); }

std::string shape_str(const std::vector<size_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// 1-based position of flat element `flat` of a value of shape `dims`: "3" or "[2,3]".
std::string index_str(size_t flat, const std::vector<size_t>& dims) {
  if (dims.size() <= 1) return std::to_string(flat + 1);
  std::vector<size_t> idx(dims.size());
  for (size_t k = dims.size(); k-- > 0;) {
    idx[k] = flat % dims[k] + 1;
    flat /= dims[k];
  }
  return shape_str(idx);
}

void collect_vars(const Expr& e, std::vector<std::string>& out) {
  if (e.kind == ExprKind::Var && std::find(out.begin(), out.end(), e.text) == out.end())
    out.push_back(e.text);
  for (const auto& a : e.args) collect_vars(a, out);
  for (const auto& ix : e.indices)
    for (const auto& b : ix.bounds) collect_vars(b, out);
}

void collect_assigned(const Stmt& s, std::set<std::string>& out) {
  if (s.kind == StmtKind::Assign) {
    const Expr* e = &s.exprs[0];
    while (e->kind == ExprKind::Index) e = &e->args[0];
    out.insert(e->text);
  }
  for (const auto& b : s.body) collect_assigned(b, out);
}

}  // namespace

const DataValue* DataEnv::find(const std::string& name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : &it->second;
}

const DataValue& DataEnv::at(const std::string& name) const {
  const DataValue* v = find(name);
  if (!v) throw Error(program_file, 0, 0, fmt::format("no data value named '{}'", name));
  return *v;
}

DataEnv::Val DataEnv::ev(const Expr& e) const {
  auto fail = [&](const std::string& msg) -> Val {
    throw Error(program_file, e.loc.line, e.loc.col, msg, source_line(program_source, e.loc.line));
  };
  switch (e.kind) {
    case ExprKind::IntLit: return {std::stod(e.text), true};
    case ExprKind::RealLit: return {std::stod(e.text), false};
    case ExprKind::Paren: return ev(e.args[0]);
    case ExprKind::Var: {
      const DataValue* v = find(e.text);
      if (!v)
        return fail(fmt::format("cannot evaluate '{}' here: sizes and bounds may only use data "
                                "and transformed data known before it",
                                e.text));
      if (!v->is_scalar())
        return fail(fmt::format("'{}' is not a single value (shape {}); index it",
                                e.text, shape_str(v->dims)));
      return {v->values[0], v->is_int};
    }
    case ExprKind::Index: {
      if (e.args[0].kind != ExprKind::Var) return fail("cannot evaluate this index expression");
      const DataValue* v = find(e.args[0].text);
      if (!v) return fail(fmt::format("cannot evaluate '{}' here", e.args[0].text));
      if (e.indices.size() != v->dims.size())
        return fail(fmt::format("'{}' needs {} indexes here", v->name, v->dims.size()));
      size_t flat = 0;
      for (size_t k = 0; k < e.indices.size(); ++k) {
        const auto& ix = e.indices[k];
        if (ix.kind != IndexItem::Single) return fail("only single indexes can be evaluated here");
        const int64_t i = eval_int(ix.bounds[0]);
        if (i < 1 || static_cast<size_t>(i) > v->dims[k])
          return fail(fmt::format("index {} out of range for '{}' (size {})", i, v->name, v->dims[k]));
        flat = flat * v->dims[k] + static_cast<size_t>(i - 1);
      }
      return {v->values[flat], v->is_int};
    }
    case ExprKind::Unary: {
      const Val a = ev(e.args[0]);
      if (e.text == "-") return {-a.v, a.is_int};
      if (e.text == "!") return {a.v == 0 ? 1.0 : 0.0, true};
      return a;
    }
    case ExprKind::Ternary: return ev(e.args[0]).v != 0 ? ev(e.args[1]) : ev(e.args[2]);
    case ExprKind::Binary: {
      const Val a = ev(e.args[0]);
      const Val b = ev(e.args[1]);
      const bool ii = a.is_int && b.is_int;
      const std::string& o = e.text;
      if (o == "+") return {a.v + b.v, ii};
      if (o == "-") return {a.v - b.v, ii};
      if (o == "*") return {a.v * b.v, ii};
      if (o == "/" || o == "%/%") {
        if (ii) {
          if (b.v == 0) return fail("integer division by zero");
          return {std::trunc(a.v / b.v), true};
        }
        return {a.v / b.v, false};
      }
      if (o == "%") {
        if (!ii || b.v == 0) return fail("'%' needs int operands and a non-zero divisor");
        return {std::fmod(a.v, b.v), true};
      }
      if (o == "^") return {std::pow(a.v, b.v), false};
      if (o == "<") return {a.v < b.v ? 1.0 : 0.0, true};
      if (o == "<=") return {a.v <= b.v ? 1.0 : 0.0, true};
      if (o == ">") return {a.v > b.v ? 1.0 : 0.0, true};
      if (o == ">=") return {a.v >= b.v ? 1.0 : 0.0, true};
      if (o == "==") return {a.v == b.v ? 1.0 : 0.0, true};
      if (o == "!=") return {a.v != b.v ? 1.0 : 0.0, true};
      if (o == "&&") return {(a.v != 0 && b.v != 0) ? 1.0 : 0.0, true};
      if (o == "||") return {(a.v != 0 || b.v != 0) ? 1.0 : 0.0, true};
      return fail(fmt::format("operator '{}' cannot be evaluated in a size or bound", o));
    }
    case ExprKind::Call: {
      const std::string& f = e.text;
      auto whole = [&](size_t i) -> const DataValue& {
        if (i >= e.args.size() || e.args[i].kind != ExprKind::Var || !find(e.args[i].text))
          fail(fmt::format("'{}' can only be evaluated here on a data variable", f));
        return *find(e.args[i].text);
      };
      if (f == "size" || f == "num_elements" || f == "rows" || f == "cols") {
        const DataValue& v = whole(0);
        if (f == "num_elements") return {static_cast<double>(v.values.size()), true};
        if (f == "cols") return {v.dims.size() >= 2 ? static_cast<double>(v.dims.back()) : 1.0, true};
        return {v.dims.empty() ? 1.0 : static_cast<double>(v.dims[0]), true};
      }
      if ((f == "max" || f == "min") && e.args.size() == 2) {
        const Val a = ev(e.args[0]);
        const Val b = ev(e.args[1]);
        return {f == "max" ? std::max(a.v, b.v) : std::min(a.v, b.v), a.is_int && b.is_int};
      }
      if ((f == "max" || f == "min" || f == "sum") && e.args.size() == 1) {
        const DataValue& v = whole(0);
        if (v.values.empty()) return fail(fmt::format("'{}' of an empty '{}'", f, v.name));
        double r = f == "sum" ? 0.0 : v.values[0];
        for (double x : v.values) r = f == "sum" ? r + x : f == "max" ? std::max(r, x) : std::min(r, x);
        return {r, v.is_int};
      }
      if (e.args.size() == 1) {
        const Val a = ev(e.args[0]);
        if (f == "abs") return {std::fabs(a.v), a.is_int};
        if (f == "floor") return {std::floor(a.v), false};
        if (f == "ceil") return {std::ceil(a.v), false};
        if (f == "sqrt") return {std::sqrt(a.v), false};
        if (f == "exp") return {std::exp(a.v), false};
        if (f == "log") return {std::log(a.v), false};
        if (f == "to_int") return {std::trunc(a.v), true};
      }
      return fail(fmt::format("function '{}' cannot be evaluated in a size or bound", f));
    }
    default: return fail("this expression cannot be evaluated in a size or bound");
  }
}

double DataEnv::eval(const Expr& e) const { return ev(e).v; }

int64_t DataEnv::eval_int(const Expr& e) const {
  const Val v = ev(e);
  if (!v.is_int)
    throw Error(program_file, e.loc.line, e.loc.col,
                fmt::format("expected an int here, found the real value {}", num(v.v)),
                source_line(program_source, e.loc.line));
  return static_cast<int64_t>(v.v);
}

std::vector<size_t> DataEnv::shape(const SizedType& t) const {
  std::vector<size_t> d;
  auto push = [&](const Expr& e) {
    const int64_t n = eval_int(e);
    if (n < 0)
      throw Error(program_file, e.loc.line, e.loc.col,
                  fmt::format("size '{}' is {}; sizes must be >= 0", print_expr(e), n),
                  source_line(program_source, e.loc.line));
    d.push_back(static_cast<size_t>(n));
  };
  for (const auto& e : t.array_dims) push(e);
  for (const auto& e : t.dims) push(e);
  switch (t.base) {
    case BaseType::CovMatrix:
    case BaseType::CorrMatrix:
    case BaseType::CholeskyFactorCorr: d.push_back(d.back()); break;
    case BaseType::CholeskyFactorCov:
      if (t.dims.size() == 1) d.push_back(d.back());
      break;
    default: break;
  }
  return d;
}

namespace {

class DataChecker {
 public:
  DataChecker(const Program& p, const io::StanJsonData& data, DataEnv& env)
      : p_(p), data_(data), env_(env) {}

  [[noreturn]] void fail(const std::string& var, const std::string& msg) const {
    throw DataError(data_.source(), var, fmt::format("data variable '{}': {}", var, msg));
  }

  // "vector[N] with N = 10", for messages about sizes.
  std::string declared(const VarDecl& d) const {
    SizedType t = d.type;
    t.old_array_syntax = false;
    std::string s = print_type(t);
    std::vector<std::string> names;
    for (const auto& e : d.type.array_dims) collect_vars(e, names);
    for (const auto& e : d.type.dims) collect_vars(e, names);
    std::string with;
    for (const auto& n : names) {
      const DataValue* v = env_.find(n);
      if (!v || !v->is_scalar()) continue;
      with += (with.empty() ? " with " : ", ") + n + " = " + num(v->values[0]);
    }
    return s + with;
  }

  void variable(const VarDecl& d) {
    DataValue dv;
    dv.name = d.name;
    dv.decl = &d;
    dv.is_int = d.type.base == BaseType::Int;
    std::vector<size_t> want;
    try {
      want = env_.shape(d.type);
    } catch (const Error& e) {
      fail(d.name, "cannot resolve its declared size: " + e.message());
    }
    dv.dims = want;
    size_t n = 1;
    for (size_t k : want) n *= k;
    const io::StanJsonValue* jv = data_.find(d.name);
    if (!jv) {
      if (n == 0 && !want.empty()) {  // zero-size data may be omitted
        env_.add(std::move(dv));
        return;
      }
      throw DataError(data_.source(), d.name,
                      fmt::format("data variable '{}' (declared at {}:{}:{}) is missing from the "
                                  "data",
                                  d.name, p_.file, d.loc.line, d.loc.col));
    }
    // Shape.
    const bool same = jv->dims == want || (n == 0 && jv->values.empty() && !want.empty());
    if (!same) {
      if (want.empty())
        fail(d.name, fmt::format("expected a single {} (declared {}), found an array of shape {}",
                                 dv.is_int ? "int" : "real", declared(d), shape_str(jv->dims)));
      if (jv->dims.empty())
        fail(d.name, fmt::format("expected {} (declared {}), found a single number",
                                 want.size() == 1 ? fmt::format("{} elements", want[0])
                                                  : "shape " + shape_str(want),
                                 declared(d)));
      if (want.size() == 1 && jv->dims.size() == 1)
        fail(d.name, fmt::format("expected {} elements (declared {}), found {}", want[0],
                                 declared(d), jv->dims[0]));
      fail(d.name, fmt::format("expected shape {} (declared {}), found shape {}",
                               shape_str(want), declared(d), shape_str(jv->dims)));
    }
    dv.values = jv->values;
    // Type.
    if (dv.is_int) {
      for (size_t i = 0; i < dv.values.size(); ++i) {
        const double v = dv.values[i];
        if (!(std::nearbyint(v) == v) || std::fabs(v) > 2147483647.0)
          fail(d.name, fmt::format("expected int, found {}{}", num(v), at(i, want)));
      }
    }
    bounds(d, dv);
    structured(d, dv);
    env_.add(std::move(dv));
  }

  static std::string at(size_t i, const std::vector<size_t>& dims) {
    if (dims.empty()) return "";
    return " at index " + index_str(i, dims);
  }

  // Bounds may be scalars or, for containers, data of the same shape.
  void bound(const VarDecl& d, const DataValue& dv, const Expr& e, bool lower) {
    std::vector<double> b;
    if (e.kind == ExprKind::Var && env_.find(e.text) && !env_.find(e.text)->is_scalar()) {
      const DataValue& bv = *env_.find(e.text);
      if (bv.values.size() != dv.values.size() && bv.dims.size() != 1)
        fail(d.name, fmt::format("the bound '{}' has shape {}, the variable {}", e.text,
                                 shape_str(bv.dims), shape_str(dv.dims)));
      b = bv.values;
    } else {
      try {
        b = {env_.eval(e)};
      } catch (const Error& err) {
        fail(d.name, "cannot evaluate its bound: " + err.message());
      }
    }
    const bool literal = e.kind == ExprKind::IntLit || e.kind == ExprKind::RealLit ||
                         (e.kind == ExprKind::Unary && e.args[0].kind != ExprKind::Var &&
                          e.args[0].kind != ExprKind::Index && e.args[0].kind != ExprKind::Call);
    for (size_t i = 0; i < dv.values.size(); ++i) {
      const double lim = b.size() == 1 ? b[0] : b[i % b.size()];
      const double v = dv.values[i];
      const bool ok = lower ? v >= lim : v <= lim;
      if (ok) continue;
      const std::string what =
          literal || b.size() != 1 ? num(lim) : fmt::format("{} (= {})", print_expr(e), num(lim));
      fail(d.name, fmt::format("must be {} {}, found {}{}", lower ? ">=" : "<=", what, num(v),
                               at(i, dv.dims)));
    }
  }

  void bounds(const VarDecl& d, const DataValue& dv) {
    if (d.type.lower) bound(d, dv, *d.type.lower, true);
    if (d.type.upper) bound(d, dv, *d.type.upper, false);
  }

  // Checks of simplex, ordered, ..., cov_matrix on each array element.
  void structured(const VarDecl& d, const DataValue& dv) {
    const BaseType b = d.type.base;
    if (b < BaseType::Simplex) return;
    const size_t outer_rank = d.type.array_dims.size();
    size_t outer = 1;
    for (size_t k = 0; k < outer_rank; ++k) outer *= dv.dims[k];
    const std::vector<size_t> inner_dims(dv.dims.begin() + static_cast<long>(outer_rank), dv.dims.end());
    size_t inner = 1;
    for (size_t k : inner_dims) inner *= k;
    const std::vector<size_t> outer_dims(dv.dims.begin(), dv.dims.begin() + static_cast<long>(outer_rank));
    for (size_t o = 0; o < outer; ++o) {
      const double* x = dv.values.data() + o * inner;
      const std::string where = outer_rank ? " at array index " + index_str(o, outer_dims) : "";
      const std::string bad = check_one(b, x, inner_dims);
      if (!bad.empty()) fail(d.name, bad + where);
    }
  }

  static std::string check_one(BaseType b, const double* x, const std::vector<size_t>& dims) {
    constexpr double tol = 1e-8;
    const size_t n = dims[0];
    switch (b) {
      case BaseType::Simplex: {
        double s = 0;
        for (size_t i = 0; i < n; ++i) {
          if (!(x[i] >= 0))
            return fmt::format("is not a simplex: element {} is {} (must be >= 0)", i + 1, num(x[i]));
          s += x[i];
        }
        if (!(std::fabs(s - 1) <= tol))
          return fmt::format("is not a simplex: elements sum to {} (must be 1 within 1e-8)", num(s));
        return "";
      }
      case BaseType::SumToZeroVector: {
        double s = 0;
        for (size_t i = 0; i < n; ++i) s += x[i];
        if (!(std::fabs(s) <= tol))
          return fmt::format("is not a sum-to-zero vector: elements sum to {}", num(s));
        return "";
      }
      case BaseType::Ordered:
      case BaseType::PositiveOrdered:
        if (b == BaseType::PositiveOrdered && n > 0 && !(x[0] > 0))
          return fmt::format("is not positive_ordered: element 1 is {} (must be > 0)", num(x[0]));
        for (size_t i = 1; i < n; ++i)
          if (!(x[i] > x[i - 1]))
            return fmt::format("is not ordered: element {} ({}) is not greater than element {} ({})",
                               i + 1, num(x[i]), i, num(x[i - 1]));
        return "";
      case BaseType::UnitVector: {
        double s = 0;
        for (size_t i = 0; i < n; ++i) s += x[i] * x[i];
        if (!(std::fabs(s - 1) <= tol))
          return fmt::format("is not a unit vector: squared norm is {} (must be 1 within 1e-8)",
                             num(s));
        return "";
      }
      case BaseType::CovMatrix:
      case BaseType::CorrMatrix: {
        for (size_t i = 0; i < n; ++i)
          for (size_t j = 0; j < i; ++j)
            if (!(std::fabs(x[i * n + j] - x[j * n + i]) <= tol * std::max(1.0, std::fabs(x[i * n + j]))))
              return fmt::format("is not symmetric: element [{},{}] is {} but [{},{}] is {}", i + 1,
                                 j + 1, num(x[i * n + j]), j + 1, i + 1, num(x[j * n + i]));
        if (b == BaseType::CorrMatrix)
          for (size_t i = 0; i < n; ++i)
            if (!(std::fabs(x[i * n + i] - 1) <= tol))
              return fmt::format("is not a correlation matrix: diagonal element {} is {} (must be "
                                 "1)",
                                 i + 1, num(x[i * n + i]));
        // Cholesky factorisation succeeds exactly when the matrix is positive definite.
        std::vector<double> L(n * n, 0.0);
        for (size_t j = 0; j < n; ++j) {
          double s = x[j * n + j];
          for (size_t k = 0; k < j; ++k) s -= L[j * n + k] * L[j * n + k];
          if (!(s > 0)) return "is not positive definite";
          L[j * n + j] = std::sqrt(s);
          for (size_t i = j + 1; i < n; ++i) {
            double t = x[i * n + j];
            for (size_t k = 0; k < j; ++k) t -= L[i * n + k] * L[j * n + k];
            L[i * n + j] = t / L[j * n + j];
          }
        }
        return "";
      }
      case BaseType::CholeskyFactorCov:
      case BaseType::CholeskyFactorCorr: {
        const size_t m = dims[0], c = dims[1];
        if (m < c) return fmt::format("a Cholesky factor needs rows >= columns, found {}x{}", m, c);
        for (size_t i = 0; i < m; ++i) {
          for (size_t j = i + 1; j < c; ++j)
            if (x[i * c + j] != 0)
              return fmt::format("is not lower triangular: element [{},{}] is {} (must be 0)",
                                 i + 1, j + 1, num(x[i * c + j]));
          if (i < c && !(x[i * c + i] > 0))
            return fmt::format("is not a Cholesky factor: diagonal element {} is {} (must be > 0)",
                               i + 1, num(x[i * c + i]));
        }
        if (b == BaseType::CholeskyFactorCorr)
          for (size_t i = 0; i < m; ++i) {
            double s = 0;
            for (size_t j = 0; j < c; ++j) s += x[i * c + j] * x[i * c + j];
            if (!(std::fabs(s - 1) <= tol))
              return fmt::format("is not a correlation Cholesky factor: row {} has squared length "
                                 "{} (must be 1)",
                                 i + 1, num(s));
          }
        return "";
      }
      default: return "";
    }
  }

  // Transformed-data scalars computable from the data (so later sizes can use them).
  void transformed_scalars() {
    const Block& td = p_.block(BlockKind::TransformedData);
    std::set<std::string> assigned;
    for (const auto& s : td.stmts) collect_assigned(s, assigned);
    for (const auto& s : td.stmts) {
      if (s.kind != StmtKind::Decl) continue;
      const VarDecl& d = s.decl[0];
      if (!d.init || !d.type.array_dims.empty() || !d.type.dims.empty() || assigned.count(d.name))
        continue;
      if (d.type.base != BaseType::Int && d.type.base != BaseType::Real) continue;
      try {
        const double v = env_.eval(*d.init);
        DataValue dv;
        dv.name = d.name;
        dv.decl = &d;
        dv.is_int = d.type.base == BaseType::Int;
        dv.values = {dv.is_int ? std::trunc(v) : v};
        env_.add(std::move(dv));
      } catch (const Error&) {
        // Not computable here (uses functions the evaluator lacks): left to the lowering.
      }
    }
  }

  void run() {
    for (const auto& s : p_.block(BlockKind::Data).stmts)
      if (s.kind == StmtKind::Decl) variable(s.decl[0]);
    transformed_scalars();
  }

 private:
  const Program& p_;
  const io::StanJsonData& data_;
  DataEnv& env_;
};

}  // namespace

DataEnv check_data(const Program& program, const io::StanJsonData& data) {
  DataEnv env;
  env.program_file = program.file;
  env.program_source = program.source;
  DataChecker(program, data, env).run();
  return env;
}

}  // namespace exmc::stan
