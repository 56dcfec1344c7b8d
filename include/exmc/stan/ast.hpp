// The typed abstract syntax tree of a Stan program, as produced by the parser.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace exmc::stan {

// Source position (1-based). Positions never take part in AST equality, so that
// parse -> print -> parse compares equal although columns move.
struct Loc {
  int line = 0;
  int col = 0;
  bool operator==(const Loc&) const { return true; }
};

enum class ExprKind {
  IntLit,       // text: the literal as written
  RealLit,      // text
  ImagLit,      // text, including the trailing 'i'
  StringLit,    // text: contents without quotes (escapes kept as written)
  Var,          // text: name
  Unary,        // text: "-", "+", "!"; args[0]
  Binary,       // text: operator; args[0], args[1]
  Ternary,      // args[0] ? args[1] : args[2]
  Transpose,    // args[0]'
  Call,         // text: function name; args
  CondCall,     // text: name ending _lpdf/_lpmf/...; args[0] | args[1..]
  Index,        // args[0] is the indexed expression; indices
  ArrayExpr,    // { args... }
  RowVectorExpr,  // [ args... ]
  Paren,        // ( args[0] ) — kept so the printer reproduces the grouping written
};

struct Expr;

// One index inside [...]: a[i] (Single; also multi-indexing when i is an int array),
// a[:] (All), a[l:] (Lower), a[:u] (Upper), a[l:u] (Range).
struct IndexItem {
  enum Kind { Single, All, Lower, Upper, Range };
  Kind kind = Single;
  std::vector<Expr> bounds;  // Single/Lower: {e}; Upper: {u}; Range: {l, u}; All: {}
  bool operator==(const IndexItem&) const = default;
};

struct Expr {
  ExprKind kind = ExprKind::IntLit;
  std::string text;
  std::vector<Expr> args;
  std::vector<IndexItem> indices;
  Loc loc;
  bool operator==(const Expr&) const = default;
};

enum class BaseType {
  Int,
  Real,
  Complex,
  Vector,
  RowVector,
  Matrix,
  ComplexVector,
  ComplexRowVector,
  ComplexMatrix,
  Simplex,
  Ordered,
  PositiveOrdered,
  UnitVector,
  SumToZeroVector,
  CholeskyFactorCorr,
  CholeskyFactorCov,
  CorrMatrix,
  CovMatrix,
};

// The Stan keyword of a base type ("cholesky_factor_corr").
const char* base_type_name(BaseType t);

// A sized declaration type: `array[A, B] vector<lower=L>[N] x`.
struct SizedType {
  BaseType base = BaseType::Real;
  std::vector<Expr> array_dims;  // outer array sizes
  std::vector<Expr> dims;        // vector/simplex: {N}; matrix: {R, C}; cov_matrix: {K};
                                 // cholesky_factor_cov: {M} or {M, N}
  std::optional<Expr> lower, upper, offset, multiplier;
  // Written `real x[N]` (pre-2.33 syntax) rather than `array[N] real x`; the printer keeps it.
  bool old_array_syntax = false;
  bool operator==(const SizedType&) const = default;
};

struct VarDecl {
  SizedType type;
  std::string name;
  std::optional<Expr> init;
  Loc loc;       // of the type keyword
  Loc name_loc;  // of the name
  bool operator==(const VarDecl&) const = default;
};

enum class StmtKind {
  Decl,        // decl
  Assign,      // exprs[0] op exprs[1]; op in = += -= *= /= .*= ./=
  Tilde,       // exprs[0] ~ name(exprs[1..]); truncation in trunc_lo/trunc_hi
  TargetPlus,  // target += exprs[0]
  JacobianPlus,  // jacobian += exprs[0]
  For,         // for (name in exprs[0] : exprs[1]) body[0]
  Foreach,     // for (name in exprs[0]) body[0]
  While,       // while (exprs[0]) body[0]
  If,          // if (exprs[0]) body[0] [else body[1]]
  Block,       // { body... }
  Break,
  Continue,
  Return,      // return [exprs[0]];
  Print,       // print(exprs...)
  Reject,      // reject(exprs...)
  FatalError,  // fatal_error(exprs...)
  CallStmt,    // exprs[0] is a Call of a void function
  Empty,       // ;
  Profile,     // profile("name") { body... }; name holds the label
};

struct Stmt {
  StmtKind kind = StmtKind::Empty;
  Loc loc;
  std::string name;  // loop variable, distribution name, profile label
  std::string op;    // assignment operator
  std::vector<Expr> exprs;
  std::vector<Stmt> body;
  std::vector<VarDecl> decl;  // one element for Decl
  bool has_truncation = false;
  std::optional<Expr> trunc_lo, trunc_hi;
  bool operator==(const Stmt&) const = default;
};

// A function argument or return type: `data array[,] real`, `vector`, `void`.
struct UnsizedType {
  BaseType base = BaseType::Real;
  int array_dims = 0;
  bool is_void = false;
  bool is_data = false;
  bool old_array_syntax = false;  // `real[] x` rather than `array[] real x`
  bool operator==(const UnsizedType&) const = default;
};

struct FunArg {
  UnsizedType type;
  std::string name;
  Loc loc;
  bool operator==(const FunArg&) const = default;
};

struct FunDef {
  UnsizedType return_type;
  std::string name;
  std::vector<FunArg> args;
  std::vector<Stmt> body;  // empty for a forward declaration; else one Block statement
  Loc loc;
  bool is_forward_decl() const { return body.empty(); }
  bool operator==(const FunDef&) const = default;
};

enum class BlockKind {
  Functions,
  Data,
  TransformedData,
  Parameters,
  TransformedParameters,
  Model,
  GeneratedQuantities,
};
constexpr int kNumBlocks = 7;
// "transformed data", ...
const char* block_name(BlockKind b);

struct Block {
  bool present = false;
  std::vector<Stmt> stmts;  // for the functions block: empty (see Program::functions)
  Loc loc;
  bool operator==(const Block&) const = default;
};

struct Program {
  std::string file;    // the name errors use; not part of equality
  std::string source;  // the text parsed, for error snippets; not part of equality
  std::vector<FunDef> functions;
  Block blocks[kNumBlocks];
  Block& block(BlockKind b) { return blocks[static_cast<int>(b)]; }
  const Block& block(BlockKind b) const { return blocks[static_cast<int>(b)]; }
  bool operator==(const Program& o) const;
};

}  // namespace exmc::stan
