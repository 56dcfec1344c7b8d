// Graph construction: node creation with shape checking for every op.
#include "exmc/graph/graph.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "exmc/dist/kernel.hpp"

namespace exmc::graph {

size_t shape_size(const Shape& s) {
  size_t n = 1;
  for (size_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string r = "{";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "}";
}

const char* op_name(Op op) {
  static const char* names[] = {
      "param", "const", "add", "sub", "mul", "div", "pow", "fmin", "fmax", "neg", "abs", "sqrt",
      "square", "exp", "log", "log1p", "expm1", "log1p_exp", "log_inv_logit", "log1m_inv_logit",
      "inv_logit", "logit", "tanh", "lgamma", "digamma", "erf", "erfc", "Phi", "inv_Phi", "sum",
      "mean", "dot", "dot_self", "log_sum_exp", "cumulative_sum", "matvec", "matmul",
      "transpose", "cholesky_decompose", "mdivide_left_tri_low", "log_determinant", "gather",
      "slice", "concat", "broadcast", "reshape", "dist_lpdf", "select"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(Op::kNumOps));
  return names[static_cast<size_t>(op)];
}

const Shape& Expr::shape() const { return g_->node(id_).shape; }
size_t Expr::size() const { return shape_size(shape()); }

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("exmc::graph: " + msg); }

Graph* graph_of(std::initializer_list<Expr> es) {
  Graph* g = nullptr;
  for (const Expr& e : es) {
    if (!e.valid()) fail("an argument is an empty Expr");
    if (g && e.graph() != g) fail("arguments come from different graphs");
    g = e.graph();
  }
  return g;
}

Expr make(Op op, Shape shape, std::initializer_list<Expr> in) {
  Graph* g = graph_of(in);
  Node n;
  n.op = op;
  n.shape = std::move(shape);
  for (const Expr& e : in) n.in.push_back(e.id());
  return g->add_node(std::move(n));
}

Expr binary(Op op, Expr a, Expr b) {
  graph_of({a, b});
  Shape s;
  if (a.shape() == b.shape()) s = a.shape();
  else if (b.size() == 1) s = a.shape();
  else if (a.size() == 1) s = b.shape();
  else fail(std::string(op_name(op)) + ": shapes " + shape_str(a.shape()) + " and " +
            shape_str(b.shape()) + " do not broadcast (equal shapes or one scalar expected)");
  return make(op, s, {a, b});
}

Expr unary(Op op, Expr a) { graph_of({a}); return make(op, a.shape(), {a}); }
Expr scalar_of(Expr a, double v) { graph_of({a}); return a.graph()->constant(v); }

}  // namespace

Expr Graph::add_node(Node n) {
  for (int i : n.in) {
    if (i < 0 || static_cast<size_t>(i) >= nodes_.size()) fail("node input out of range");
    if (nodes_[static_cast<size_t>(i)].depends_on_params) n.depends_on_params = true;
  }
  if (n.op == Op::kParam) {
    n.depends_on_params = true;
    num_params_ = std::max(num_params_, n.offset + shape_size(n.shape));
  }
  nodes_.push_back(std::move(n));
  return Expr(this, static_cast<int>(nodes_.size() - 1));
}

Expr Graph::param(size_t offset, Shape shape) {
  Node n;
  n.op = Op::kParam;
  n.shape = std::move(shape);
  n.offset = offset;
  return add_node(std::move(n));
}

Expr Graph::constant(double v) {
  Node n;
  n.op = Op::kConst;
  n.values = {v};
  return add_node(std::move(n));
}

Expr Graph::data(std::vector<double> values, Shape shape) {
  if (values.size() != shape_size(shape))
    fail("data of shape " + shape_str(shape) + " needs " + std::to_string(shape_size(shape)) +
         " values, got " + std::to_string(values.size()));
  Node n;
  n.op = Op::kConst;
  n.shape = std::move(shape);
  n.values = std::move(values);
  return add_node(std::move(n));
}


Expr operator+(Expr a, Expr b) { return binary(Op::kAdd, a, b); }
Expr operator-(Expr a, Expr b) { return binary(Op::kSub, a, b); }
Expr operator*(Expr a, Expr b) { return binary(Op::kMul, a, b); }
Expr operator/(Expr a, Expr b) { return binary(Op::kDiv, a, b); }
Expr operator+(Expr a, double b) { return a + scalar_of(a, b); }
Expr operator-(Expr a, double b) { return a - scalar_of(a, b); }
Expr operator*(Expr a, double b) { return a * scalar_of(a, b); }
Expr operator/(Expr a, double b) { return a / scalar_of(a, b); }
Expr operator+(double a, Expr b) { return scalar_of(b, a) + b; }
Expr operator-(double a, Expr b) { return scalar_of(b, a) - b; }
Expr operator*(double a, Expr b) { return scalar_of(b, a) * b; }
Expr operator/(double a, Expr b) { return scalar_of(b, a) / b; }
Expr operator-(Expr a) { return unary(Op::kNeg, a); }
Expr pow(Expr a, Expr b) { return binary(Op::kPow, a, b); }
Expr pow(Expr a, double b) { return pow(a, scalar_of(a, b)); }
Expr pow(double a, Expr b) { return pow(scalar_of(b, a), b); }
Expr fmin(Expr a, Expr b) { return binary(Op::kFmin, a, b); }
Expr fmax(Expr a, Expr b) { return binary(Op::kFmax, a, b); }
Expr fmin(Expr a, double b) { return fmin(a, scalar_of(a, b)); }
Expr fmax(Expr a, double b) { return fmax(a, scalar_of(a, b)); }

