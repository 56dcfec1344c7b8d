// The static tensor-expression DAG: a Graph owns nodes, Expr is a cheap handle used to build it.
//
// Shapes: {} is a scalar, {n} a vector, {r, c} a column-major matrix. Elementwise binary ops
// broadcast when one operand has exactly one element (a scalar, {1} or {1,1}); otherwise both
// shapes must be equal. Building an ill-shaped expression throws std::invalid_argument with a
// message naming the op and both shapes. Nothing here is evaluated: see compile.hpp.
//
//   Graph g;
//   Expr mu = g.param(0), log_sigma = g.param(1), sigma = exp(log_sigma);
//   Expr y = g.data(values, {values.size()});
//   Expr lp = -0.5 * dot_self((y - mu) / sigma) - double(values.size()) * log_sigma + log_sigma;
//   auto density = compile<double>(g, lp, {{"mu", mu}, {"sigma", sigma}});
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace exmc::dist {
struct DistInfo;
}

namespace exmc::graph {

using Shape = std::vector<size_t>;

size_t shape_size(const Shape& s);
std::string shape_str(const Shape& s);

enum class Op : uint8_t {
  // leaves
  kParam, kConst,
  // elementwise binary (broadcasting)
  kAdd, kSub, kMul, kDiv, kPow, kFmin, kFmax,
  // elementwise unary
  kNeg, kAbs, kSqrt, kSquare, kExp, kLog, kLog1p, kExpm1, kLog1pExp, kLogInvLogit,
  kLog1mInvLogit, kInvLogit, kLogit, kTanh, kLgamma, kDigamma, kErf, kErfc, kPhi, kInvPhi,
  // reductions and scans
  kSum, kMean, kDot, kDotSelf, kLogSumExp, kCumSum,
  // linear algebra
  kMatVec, kMatMul, kTranspose, kCholesky, kMdivLeftTriLow, kLogDet,
  // indexing and shape
  kGather, kSlice, kConcat, kBroadcast, kReshape,
  // fused distribution log density (scalar)
  kDistLpdf,
  // elementwise choice on a comparison (select)
  kSelect,
  kNumOps
};

const char* op_name(Op op);

class Graph;

// A handle to one node of a Graph. Copying is free; it stays valid as long as its Graph lives.
class Expr {
 public:
  Expr() = default;
  Expr(Graph* g, int id) : g_(g), id_(id) {}
  Graph* graph() const { return g_; }
  int id() const { return id_; }
  bool valid() const { return g_ != nullptr && id_ >= 0; }
  const Shape& shape() const;
  size_t size() const;

 private:
  Graph* g_ = nullptr;
  int id_ = -1;
};

// One node. Public so the compiler and debugging tools can read it; build nodes through the
// Graph methods and free functions, never by hand.
struct Node {
  Op op = Op::kConst;
  Shape shape;
  std::vector<int> in;          // input node ids (all smaller than this node's id)
  std::vector<double> values;   // kConst: the values (column-major)
  std::vector<int> index;       // kGather: 0-based indices into the flattened input
  size_t offset = 0;            // kParam: offset into x; kSlice: start; kSelect: the Cmp
  const dist::DistInfo* dist = nullptr;  // kDistLpdf
  bool propto = false;                   // kDistLpdf
  bool depends_on_params = false;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;  // Exprs point at their Graph
  Graph& operator=(const Graph&) = delete;

  // A slice of the unconstrained input vector: x[offset .. offset + size(shape)).
  Expr param(size_t offset, Shape shape = {});
  // A scalar constant.
  Expr constant(double v);
  // Data bound now (copied), column-major for matrices. Throws if values.size() != size(shape).
  Expr data(std::vector<double> values, Shape shape);
  // Highest offset + size over all params: the default dimension of a compiled density.
  size_t num_params() const { return num_params_; }

  const Node& node(int id) const { return nodes_[static_cast<size_t>(id)]; }
  size_t size() const { return nodes_.size(); }

  // Low-level node creation used by the free functions (checks inputs belong to this graph).
  Expr add_node(Node n);

