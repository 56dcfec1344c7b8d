// AST -> Stan text, used for round-trip tests and for showing lowered programs.
#include "exmc/stan/printer.hpp"

#include <fmt/format.h>

namespace exmc::stan {
namespace {

int prec_of(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Ternary: return 0;
    case ExprKind::Binary: {
      const std::string& o = e.text;
      if (o == "||") return 1;
      if (o == "&&") return 2;
      if (o == "==" || o == "!=") return 3;
      if (o == "<" || o == "<=" || o == ">" || o == ">=") return 4;
      if (o == "+" || o == "-") return 5;
      if (o == "\\") return 7;
      if (o == "^" || o == ".^") return 9;
      return 6;
    }
    case ExprKind::Unary: return 8;
    default: return 10;
  }
}

std::string wrap_if(const Expr& e, bool need) {
  const std::string s = print_expr(e);
  return need ? "(" + s + ")" : s;
}

std::string join(const std::vector<Expr>& v, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < v.size(); ++i) s += (i > from ? ", " : "") + print_expr(v[i]);
  return s;
}

std::string print_index(const IndexItem& ix) {
  switch (ix.kind) {
    case IndexItem::Single: return print_expr(ix.bounds[0]);
    case IndexItem::All: return ":";
    case IndexItem::Lower: return print_expr(ix.bounds[0]) + ":";
    case IndexItem::Upper: return ":" + print_expr(ix.bounds[0]);
    case IndexItem::Range: return print_expr(ix.bounds[0]) + ":" + print_expr(ix.bounds[1]);
  }
  return "";
}

std::string print_constraints(const SizedType& t) {
  std::vector<std::string> parts;
  // Bounds are parsed at additive precedence, so anything looser needs parentheses.
  auto bound = [](const char* k, const Expr& e) {
    return std::string(k) + "=" + wrap_if(e, prec_of(e) < 5);
  };
  if (t.lower) parts.push_back(bound("lower", *t.lower));
  if (t.upper) parts.push_back(bound("upper", *t.upper));
  if (t.offset) parts.push_back(bound("offset", *t.offset));
  if (t.multiplier) parts.push_back(bound("multiplier", *t.multiplier));
  if (parts.empty()) return "";
  std::string s = "<";
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
  return s + ">";
}

std::string print_unsized(const UnsizedType& t) {
  if (t.is_void) return "void";
  std::string s = t.is_data ? "data " : "";
  const std::string commas(t.array_dims > 0 ? static_cast<size_t>(t.array_dims - 1) : 0, ',');
  if (t.array_dims > 0 && !t.old_array_syntax) s += "array[" + commas + "] ";
  s += base_type_name(t.base);
  if (t.array_dims > 0 && t.old_array_syntax) s += "[" + commas + "]";
  return s;
}

class Printer {
 public:
  std::string out;

  void line(int depth, const std::string& s) {
    out.append(static_cast<size_t>(2 * depth), ' ');
    out += s;
    out += '\n';
  }

  std::string decl_text(const VarDecl& d) {
    std::string s = print_type(d.type) + " " + d.name;
    if (d.type.old_array_syntax) s += "[" + join(d.type.array_dims) + "]";
    if (d.init) s += " = " + print_expr(*d.init);
    return s + ";";
  }

  // Statements that are bodies of for/while/if are printed as blocks only when they are.
  void stmt(const Stmt& s, int depth) {
    switch (s.kind) {
      case StmtKind::Decl: line(depth, decl_text(s.decl[0])); return;
      case StmtKind::Assign:
        line(depth, print_expr(s.exprs[0]) + " " + s.op + " " + print_expr(s.exprs[1]) + ";");
        return;
      case StmtKind::Tilde: {
        std::string t = print_expr(s.exprs[0]) + " ~ " + s.name + "(" + join(s.exprs, 1) + ")";
        if (s.has_truncation)
          t += " T[" + (s.trunc_lo ? print_expr(*s.trunc_lo) : "") + ", " +
               (s.trunc_hi ? print_expr(*s.trunc_hi) : "") + "]";
        line(depth, t + ";");
        return;
      }
      case StmtKind::TargetPlus: line(depth, "target += " + print_expr(s.exprs[0]) + ";"); return;
      case StmtKind::JacobianPlus:
        line(depth, "jacobian += " + print_expr(s.exprs[0]) + ";");
        return;
      case StmtKind::For:
        line(depth, "for (" + s.name + " in " + print_expr(s.exprs[0]) + ":" +
                        print_expr(s.exprs[1]) + ")" + opener(s.body[0]));
        body(s.body[0], depth);
        return;
      case StmtKind::Foreach:
        line(depth, "for (" + s.name + " in " + print_expr(s.exprs[0]) + ")" + opener(s.body[0]));
        body(s.body[0], depth);
        return;
      case StmtKind::While:
        line(depth, "while (" + print_expr(s.exprs[0]) + ")" + opener(s.body[0]));
        body(s.body[0], depth);
        return;
      case StmtKind::If:
        line(depth, "if (" + print_expr(s.exprs[0]) + ")" + opener(s.body[0]));
        body(s.body[0], depth);
        if (s.body.size() > 1) {
          line(depth, std::string("else") + opener(s.body[1]));
          body(s.body[1], depth);
        }
        return;
      case StmtKind::Block:
        line(depth, "{");
        for (const auto& c : s.body) stmt(c, depth + 1);
        line(depth, "}");
        return;
      case StmtKind::Break: line(depth, "break;"); return;
      case StmtKind::Continue: line(depth, "continue;"); return;
      case StmtKind::Return:
        line(depth, s.exprs.empty() ? "return;" : "return " + print_expr(s.exprs[0]) + ";");
        return;
      case StmtKind::Print: line(depth, "print(" + join(s.exprs) + ");"); return;
      case StmtKind::Reject: line(depth, "reject(" + join(s.exprs) + ");"); return;
      case StmtKind::FatalError: line(depth, "fatal_error(" + join(s.exprs) + ");"); return;
      case StmtKind::CallStmt: line(depth, print_expr(s.exprs[0]) + ";"); return;
      case StmtKind::Empty: line(depth, ";"); return;
      case StmtKind::Profile:
        line(depth, "profile(\"" + s.name + "\") {");
        for (const auto& c : s.body) stmt(c, depth + 1);
        line(depth, "}");
        return;
    }
  }