Expr neg(Expr a) { return unary(Op::kNeg, a); }
Expr abs(Expr a) { return unary(Op::kAbs, a); }
Expr sqrt(Expr a) { return unary(Op::kSqrt, a); }
Expr square(Expr a) { return unary(Op::kSquare, a); }
Expr exp(Expr a) { return unary(Op::kExp, a); }
Expr log(Expr a) { return unary(Op::kLog, a); }
Expr log1p(Expr a) { return unary(Op::kLog1p, a); }
Expr expm1(Expr a) { return unary(Op::kExpm1, a); }
Expr log1p_exp(Expr a) { return unary(Op::kLog1pExp, a); }
Expr log_inv_logit(Expr a) { return unary(Op::kLogInvLogit, a); }
Expr log1m_inv_logit(Expr a) { return unary(Op::kLog1mInvLogit, a); }
Expr inv_logit(Expr a) { return unary(Op::kInvLogit, a); }
Expr logit(Expr a) { return unary(Op::kLogit, a); }
Expr tanh(Expr a) { return unary(Op::kTanh, a); }
Expr lgamma(Expr a) { return unary(Op::kLgamma, a); }
Expr digamma(Expr a) { return unary(Op::kDigamma, a); }
Expr erf(Expr a) { return unary(Op::kErf, a); }
Expr erfc(Expr a) { return unary(Op::kErfc, a); }
Expr Phi(Expr a) { return unary(Op::kPhi, a); }
Expr inv_Phi(Expr a) { return unary(Op::kInvPhi, a); }