 private:
  std::vector<Node> nodes_;
  size_t num_params_ = 0;
};

// ---- elementwise binary (broadcasting) ----
Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator+(Expr a, double b);
Expr operator-(Expr a, double b);
Expr operator*(Expr a, double b);
Expr operator/(Expr a, double b);
Expr operator+(double a, Expr b);
Expr operator-(double a, Expr b);
Expr operator*(double a, Expr b);
Expr operator/(double a, Expr b);
Expr operator-(Expr a);
Expr pow(Expr a, Expr b);
Expr pow(Expr a, double b);
Expr pow(double a, Expr b);
Expr fmin(Expr a, Expr b);
Expr fmax(Expr a, Expr b);
Expr fmin(Expr a, double b);
Expr fmax(Expr a, double b);

// ---- elementwise unary ----
Expr neg(Expr a);
Expr abs(Expr a);
Expr sqrt(Expr a);
Expr square(Expr a);
Expr exp(Expr a);
Expr log(Expr a);
Expr log1p(Expr a);
Expr expm1(Expr a);
Expr log1p_exp(Expr a);        // log(1 + e^a), overflow-safe
Expr log_inv_logit(Expr a);    // log(1 / (1 + e^-a))
Expr log1m_inv_logit(Expr a);  // log(1 - 1 / (1 + e^-a))
Expr inv_logit(Expr a);
Expr logit(Expr a);
Expr tanh(Expr a);
Expr lgamma(Expr a);
Expr digamma(Expr a);
Expr erf(Expr a);
Expr erfc(Expr a);
Expr Phi(Expr a);      // standard normal CDF
Expr inv_Phi(Expr a);  // its inverse

// ---- reductions (all return a scalar except cumulative_sum) ----
Expr sum(Expr a);
Expr mean(Expr a);
Expr dot(Expr a, Expr b);  // equal sizes, any shapes
Expr dot_self(Expr a);
Expr log_sum_exp(Expr a);
Expr cumulative_sum(Expr a);  // same shape as a

// ---- linear algebra ----
Expr matvec(Expr A, Expr v);       // {r,c} x {c} -> {r}
Expr matmul(Expr A, Expr B);       // {r,k} x {k,c} -> {r,c}
Expr transpose(Expr A);            // {r,c} -> {c,r}
Expr cholesky_decompose(Expr S);   // {n,n} symmetric positive definite -> lower L; reads the lower triangle
Expr mdivide_left_tri_low(Expr L, Expr b);  // L^-1 b, b {n} or {n,c}; reads the lower triangle of L
Expr log_determinant(Expr A);      // log |det A|

// ---- indexing and shape ----
Expr gather(Expr v, std::vector<int> idx);  // {idx.size()}: v_flat[idx[i]]; 0-based, repeats allowed
Expr slice(Expr v, size_t start, size_t len);  // {len}: v_flat[start .. start+len)
Expr concat(const std::vector<Expr>& parts);   // {sum of sizes}: flattened parts one after another
Expr broadcast(Expr scalar, Shape shape);      // a one-element expression repeated to shape
Expr reshape(Expr a, Shape shape);             // same elements, new shape (sizes must match)

// ---- elementwise choice ----
// select(cmp, l, r, a, b)_i = (l_i cmp r_i) ? a_i : b_i. Each argument has one element or the
// result's size (the largest). The comparison carries no gradient; the chosen branch receives
// the adjoint and the other none, so a NaN or infinity in the branch not taken stays out of
// both value and gradient (Stan's `c ? a : b` and `if` on parameters).
enum class Cmp : uint8_t { kLt, kLe, kEq };
Expr select(Cmp cmp, Expr l, Expr r, Expr a, Expr b);

// ---- fused distribution ----
// Scalar log density sum_i log p(args[0]_i | args[1..]_i) computed by d.lpdf_f64 / d.lpdf_f32
// (calling convention in exmc/dist/kernel.hpp). args must match d.arg_names in number.
// propto drops terms that depend on data only, as Stan's `~` does.
Expr dist_lpdf(const dist::DistInfo& d, std::vector<Expr> args, bool propto = true);

}  // namespace exmc::graph