  static std::string opener(const Stmt& b) { return b.kind == StmtKind::Block ? " {" : ""; }

  void body(const Stmt& b, int depth) {
    if (b.kind == StmtKind::Block) {
      for (const auto& c : b.body) stmt(c, depth + 1);
      line(depth, "}");
    } else {
      stmt(b, depth + 1);
    }
  }
};

}  // namespace

std::string print_type(const SizedType& t) {
  std::string s;
  if (!t.array_dims.empty() && !t.old_array_syntax) s += "array[" + join(t.array_dims) + "] ";
  s += base_type_name(t.base);
  s += print_constraints(t);
  if (!t.dims.empty()) s += "[" + join(t.dims) + "]";
  return s;
}

std::string print_expr(const Expr& e) {
  switch (e.kind) {
    case ExprKind::IntLit:
    case ExprKind::RealLit:
    case ExprKind::ImagLit:
    case ExprKind::Var: return e.text;
    case ExprKind::StringLit: return "\"" + e.text + "\"";
    case ExprKind::Unary: return e.text + wrap_if(e.args[0], prec_of(e.args[0]) < 8);
    case ExprKind::Binary: {
      const int p = prec_of(e);
      const bool right_assoc = p == 9;
      const bool lneed = right_assoc ? prec_of(e.args[0]) <= p : prec_of(e.args[0]) < p;
      const bool rneed = right_assoc ? prec_of(e.args[1]) < 8 : prec_of(e.args[1]) <= p;
      return wrap_if(e.args[0], lneed) + " " + e.text + " " + wrap_if(e.args[1], rneed);
    }
    case ExprKind::Ternary:
      return wrap_if(e.args[0], prec_of(e.args[0]) < 1) + " ? " + print_expr(e.args[1]) + " : " +
             print_expr(e.args[2]);
    case ExprKind::Transpose: return wrap_if(e.args[0], prec_of(e.args[0]) < 10) + "'";
    case ExprKind::Call: return e.text + "(" + join(e.args) + ")";
    case ExprKind::CondCall: {
      std::string s = e.text + "(" + print_expr(e.args[0]) + " |";
      if (e.args.size() > 1) s += " " + join(e.args, 1);
      return s + ")";
    }
    case ExprKind::Index: {
      std::string s = wrap_if(e.args[0], prec_of(e.args[0]) < 10) + "[";
      for (size_t i = 0; i < e.indices.size(); ++i) s += (i ? ", " : "") + print_index(e.indices[i]);
      return s + "]";
    }
    case ExprKind::ArrayExpr: return "{" + join(e.args) + "}";
    case ExprKind::RowVectorExpr: return "[" + join(e.args) + "]";
    case ExprKind::Paren: return "(" + print_expr(e.args[0]) + ")";
  }
  return "";
}

namespace {
void old_arrays(Stmt& s) {
  for (auto& d : s.decl)
    if (!d.type.array_dims.empty()) d.type.old_array_syntax = true;
  for (auto& b : s.body) old_arrays(b);
}
}  // namespace

void use_old_array_syntax(Program& p) {
  for (auto& f : p.functions) {
    if (f.return_type.array_dims) f.return_type.old_array_syntax = true;
    for (auto& a : f.args)
      if (a.type.array_dims) a.type.old_array_syntax = true;
    for (auto& s : f.body) old_arrays(s);
  }
  for (auto& b : p.blocks)
    for (auto& s : b.stmts) old_arrays(s);
}

std::string print_program(const Program& p) {
  Printer pr;
  for (int b = 0; b < kNumBlocks; ++b) {
    const Block& blk = p.blocks[b];
    if (!blk.present) continue;
    pr.line(0, std::string(block_name(static_cast<BlockKind>(b))) + " {");
    if (b == 0) {
      for (const auto& f : p.functions) {
        std::string h = print_unsized(f.return_type) + " " + f.name + "(";
        for (size_t i = 0; i < f.args.size(); ++i)
          h += (i ? ", " : "") + print_unsized(f.args[i].type) + " " + f.args[i].name;
        h += ")";
        if (f.is_forward_decl()) {
          pr.line(1, h + ";");
        } else {
          pr.line(1, h + " {");
          for (const auto& c : f.body[0].body) pr.stmt(c, 2);
          pr.line(1, "}");
        }
      }
    }
    for (const auto& s : blk.stmts) pr.stmt(s, 1);
    pr.line(0, "}");
  }
  return pr.out;
}

}  // namespace exmc::stan