Expr sum(Expr a) { return make(Op::kSum, {}, {a}); }
Expr mean(Expr a) {
  if (a.valid() && a.size() == 0) fail("mean of an empty expression");
  return make(Op::kMean, {}, {a});
}
Expr dot(Expr a, Expr b) {
  graph_of({a, b});
  if (a.size() != b.size())
    fail("dot: sizes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) + " differ");
  return make(Op::kDot, {}, {a, b});
}
Expr dot_self(Expr a) { return make(Op::kDotSelf, {}, {a}); }
Expr log_sum_exp(Expr a) { return make(Op::kLogSumExp, {}, {a}); }
Expr cumulative_sum(Expr a) { graph_of({a}); return make(Op::kCumSum, a.shape(), {a}); }

Expr matvec(Expr A, Expr v) {
  graph_of({A, v});
  if (A.shape().size() != 2 || v.shape().size() != 1 || A.shape()[1] != v.shape()[0])
    fail("matvec: expected {r,c} x {c}, got " + shape_str(A.shape()) + " x " + shape_str(v.shape()));
  return make(Op::kMatVec, {A.shape()[0]}, {A, v});
}
Expr matmul(Expr A, Expr B) {
  graph_of({A, B});
  if (A.shape().size() != 2 || B.shape().size() != 2 || A.shape()[1] != B.shape()[0])
    fail("matmul: expected {r,k} x {k,c}, got " + shape_str(A.shape()) + " x " +
         shape_str(B.shape()));
  return make(Op::kMatMul, {A.shape()[0], B.shape()[1]}, {A, B});
}
Expr transpose(Expr A) {
  graph_of({A});
  if (A.shape().size() != 2) fail("transpose: expected a matrix, got " + shape_str(A.shape()));
  return make(Op::kTranspose, {A.shape()[1], A.shape()[0]}, {A});
}
static void check_square(const char* op, Expr A) {
  graph_of({A});
  if (A.shape().size() != 2 || A.shape()[0] != A.shape()[1])
    fail(std::string(op) + ": expected a square matrix, got " + shape_str(A.shape()));
}
Expr cholesky_decompose(Expr S) {
  check_square("cholesky_decompose", S);
  return make(Op::kCholesky, S.shape(), {S});
}
Expr mdivide_left_tri_low(Expr L, Expr b) {
  check_square("mdivide_left_tri_low", L);
  graph_of({L, b});
  const size_t n = L.shape()[0];
  if (b.shape().empty() || b.shape().size() > 2 || b.shape()[0] != n)
    fail("mdivide_left_tri_low: expected b of shape {" + std::to_string(n) + "} or {" +
         std::to_string(n) + ",c}, got " + shape_str(b.shape()));
  return make(Op::kMdivLeftTriLow, b.shape(), {L, b});
}
Expr log_determinant(Expr A) {
  check_square("log_determinant", A);
  return make(Op::kLogDet, {}, {A});
}

Expr gather(Expr v, std::vector<int> idx) {
  graph_of({v});
  const size_t n = v.size();
  for (size_t i = 0; i < idx.size(); ++i)
    if (idx[i] < 0 || static_cast<size_t>(idx[i]) >= n)
      fail("gather: index " + std::to_string(idx[i]) + " at position " + std::to_string(i) +
           " is outside [0, " + std::to_string(n) + ")");
  Node nd;
  nd.op = Op::kGather;
  nd.shape = {idx.size()};
  nd.in = {v.id()};
  nd.index = std::move(idx);
  return v.graph()->add_node(std::move(nd));
}

Expr slice(Expr v, size_t start, size_t len) {
  graph_of({v});
  if (start + len > v.size())
    fail("slice: [" + std::to_string(start) + ", " + std::to_string(start + len) +
         ") is outside an expression of size " + std::to_string(v.size()));
  Node nd;
  nd.op = Op::kSlice;
  nd.shape = {len};
  nd.in = {v.id()};
  nd.offset = start;
  return v.graph()->add_node(std::move(nd));
}

Expr concat(const std::vector<Expr>& parts) {
  if (parts.empty()) fail("concat of nothing");
  Graph* g = nullptr;
  Node nd;
  nd.op = Op::kConcat;
  size_t n = 0;
  for (const Expr& e : parts) {
    Graph* ge = graph_of({e});
    if (g && ge != g) fail("concat: arguments come from different graphs");
    g = ge;
    n += e.size();
    nd.in.push_back(e.id());
  }
  nd.shape = {n};
  return g->add_node(std::move(nd));
}

Expr broadcast(Expr s, Shape shape) {
  graph_of({s});
  if (s.size() != 1) fail("broadcast: expected a one-element expression, got " + shape_str(s.shape()));
  return make(Op::kBroadcast, std::move(shape), {s});
}

Expr reshape(Expr a, Shape shape) {
  graph_of({a});
  if (a.size() != shape_size(shape))
    fail("reshape: " + shape_str(a.shape()) + " has " + std::to_string(a.size()) +
         " elements, " + shape_str(shape) + " needs " + std::to_string(shape_size(shape)));
  return make(Op::kReshape, std::move(shape), {a});
}

Expr select(Cmp cmp, Expr l, Expr r, Expr a, Expr b) {
  graph_of({l, r, a, b});
  Shape s = a.shape();
  for (const Expr* e : {&b, &l, &r})
    if (shape_size(s) == 1 && e->size() != 1) s = e->shape();
  for (const Expr* e : {&l, &r, &a, &b})
    if (e->size() != 1 && e->size() != shape_size(s))
      fail("select: an argument of shape " + shape_str(e->shape()) + " with a result of shape " +
           shape_str(s) + " (one element or the result's size expected)");
  Node n;
  n.op = Op::kSelect;
  n.shape = std::move(s);
  n.offset = static_cast<size_t>(cmp);
  n.in = {l.id(), r.id(), a.id(), b.id()};
  return l.graph()->add_node(std::move(n));
}

Expr dist_lpdf(const dist::DistInfo& d, std::vector<Expr> args, bool propto) {
  if (args.size() != d.arg_names.size())
    fail(std::string(d.name) + ": expected " + std::to_string(d.arg_names.size()) +
         " arguments, got " + std::to_string(args.size()));
  if (!d.lpdf_f64 || !d.lpdf_f32) fail(std::string(d.name) + ": distribution has no lpdf kernel");
  Graph* g = nullptr;
  Node nd;
  nd.op = Op::kDistLpdf;
  nd.dist = &d;
  nd.propto = propto;
  size_t n = 1;
  for (size_t i = 0; i < args.size(); ++i) {
    Graph* ge = graph_of({args[i]});
    if (g && ge != g) fail(std::string(d.name) + ": arguments come from different graphs");
    g = ge;
    const size_t s = args[i].size();
    if (!d.multivariate && s != 1) {
      if (n != 1 && s != n)
        fail(std::string(d.name) + ": argument " + std::string(d.arg_names[i]) + " has size " +
             std::to_string(s) + ", expected 1 or " + std::to_string(n));
      n = s;
    }
    nd.in.push_back(args[i].id());
  }
  return g->add_node(std::move(nd));
}

}  // namespace exmc::graph
