// Constraint transforms as graph ops (see transform_graph.hpp).
#include "transform_graph.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace exmc::model::detail {

using graph::Expr;
using graph::Shape;
using transform::Kind;
using graph::concat;
using graph::cumulative_sum;
using graph::gather;
using graph::reshape;
using graph::slice;
using graph::dot;
using graph::sum;
using graph::matmul;
using graph::transpose;

namespace {

constexpr double kLog2 = 0.693147180559945309417232121458176568;

Expr vec_const(graph::Graph& g, std::vector<double> v) {
  const size_t n = v.size();
  return g.data(std::move(v), {n});
}

// A bound in the variable's shape, or a one-element expression (broadcast).
Expr in_shape(Expr b, const Shape& shape) {
  const size_t n = graph::shape_size(shape);
  if (b.size() == n && n != 1 && b.shape() != shape) return reshape(b, shape);
  return b;
}

// How many elements of a bound known before sampling (data, a literal) are the infinity that
// means "no bound on this side" (Stan's negative_infinity() lower, positive_infinity() upper).
enum class Infinite { kNone, kSome, kAll };
Infinite infinite_elements(const graph::Graph& g, Expr b, double inf) {
  const graph::Node* nd = &g.node(b.id());
  if (nd->op == graph::Op::kReshape) nd = &g.node(nd->in[0]);
  if (nd->op != graph::Op::kConst || nd->values.empty()) return Infinite::kNone;
  size_t k = 0;
  for (double v : nd->values) k += v == inf;
  return k == 0 ? Infinite::kNone : k == nd->values.size() ? Infinite::kAll : Infinite::kSome;
}

// Whether bounds known before sampling (data, literals) have an upper - lower that overflows to
// inf for some element although both are finite (-1e308 and 1e308).
bool width_overflows(const graph::Graph& g, Expr lower, Expr upper) {
  auto values = [&](Expr b) -> const std::vector<double>* {
    const graph::Node* nd = &g.node(b.id());
    if (nd->op == graph::Op::kReshape) nd = &g.node(nd->in[0]);
    return nd->op == graph::Op::kConst && !nd->values.empty() ? &nd->values : nullptr;
  };
  const std::vector<double>* l = values(lower);
  const std::vector<double>* u = values(upper);
  if (!l || !u) return false;
  const size_t n = std::max(l->size(), u->size());
  for (size_t i = 0; i < n; ++i) {
    const double a = (*l)[l->size() == 1 ? 0 : i], b = (*u)[u->size() == 1 ? 0 : i];
    if (std::isfinite(a) && std::isfinite(b) && std::isinf(b - a)) return true;
  }
  return false;
}

// Sum of a log-Jacobian vector; a one-element one is already a term (saves a node).
Expr total(Expr v) { return v.size() == 1 ? v : sum(v); }

bool is_const(const graph::Graph& g, Expr e, double v) {
  const graph::Node& nd = g.node(e.id());
  return nd.op == graph::Op::kConst && nd.values.size() == 1 && nd.values[0] == v;
}

// sum(log w) over n elements, w of size 1 or n.
Expr sum_log(graph::Graph& g, Expr w, size_t n) {
  if (w.size() == 1) return g.constant(double(n)) * log(w);
  return sum(log(w));
}

// A log-type coordinate clamped: `exp_in` for exp() (within [-floor, bound]) and `jac`, its
// log-Jacobian (capped at bound only, so the density keeps decaying below the floor, where the
// value no longer moves: guards.hpp's clamp_log_jacobian).
// fmin/fmax drop a NaN, so the clamp alone turns NaN into exp(c) and +-inf into exp(+-c):
// finite numbers that look like values. keep_non_finite lets those through (a select per
// variable, which the JIT does not inline: not for the sampler's density).
struct Clamped {
  Expr exp_in, jac;
};
Clamped clamp_expr(Expr e, LogClamp c, bool keep_non_finite) {
  Expr capped = fmin(e, c.bound);
  Expr clamped = fmax(capped, -c.floor);
  if (c.jacobian_clamped) capped = clamped;
  if (!keep_non_finite) return {clamped, capped};
  Expr inf = e.graph()->constant(INFINITY);
  return {select(graph::Cmp::kLt, abs(e), inf, clamped, e), select(graph::Cmp::kLt, abs(e), inf, capped, e)};
}

// Lower-triangular M x N factor with log-diagonal: returns L and the log-diagonal's Jacobian terms.
std::pair<Expr, Expr> cholesky_cov_graph(graph::Graph& g, Expr x, size_t M, size_t N, LogClamp clamp,
                                        bool keep_non_finite) {
  const size_t p = N * (N + 1) / 2 + (M - N) * N;
  std::vector<int> dpos(N);
  for (size_t i = 0; i < N; ++i) dpos[i] = int(i * (i + 1) / 2 + i);
  const Clamped c = clamp_expr(gather(x, dpos), clamp, keep_non_finite);
  Expr all = concat({x, exp(c.exp_in), g.constant(0.0)});
  std::vector<int> cell(M * N);
  for (size_t j = 0; j < N; ++j)
    for (size_t i = 0; i < M; ++i) {
      int k;
      if (i < j) k = int(p + N);
      else if (i == j) k = int(p + i);
      else k = int(i < N ? i * (i + 1) / 2 + j : N * (N + 1) / 2 + (i - N) * N + j);
      cell[i + M * j] = k;
    }
  return {reshape(gather(all, cell), {M, N}), c.jac};
}

// Cholesky factor of a correlation matrix (see src/transform/matrix.cc for the maths).
GraphTransform cholesky_corr_graph(graph::Graph& g, Expr x, size_t K, bool to_corr) {
  if (K == 1) return {reshape(vec_const(g, {1.0}), {1, 1}), Expr()};
  const size_t p = K * (K - 1) / 2;
  Expr ax = abs(x);
  Expr c = g.constant(2 * kLog2) - 2.0 * ax - 2.0 * log1p(exp(-2.0 * ax));  // log(1 - tanh^2)
  Expr cs = cumulative_sum(c);
  Expr ex = cs - c;  // exclusive prefix sums over all rows
  std::vector<int> base(p), row_base(K - 1), row_last(K - 1);
  size_t k = 0;
  for (size_t i = 1; i < K; ++i) {
    row_base[i - 1] = int(i * (i - 1) / 2);
    row_last[i - 1] = int(i * (i - 1) / 2 + i - 1);
    for (size_t j = 0; j < i; ++j) base[k++] = int(i * (i - 1) / 2);
  }
  Expr lw = ex - gather(ex, base);                              // lw_j within each row
  Expr lwr = gather(cs, row_last) - gather(ex, row_base);       // lw of each row's diagonal
  Expr off = tanh(x) * exp(0.5 * lw);
  Expr diag = exp(0.5 * lwr);
  Expr all = concat({off, diag, g.constant(0.0), g.constant(1.0)});
  std::vector<int> cell(K * K);
  for (size_t j = 0; j < K; ++j)
    for (size_t i = 0; i < K; ++i) {
      int id;
      if (i < j) id = int(p + K - 1);
      else if (i == 0) id = int(p + K);
      else if (i == j) id = int(p + i - 1);
      else id = int(i * (i - 1) / 2 + j);
      cell[i + K * j] = id;
    }
  Expr L = reshape(gather(all, cell), {K, K});
  Expr lj = sum(c) + 0.5 * sum(lw);
  if (to_corr) {
    std::vector<double> coef(K - 1);
    for (size_t i = 1; i < K; ++i) coef[i - 1] = 0.5 * double(K - 1 - i);
    lj = lj + dot(lwr, vec_const(g, coef));
  }
  return {L, lj};
}

}  // namespace

