// Stan parser: recursive descent for blocks and statements, precedence climbing for expressions.
#include "exmc/stan/parser.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "exmc/stan/error.hpp"
#include "exmc/stan/lexer.hpp"

namespace exmc::stan {
namespace {

const std::map<std::string, BaseType>& type_keywords() {
  static const std::map<std::string, BaseType> m = {
      {"int", BaseType::Int},
      {"real", BaseType::Real},
      {"complex", BaseType::Complex},
      {"vector", BaseType::Vector},
      {"row_vector", BaseType::RowVector},
      {"matrix", BaseType::Matrix},
      {"complex_vector", BaseType::ComplexVector},
      {"complex_row_vector", BaseType::ComplexRowVector},
      {"complex_matrix", BaseType::ComplexMatrix},
      {"simplex", BaseType::Simplex},
      {"ordered", BaseType::Ordered},
      {"positive_ordered", BaseType::PositiveOrdered},
      {"unit_vector", BaseType::UnitVector},
      {"sum_to_zero_vector", BaseType::SumToZeroVector},
      {"cholesky_factor_corr", BaseType::CholeskyFactorCorr},
      {"cholesky_factor_cov", BaseType::CholeskyFactorCov},
      {"corr_matrix", BaseType::CorrMatrix},
      {"cov_matrix", BaseType::CovMatrix},
  };
  return m;
}

bool is_cond_dist_name(const std::string& n) {
  for (const char* suf : {"_lpdf", "_lupdf", "_lpmf", "_lupmf", "_cdf", "_lcdf", "_lccdf"}) {
    const std::string s(suf);
    if (n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

int binary_prec(const std::string& op) {
  static const std::map<std::string, int> m = {
      {"||", 1}, {"&&", 2}, {"==", 3}, {"!=", 3}, {"<", 4},  {"<=", 4}, {">", 4},
      {">=", 4}, {"+", 5},  {"-", 5},  {"*", 6},  {"/", 6},  {"%", 6},  {".*", 6},
      {"./", 6}, {"%/%", 6}, {"\\", 7}};
  auto it = m.find(op);
  return it == m.end() ? 0 : it->second;
}

constexpr int kAdditive = 5;  // constraint bounds stop before comparisons, so '>' closes them

class Parser {
 public:
  Parser(const std::string& src, const std::string& file)
      : src_(src), file_(file), toks_(lex(src, file)) {}

  Program program() {
    Program p;
    p.file = file_;
    p.source = src_;
    int last = -1;
    while (!at_end()) {
      const Token& t = peek();
      const Loc loc = t.loc;
      int b = -1;
      if (is_ident("functions")) {
        b = 0;
      } else if (is_ident("data")) {
        b = 1;
      } else if (is_ident("transformed") && peek(1).kind == Tok::Ident && peek(1).text == "data") {
        b = 2;
      } else if (is_ident("parameters")) {
        b = 3;
      } else if (is_ident("transformed") && peek(1).kind == Tok::Ident &&
                 peek(1).text == "parameters") {
        b = 4;
      } else if (is_ident("model")) {
        b = 5;
      } else if (is_ident("generated") && peek(1).kind == Tok::Ident &&
                 peek(1).text == "quantities") {
        b = 6;
      } else if (is_ident("transformed")) {
        next();
        fail(peek(), "expected 'data' or 'parameters' after 'transformed'");
      } else if (is_ident("generated")) {
        next();
        fail(peek(), "expected 'quantities' after 'generated'");
      } else {
        fail(t,
             "expected a block ('functions', 'data', 'transformed data', 'parameters', "
             "'transformed parameters', 'model' or 'generated quantities')");
      }
      const BlockKind kind = static_cast<BlockKind>(b);
      if (b == last) fail_at(loc, fmt::format("duplicate '{}' block", block_name(kind)));
      if (b < last)
        fail_at(loc, fmt::format("'{}' block must come before the '{}' block (blocks go in the "
                                 "order functions, data, transformed data, parameters, "
                                 "transformed parameters, model, generated quantities)",
                                 block_name(kind), block_name(static_cast<BlockKind>(last))));
      last = b;
      next();
      if (b == 2 || b == 4 || b == 6) next();
      Block& blk = p.block(kind);
      blk.present = true;
      blk.loc = loc;
      expect("{", fmt::format("to open the '{}' block", block_name(kind)));
      if (kind == BlockKind::Functions) {
        while (!is_op("}")) {
          if (at_end()) fail(peek(), "expected '}' to close the 'functions' block");
          p.functions.push_back(fundef());
        }
      } else {
        const bool decls_only = kind == BlockKind::Data || kind == BlockKind::Parameters;
        while (!is_op("}")) {
          if (at_end())
            fail(peek(), fmt::format("expected '}}' to close the '{}' block", block_name(kind)));
          if (decls_only) {
            if (!starts_decl())
              fail(peek(), fmt::format("expected a variable declaration in the '{}' block "
                                       "(only declarations are allowed there)",
                                       block_name(kind)));
            blk.stmts.push_back(decl_stmt());
          } else {
            blk.stmts.push_back(statement());
          }
        }
      }
      next();  // '}'
    }
    return p;
  }

  Expr whole_expression() {
    Expr e = expr();
    if (!at_end()) fail(peek(), "expected end of expression");
    return e;
  }

 private:
  // ---- token helpers ----
  const Token& peek(size_t k = 0) const {
    const size_t i = std::min(pos_ + k, toks_.size() - 1);
    return toks_[i];
  }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool at_end() const { return peek().kind == Tok::End; }
  bool is_op(const char* op, size_t k = 0) const {
    return peek(k).kind == Tok::Op && peek(k).text == op;
  }
  bool is_ident(const char* w, size_t k = 0) const {
    return peek(k).kind == Tok::Ident && peek(k).text == w;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::End: return "end of file";
      case Tok::String: return fmt::format("string \"{}\"", t.text);
      default: return fmt::format("'{}'", t.text);
    }
  }

  [[noreturn]] void fail_at(Loc loc, const std::string& msg) const {
    throw ParseError(file_, loc.line, loc.col, msg, source_line(src_, loc.line));
  }
  [[noreturn]] void fail(const Token& t, const std::string& expected) const {
    fail_at(t.loc, fmt::format("{}, found {}", expected, describe(t)));
  }

  void expect(const char* op, const std::string& context) {
    if (!is_op(op)) fail(peek(), fmt::format("expected '{}' {}", op, context));
    next();
  }

  std::string expect_ident(const std::string& context, Loc* loc = nullptr) {
    const Token& t = peek();
    if (t.kind != Tok::Ident) fail(t, fmt::format("expected an identifier {}", context));
    if (loc) *loc = t.loc;
    next();
    return t.text;
  }

  // ---- declarations ----
  bool starts_decl() const {
    return peek().kind == Tok::Ident &&
           (peek().text == "array" || type_keywords().count(peek().text) != 0);
  }

  std::vector<Expr> expr_list_until(const char* close, const std::string& context) {
    std::vector<Expr> v;
    if (is_op(close)) return v;
    for (;;) {
      v.push_back(expr());
      if (is_op(",")) {
        next();
        continue;
      }
      if (!is_op(close))
        fail(peek(), fmt::format("expected ',' or '{}' {}", close, context));
      return v;
    }
  }

  void constraints(SizedType& ty, bool allow_offset) {
    next();  // '<'
    for (;;) {
      const Token& t = peek();
      std::optional<Expr>* slot = nullptr;
      if (t.kind == Tok::Ident) {
        if (t.text == "lower") slot = &ty.lower;
        if (t.text == "upper") slot = &ty.upper;
        if (allow_offset && t.text == "offset") slot = &ty.offset;
        if (allow_offset && t.text == "multiplier") slot = &ty.multiplier;
      }
      if (!slot)
        fail(t, allow_offset ? "expected 'lower', 'upper', 'offset' or 'multiplier' in the "
                               "constraint"
                             : "expected 'lower' or 'upper' in the constraint");
      if (*slot) fail(t, fmt::format("'{}' given twice in the constraint", t.text));
      next();
      expect("=", fmt::format("after '{}'", t.text));
      *slot = binary(kAdditive);
      if (is_op(",")) {
        next();
        continue;
      }
      if (!is_op(">")) fail(peek(), "expected ',' or '>' to close the constraint");
      next();
      break;
    }
    if ((ty.lower || ty.upper) && (ty.offset || ty.multiplier))
      fail_at(peek().loc, "a constraint cannot mix lower/upper with offset/multiplier");
  }

  SizedType sized_type() {
    SizedType ty;
    if (is_ident("array")) {
      next();
      expect("[", "after 'array'");
      ty.array_dims = expr_list_until("]", "in array dimensions");
      if (ty.array_dims.empty()) fail(peek(), "expected an array size");
      next();
    }
    const Token& t = peek();
    auto it = t.kind == Tok::Ident ? type_keywords().find(t.text) : type_keywords().end();
    if (it == type_keywords().end())
      fail(t, "expected a type (int, real, vector, row_vector, matrix, simplex, ...)");
    next();
    ty.base = it->second;
    const BaseType b = ty.base;
    const bool scalar = b == BaseType::Int || b == BaseType::Real;
    const bool dense = b == BaseType::Vector || b == BaseType::RowVector || b == BaseType::Matrix;
    if (is_op("<")) {
      if (!scalar && !dense)
        fail(peek(), fmt::format("'{}' takes no constraint; expected '['", t.text));
      constraints(ty, b != BaseType::Int);
    }
    if (scalar || b == BaseType::Complex) return ty;
    const int ndims = (b == BaseType::Matrix || b == BaseType::ComplexMatrix) ? 2 : 1;
    expect("[", fmt::format("after '{}' for its size", t.text));
    ty.dims = expr_list_until("]", fmt::format("in the size of '{}'", t.text));
    const int got = static_cast<int>(ty.dims.size());
    const bool ok = b == BaseType::CholeskyFactorCov ? (got == 1 || got == 2) : got == ndims;
    if (!ok)
      fail_at(t.loc, fmt::format("'{}' takes {} size{}, found {}", t.text,
                                 b == BaseType::CholeskyFactorCov ? "1 or 2" : std::to_string(ndims),
                                 ndims == 1 && b != BaseType::CholeskyFactorCov ? "" : "s", got));
    next();
    return ty;
  }

  VarDecl var_decl() {
    VarDecl d;
    d.loc = peek().loc;
    d.type = sized_type();
    d.name = expect_ident("for the variable name", &d.name_loc);
    if (d.name.size() >= 2 && d.name.compare(d.name.size() - 2, 2, "__") == 0)
      fail_at(d.name_loc, fmt::format("'{}': names ending in '__' are reserved", d.name));
    if (is_reserved_word(d.name))
      fail_at(d.name_loc, fmt::format("'{}' is a reserved word and cannot name a variable", d.name));
    if (is_op("[")) {
      if (!d.type.array_dims.empty())
        fail(peek(), "expected '=' or ';' (array sizes were already given with 'array[...]')");
      next();
      d.type.array_dims = expr_list_until("]", "in array dimensions");
      next();
      d.type.old_array_syntax = true;
    }
    if (is_op("=")) {
      next();
      d.init = expr();
    }
    expect(";", "after the declaration of '" + d.name + "'");
    return d;
  }

  Stmt decl_stmt() {
    Stmt s;
    s.kind = StmtKind::Decl;
    s.loc = peek().loc;
    s.decl.push_back(var_decl());
    return s;
  }

  // ---- functions ----
  UnsizedType unsized_type(bool allow_void) {
    UnsizedType ty;
    if (allow_void && is_ident("void")) {
      next();
      ty.is_void = true;
      return ty;
    }
    if (is_ident("data")) {
      next();
      ty.is_data = true;
    }
    if (is_ident("array")) {
      next();
      expect("[", "after 'array'");
      ty.array_dims = 1;
      while (is_op(",")) {
        next();
        ++ty.array_dims;
      }
      expect("]", "to close 'array[' in an argument type");
    }
    const Token& t = peek();
    auto it = t.kind == Tok::Ident ? type_keywords().find(t.text) : type_keywords().end();
    if (it == type_keywords().end())
      fail(t, allow_void ? "expected a return type (void, int, real, vector, ...)"
                         : "expected an argument type (int, real, vector, ...)");
    next();
    ty.base = it->second;
    if (is_op("[")) {
      if (ty.array_dims) fail(peek(), "expected an identifier");
      next();
      ty.array_dims = 1;
      while (is_op(",")) {
        next();
        ++ty.array_dims;
      }
      expect("]", "to close the array dimensions of an argument type");
      ty.old_array_syntax = true;
    }
    return ty;
  }

  FunDef fundef() {
    FunDef f;
    f.loc = peek().loc;
    f.return_type = unsized_type(true);
    f.name = expect_ident("for the function name");
    expect("(", "after the function name '" + f.name + "'");
    if (!is_op(")")) {
      for (;;) {
        FunArg a;
        a.type = unsized_type(false);
        a.name = expect_ident("for the argument name", &a.loc);
        f.args.push_back(std::move(a));
        if (is_op(",")) {
          next();
          continue;
        }
        if (!is_op(")")) fail(peek(), "expected ',' or ')' in the argument list");
        break;
      }
    }
    next();
    if (is_op(";")) {
      next();
      return f;
    }
    if (!is_op("{")) fail(peek(), "expected '{' to start the function body or ';'");
    f.body.push_back(statement());
    return f;
  }

  // ---- statements ----
  Stmt statement() {
    const Token& t = peek();
    Stmt s;
    s.loc = t.loc;
    if (is_op("{")) {
      next();
      s.kind = StmtKind::Block;
      while (!is_op("}")) {
        if (at_end()) fail(peek(), "expected '}' to close the block");
        s.body.push_back(statement());
      }
      next();
      return s;
    }
    if (is_op(";")) {
      next();
      s.kind = StmtKind::Empty;
      return s;
    }
    if (t.kind == Tok::Ident) {
      const std::string& w = t.text;
      if (starts_decl()) return decl_stmt();
      if (w == "for") {
        next();
        expect("(", "after 'for'");
        s.name = expect_ident("for the loop variable");
        if (!is_ident("in")) fail(peek(), "expected 'in' after the loop variable");
        next();
        s.exprs.push_back(expr());
        if (is_op(":")) {
          next();
          s.exprs.push_back(expr());
          s.kind = StmtKind::For;
        } else {
          s.kind = StmtKind::Foreach;
        }
        expect(")", "to close the loop header");
        s.body.push_back(statement());
        return s;
      }
      if (w == "while") {
        next();
        s.kind = StmtKind::While;
        expect("(", "after 'while'");
        s.exprs.push_back(expr());
        expect(")", "after the 'while' condition");
        s.body.push_back(statement());
        return s;
      }
      if (w == "if") {
        next();
        s.kind = StmtKind::If;
        expect("(", "after 'if'");
        s.exprs.push_back(expr());
        expect(")", "after the 'if' condition");
        s.body.push_back(statement());
        if (is_ident("else")) {
          next();
          s.body.push_back(statement());
        }
        return s;
      }
      if (w == "else") fail(t, "expected a statement ('else' without 'if')");
      if (w == "break" || w == "continue") {
        next();
        s.kind = w == "break" ? StmtKind::Break : StmtKind::Continue;
        expect(";", "after '" + w + "'");
        return s;
      }
      if (w == "return") {
        next();
        s.kind = StmtKind::Return;
        if (!is_op(";")) s.exprs.push_back(expr());
        expect(";", "after the return statement");
        return s;
      }
      if ((w == "print" || w == "reject" || w == "fatal_error") && is_op("(", 1)) {
        const std::string name = w;
        next();
        next();
        s.kind = name == "print"    ? StmtKind::Print
                 : name == "reject" ? StmtKind::Reject
                                    : StmtKind::FatalError;
        if (is_op(")")) fail(peek(), fmt::format("expected something to {}", name));
        for (;;) {
          if (peek().kind == Tok::String) {
            Expr e;
            e.kind = ExprKind::StringLit;
            e.text = peek().text;
            e.loc = peek().loc;
            next();
            s.exprs.push_back(std::move(e));
          } else {
            s.exprs.push_back(expr());
          }
          if (is_op(",")) {
            next();
            continue;
          }
          expect(")", fmt::format("or ',' in {}(...)", name));
          break;
        }
        expect(";", fmt::format("after {}(...)", name));
        return s;
      }
      if ((w == "target" || w == "jacobian") && is_op("+=", 1)) {
        next();
        next();
        s.kind = w == "target" ? StmtKind::TargetPlus : StmtKind::JacobianPlus;
        s.exprs.push_back(expr());
        expect(";", "after expression");
        return s;
      }
      if (w == "target" && !is_op("(", 1))
        fail(peek(1), "expected '+=' after 'target'");
      if (w == "profile" && is_op("(", 1)) {
        next();
        next();
        s.kind = StmtKind::Profile;
        if (peek().kind != Tok::String) fail(peek(), "expected a string naming the profile");
        s.name = next().text;
        expect(")", "after the profile name");
        if (!is_op("{")) fail(peek(), "expected '{' to open the profile block");
        Stmt b = statement();
        s.body = std::move(b.body);
        return s;
      }
    }
    // Assignment, '~' statement or function-call statement.
    Expr lhs = expr();
    const Token& op = peek();
    if (op.kind == Tok::Op && (op.text == "=" || op.text == "+=" || op.text == "-=" ||
                               op.text == "*=" || op.text == "/=" || op.text == ".*=" ||
                               op.text == "./=")) {
      if (!is_lvalue(lhs))
        fail_at(lhs.loc, fmt::format("expected a variable (optionally indexed) on the left of '{}'",
                                     op.text));
      s.kind = StmtKind::Assign;
      s.op = op.text;
      next();
      s.exprs.push_back(std::move(lhs));
      s.exprs.push_back(expr());
      expect(";", "after expression");
      return s;
    }
    if (op.kind == Tok::Op && op.text == "<-")
      fail(op, "expected '=' ('<-' was removed from Stan)");
    if (is_op("~")) {
      next();
      s.kind = StmtKind::Tilde;
      s.exprs.push_back(std::move(lhs));
      s.name = expect_ident("naming a distribution after '~'");
      expect("(", "after the distribution name '" + s.name + "'");
      auto args = expr_list_until(")", "in the distribution arguments");
      next();
      for (auto& a : args) s.exprs.push_back(std::move(a));
      if (is_ident("T") && is_op("[", 1)) {
        next();
        next();
        s.has_truncation = true;
        if (!is_op(",")) s.trunc_lo = expr();
        expect(",", "in the truncation T[lower, upper]");
        if (!is_op("]")) s.trunc_hi = expr();
        expect("]", "to close the truncation T[lower, upper]");
      }
      expect(";", "after expression");
      return s;
    }
    if (lhs.kind == ExprKind::Call) {
      s.kind = StmtKind::CallStmt;
      s.exprs.push_back(std::move(lhs));
      expect(";", "after the function call");
      return s;
    }
    fail(peek(), "expected an assignment ('=', '+=', ...) or '~' after expression");
  }

  static bool is_lvalue(const Expr& e) {
    if (e.kind == ExprKind::Var) return true;
    if (e.kind == ExprKind::Index) return is_lvalue(e.args[0]);
    return false;
  }

  // ---- expressions ----
  Expr expr() {
    Expr c = binary(1);
    if (!is_op("?")) return c;
    Expr e;
    e.kind = ExprKind::Ternary;
    e.loc = c.loc;
    next();
    e.args.push_back(std::move(c));
    e.args.push_back(expr());
    expect(":", "in the conditional expression 'a ? b : c'");
    e.args.push_back(expr());
    return e;
  }

  Expr binary(int min_prec) {
    Expr lhs = prefix();
    for (;;) {
      const Token& t = peek();
      if (t.kind != Tok::Op) return lhs;
      const int p = binary_prec(t.text);
      if (p == 0 || p < min_prec) return lhs;
      Expr e;
      e.kind = ExprKind::Binary;
      e.text = t.text;
      e.loc = t.loc;
      next();
      Expr rhs = binary(p + 1);  // all binary operators are left-associative
      e.args.push_back(std::move(lhs));
      e.args.push_back(std::move(rhs));
      lhs = std::move(e);
    }
  }

  Expr prefix() {
    if (is_op("-") || is_op("+") || is_op("!")) {
      Expr e;
      e.kind = ExprKind::Unary;
      e.text = peek().text;
      e.loc = peek().loc;
      next();
      e.args.push_back(prefix());
      return e;
    }
    return power();
  }

  // '^' and '.^' bind tighter than unary minus and associate to the right.
  Expr power() {
    Expr base = postfix();
    if (is_op("^") || is_op(".^")) {
      Expr e;
      e.kind = ExprKind::Binary;
      e.text = peek().text;
      e.loc = peek().loc;
      next();
      e.args.push_back(std::move(base));
      e.args.push_back(prefix());
      return e;
    }
    return base;
  }

  Expr postfix() {
    Expr e = primary();
    for (;;) {
      if (is_op("[")) {
        Expr ix;
        ix.kind = ExprKind::Index;
        ix.loc = e.loc;
        next();
        ix.args.push_back(std::move(e));
        for (;;) {
          ix.indices.push_back(index_item());
          if (is_op(",")) {
            next();
            continue;
          }
          expect("]", "or ',' in the index");
          break;
        }
        e = std::move(ix);
      } else if (is_op("'")) {
        Expr t;
        t.kind = ExprKind::Transpose;
        t.loc = e.loc;
        next();
        t.args.push_back(std::move(e));
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

  IndexItem index_item() {
    IndexItem it;
    if (is_op(":")) {
      next();
      if (is_op("]") || is_op(",")) {
        it.kind = IndexItem::All;
      } else {
        it.kind = IndexItem::Upper;
        it.bounds.push_back(expr());
      }
      return it;
    }
    if (is_op("]") || is_op(",")) fail(peek(), "expected an index");
    it.bounds.push_back(expr());
    if (is_op(":")) {
      next();
      if (is_op("]") || is_op(",")) {
        it.kind = IndexItem::Lower;
      } else {
        it.kind = IndexItem::Range;
        it.bounds.push_back(expr());
      }
    }
    return it;
  }

  Expr primary() {
    const Token& t = peek();
    Expr e;
    e.loc = t.loc;
    switch (t.kind) {
      case Tok::IntLit: {
        e.kind = ExprKind::IntLit;
        e.text = next().text;
        // Stan ints are 32-bit; compare as text to avoid overflow while converting.
        const std::string digits = e.text.substr(std::min(e.text.find_first_not_of('0'), e.text.size()));
        if (digits.size() > 10 || (digits.size() == 10 && digits > "2147483647"))
          fail_at(e.loc, fmt::format("integer literal {} is too large for int (at most "
                                     "2147483647); write it as a real, e.g. {}.0",
                                     e.text, e.text));
        return e;
      }
      case Tok::RealLit:
        e.kind = ExprKind::RealLit;
        e.text = next().text;
        return e;
      case Tok::ImagLit:
        e.kind = ExprKind::ImagLit;
        e.text = next().text;
        return e;
      case Tok::String:
        fail(t, "expected an expression (strings are only allowed in print, reject and "
                "fatal_error)");
      case Tok::End:
        fail(t, "expected an expression");
      case Tok::Ident: {
        e.text = next().text;
        if (!is_op("(")) {
          if (is_reserved_word(e.text) && e.text != "target")
            fail_at(e.loc, fmt::format("expected an expression, found reserved word '{}'", e.text));
          e.kind = ExprKind::Var;
          return e;
        }
        next();
        e.kind = ExprKind::Call;
        if (is_op(")")) {
          next();
          return e;
        }
        e.args.push_back(expr());
        if (is_op("|")) {
          if (!is_cond_dist_name(e.text))
            fail(peek(), fmt::format("expected ',' or ')' ('|' only follows the first argument of "
                                     "a _lpdf/_lpmf/_lcdf/_lccdf/_cdf function, not '{}')",
                                     e.text));
          e.kind = ExprKind::CondCall;
          next();
        } else if (is_cond_dist_name(e.text) && is_op(",")) {
          fail(peek(), fmt::format("expected '|' after the first argument of '{}'", e.text));
        } else if (is_op(",")) {
          next();
        } else if (!is_op(")")) {
          fail(peek(), fmt::format("expected ',' or ')' in the arguments of '{}'", e.text));
        }
        if (!is_op(")") || e.kind == ExprKind::CondCall) {
          auto rest = expr_list_until(")", fmt::format("in the arguments of '{}'", e.text));
          for (auto& a : rest) e.args.push_back(std::move(a));
        }
        next();
        return e;
      }
      case Tok::Op:
        if (t.text == "(") {
          next();
          e.kind = ExprKind::Paren;
          e.args.push_back(expr());
          expect(")", "to close '('");
          return e;
        }
        if (t.text == "{" || t.text == "[") {
          const bool arr = t.text == "{";
          next();
          e.kind = arr ? ExprKind::ArrayExpr : ExprKind::RowVectorExpr;
          const char* close = arr ? "}" : "]";
          e.args = expr_list_until(close, arr ? "in the array expression" : "in the row vector");
          if (arr && e.args.empty()) fail(peek(), "expected an expression");
          next();
          return e;
        }
        fail(t, "expected an expression");
    }
    fail(t, "expected an expression");
  }

  const std::string& src_;
  std::string file_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
};

}  // namespace

bool is_type_keyword(const std::string& w) { return w == "array" || type_keywords().count(w); }

bool is_reserved_word(const std::string& w) {
  static const std::set<std::string> words = {
      "for",       "in",         "while",   "repeat",     "until",  "if",
      "then",      "else",       "true",    "false",      "target", "functions",
      "model",     "data",       "parameters", "quantities", "transformed", "generated",
      "return",    "break",      "continue", "print",     "reject", "fatal_error",
      "profile",   "void",       "array",   "tuple",      "lower",  "upper",
      "offset",    "multiplier", "struct",  "typedef",    "export", "auto",
      "extern",    "var",        "static"};
  // lower/upper/offset/multiplier are contextual in Stan: variables may use them.
  if (w == "lower" || w == "upper" || w == "offset" || w == "multiplier") return false;
  return words.count(w) != 0 || type_keywords().count(w) != 0;
}

Program parse(const std::string& source, const std::string& file) {
  return Parser(source, file).program();
}

Program parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, 0, 0, "cannot open the Stan program");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

Expr parse_expression(const std::string& source, const std::string& file) {
  return Parser(source, file).whole_expression();
}

}  // namespace exmc::stan