GraphTransform transform_in_graph(graph::Graph& g, Kind kind, Expr x, const Shape& shape, Expr lower, Expr upper,
                                  Expr offset, Expr multiplier, LogClamp clamp,
                                  bool keep_non_finite) {
  const size_t n = graph::shape_size(shape);
  auto shaped = [&](Expr y) { return y.shape() == shape ? y : reshape(y, shape); };
  // Elementwise transforms receive x in the variable's shape; the others a flat {u} vector.
  if (lower.valid()) lower = in_shape(lower, shape);
  if (upper.valid()) upper = in_shape(upper, shape);
  if (offset.valid()) offset = in_shape(offset, shape);
  if (multiplier.valid()) multiplier = in_shape(multiplier, shape);
  switch (kind) {
    case Kind::kIdentity:
      return {shaped(x), Expr()};
    case Kind::kLower:
    case Kind::kUpper: {
      // An infinite bound (-inf lower, +inf upper) is no bound, as in Stan: identity there.
      const bool lo = kind == Kind::kLower;
      Expr b = lo ? lower : upper;
      const double inf = lo ? -INFINITY : INFINITY;
      const Infinite none = infinite_elements(g, b, inf);
      if (none == Infinite::kAll) return {shaped(x), Expr()};
      const Clamped c = clamp_expr(x, clamp, keep_non_finite);
      Expr e = exp(c.exp_in);
      Expr y = !lo ? b - e : is_const(g, b, 0.0) ? e : b + e;
      if (none == Infinite::kNone) return {shaped(y), total(c.jac)};
      Expr unbounded = g.constant(inf);
      return {shaped(select(graph::Cmp::kEq, b, unbounded, x, y)),
              sum(select(graph::Cmp::kEq, b, unbounded, g.constant(0.0), c.jac))};
    }
    case Kind::kLowerUpper: {
      const Infinite lo = infinite_elements(g, lower, -INFINITY), up = infinite_elements(g, upper, INFINITY);
      if (lo == Infinite::kAll && up == Infinite::kAll) return {shaped(x), Expr()};
      if (lo == Infinite::kAll && up == Infinite::kNone)
        return transform_in_graph(g, Kind::kUpper, x, shape, Expr(), upper, Expr(), Expr(), clamp, keep_non_finite);
      if (up == Infinite::kAll && lo == Infinite::kNone)
        return transform_in_graph(g, Kind::kLower, x, shape, lower, Expr(), Expr(), Expr(), clamp, keep_non_finite);
      if (lo == Infinite::kNone && up == Infinite::kNone) {
        if (width_overflows(g, lower, upper)) {
          // -1e308 to 1e308: in halves, y = 2 (l/2 + h inv_logit(x)) with h = u/2 - l/2, which
          // is l + (u - l) inv_logit(x) exactly where that does not overflow (it gave inf - inf
          // = NaN for every draw).
          Expr h = fmax(0.5 * upper - 0.5 * lower, 0.5e-30);
          return {shaped(2.0 * (0.5 * lower + h * inv_logit(x))),
                  sum(log_inv_logit(x) + log1m_inv_logit(x)) + sum_log(g, h, n) + g.constant(double(n) * kLog2)};
        }
        Expr w = fmax(upper - lower, 1e-30);
        return {shaped(lower + w * inv_logit(x)), sum(log_inv_logit(x) + log1m_inv_logit(x)) + sum_log(g, w, n)};
      }
      // Elements of four kinds (as the kernel's lower_upper_constrain): both bounds, one, none.
      using graph::Cmp;
      const Clamped c = clamp_expr(x, clamp, keep_non_finite);
      Expr ninf = g.constant(-INFINITY), pinf = g.constant(INFINITY), zero = g.constant(0.0);
      auto pick = [&](Expr if_no_lower, Expr if_lower_only, Expr if_upper_only, Expr if_both) {
        return select(Cmp::kEq, lower, ninf, select(Cmp::kEq, upper, pinf, if_no_lower, if_upper_only),
                      select(Cmp::kEq, upper, pinf, if_lower_only, if_both));
      };
      // The two-sided branch is computed for every element: with an infinite width its
      // gradient would be 0 * inf = NaN even where it is not chosen, so give it finite bounds.
      Expr lo_f = select(Cmp::kEq, lower, ninf, zero, lower);
      Expr up_f = select(Cmp::kEq, upper, pinf, lo_f + 1.0, upper);
      Expr w = fmax(up_f - lo_f, 1e-30);
      Expr lj_both = log_inv_logit(x) + log1m_inv_logit(x) + log(w);
      return {shaped(pick(x, lower + exp(c.exp_in), upper - exp(c.exp_in), lo_f + w * inv_logit(x))),
              sum(pick(zero, c.jac, c.jac, lj_both))};
    }
    case Kind::kOffsetMultiplier: {
      Expr y = x;
      Expr lj;
      if (multiplier.valid()) {
        Expr m = fmax(multiplier, 1e-30);
        y = m * x;
        lj = sum_log(g, m, n);
      }
      if (offset.valid()) y = offset + y;
      return {shaped(y), lj};
    }
    case Kind::kSoftplus: {
      Expr y = log1p_exp(x);
      if (lower.valid()) y = lower + y;
      return {shaped(y), total(log_inv_logit(x))};
    }
    case Kind::kOrdered: {
      if (n == 1) return {shaped(x), Expr()};
      const Clamped tail = clamp_expr(slice(x, 1, n - 1), clamp, keep_non_finite);
      return {shaped(cumulative_sum(concat({slice(x, 0, 1), exp(tail.exp_in)}))), sum(tail.jac)};
    }
    case Kind::kPositiveOrdered: {
      const Clamped c = clamp_expr(x, clamp, keep_non_finite);
      return {shaped(cumulative_sum(exp(c.exp_in))), sum(c.jac)};
    }
    case Kind::kSimplex: {
      const size_t K = n;
      if (K == 1) return {shaped(vec_const(g, {1.0})), Expr()};
      std::vector<double> centre(K - 1);
      for (size_t k = 0; k + 1 < K; ++k) centre[k] = std::log(double(K - 1 - k));
      Expr a = x - vec_const(g, centre);
      Expr lp = log_inv_logit(a), ln = log1m_inv_logit(a);
      Expr cs = cumulative_sum(ln);  // log stick after each break
      Expr prev = K == 2 ? vec_const(g, {0.0}) : concat({g.constant(0.0), slice(cs, 0, K - 2)});
      Expr y = concat({exp(prev + lp), exp(slice(cs, K - 2, 1))});
      return {shaped(y), sum(prev) + sum(lp) + sum(ln)};
    }
    case Kind::kUnitVector: {
      Expr ss = dot_self(x);
      Expr r = fmax(sqrt(ss), 1e-30);
      return {shaped(x / r), -0.5 * ss};
    }
    case Kind::kCholeskyCov: {
      auto [L, c] = cholesky_cov_graph(g, x, shape[0], shape[1], clamp, keep_non_finite);
      return {L, sum(c)};
    }
    case Kind::kCovMatrix: {
      const size_t K = shape[0];
      auto [L, c] = cholesky_cov_graph(g, x, K, K, clamp, keep_non_finite);
      std::vector<double> w(K);
      for (size_t i = 0; i < K; ++i) w[i] = double(K - i + 1);
      return {matmul(L, transpose(L)), g.constant(K * kLog2) + dot(c, vec_const(g, w))};
    }
    case Kind::kCholeskyCorr:
      return cholesky_corr_graph(g, x, shape[0], false);
    case Kind::kCorrMatrix: {
      GraphTransform t = cholesky_corr_graph(g, x, shape[0], true);
      return {matmul(t.y, transpose(t.y)), t.logj};
    }
  }
  throw std::logic_error("transform_in_graph: unknown kind");
}

}  // namespace exmc::model::detail
