// Interpreter internals: one compiled instruction, its bound pointers, and the forward and
// reverse kernels of every op, templated on float/double. Private to src/graph.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "exmc/core/math.hpp"
#include "exmc/dist/kernel.hpp"
#include "exmc/graph/graph.hpp"

namespace exmc::graph::detail {

// Static description of one instruction (shared by all workspaces).
struct Ins {
  Op op = Op::kConst;
  uint8_t mode = 0;       // binary broadcast: 0 equal sizes, 1 a is scalar, 2 b is scalar
  bool propto = false;
  bool has_adj = false;   // this node's output carries an adjoint
  bool scalar_ew = false; // elementwise unary/binary op on one-element operands (fast path)
  uint32_t n = 0;         // output size
  uint32_t r = 0, c = 0, k = 0;  // matrix dims (see forward())
  uint32_t offset = 0;    // param offset into x; slice start
  int node = -1;          // node id in the optimised graph (for dump())
  std::vector<int> in;                // input node ids
  std::vector<uint32_t> in_size;      // input sizes
  std::vector<int> idx;               // gather indices
  // Gather over sorted, grouped indices as runs (source index, start, length): the forward
  // step fills, the reverse step sums each run once instead of scattering element by element.
  std::vector<uint32_t> runs;
  const dist::DistInfo* dist = nullptr;
};

// Pointers of one instruction inside one workspace.
template <class T>
struct Exec {
  T* out = nullptr;
  T* adj = nullptr;
  T* fscr = nullptr;  // forward scratch, alive until this node's backward step
  T* bscr = nullptr;  // backward-only scratch
  const T* const* in = nullptr;  // input values
  T* const* ain = nullptr;       // input adjoints (nullptr where the input is constant)
  dist::Arg<T>* args = nullptr;  // kDistLpdf: one per input
  double* dval = nullptr;        // kDistLpdf: the double log density
  // kDistLpdf with a fixed upstream adjoint of 1: the kernel adds its partials straight into
  // these input adjoints (nullptr where an input has none) and the backward step is empty.
  T* const* dgrad = nullptr;
};

template <class T>
inline T inv_logit_(T a) {
  // Two-sided form keeps full precision in both tails.
  if (a >= T(0)) return T(1) / (T(1) + std::exp(-a));
  const T e = std::exp(a);
  return e / (T(1) + e);
}
// log1p(u) for u in [0, 1] by Kahan's correction: a few ulps, and about 4x cheaper than libm's
// log1p, which dominated logistic models.
template <class T>
inline T log1p_unit_(T u) {
  const T w = T(1) + u;
  return w == T(1) ? u : std::log(w) * (u / (w - T(1)));
}
template <class T>
inline T log1p_exp_(T a) {
  return (a > T(0) ? a : T(0)) + log1p_unit_(std::exp(-std::fabs(a)));
}

inline constexpr double kSqrt2 = 1.41421356237309504880;
inline constexpr double kInvSqrt2Pi = 0.39894228040143267794;
inline constexpr double kSqrt2Pi = 2.50662827463100050242;
inline constexpr double kTwoOverSqrtPi = 1.12837916709551257390;

template <class T>
inline T unary_f(Op op, T a) {
  switch (op) {
    case Op::kNeg: return -a;
    case Op::kAbs: return std::fabs(a);
    case Op::kSqrt: return std::sqrt(a);
    case Op::kSquare: return a * a;
    case Op::kExp: return std::exp(a);
    case Op::kLog: return std::log(a);
    case Op::kLog1p: return std::log1p(a);
    case Op::kExpm1: return std::expm1(a);
    case Op::kLog1pExp: return log1p_exp_(a);
    case Op::kLogInvLogit: return -log1p_exp_(-a);
    case Op::kLog1mInvLogit: return -log1p_exp_(a);
    case Op::kInvLogit: return inv_logit_(a);
    case Op::kLogit: return std::log(a / (T(1) - a));
    case Op::kTanh: return std::tanh(a);
    case Op::kLgamma: return math::lgamma(a);
    case Op::kDigamma: return math::digamma(a);
    case Op::kErf: return math::erf(a);
    case Op::kErfc: return math::erfc(a);
    case Op::kPhi: return T(0.5) * math::erfc(-a / T(kSqrt2));
    case Op::kInvPhi:
      if (!(a > T(0) && a < T(1))) {
        if (a == T(0)) return -std::numeric_limits<T>::infinity();
        if (a == T(1)) return std::numeric_limits<T>::infinity();
        return std::numeric_limits<T>::quiet_NaN();
      }
      return -T(kSqrt2) * math::erfc_inv(T(2) * a);
    default: return std::numeric_limits<T>::quiet_NaN();
  }
}

// d out / d a given a and out.
template <class T>
inline T unary_d(Op op, T a, T out) {
  switch (op) {
    case Op::kNeg: return T(-1);
    case Op::kAbs: return a > T(0) ? T(1) : (a < T(0) ? T(-1) : T(0));
    case Op::kSqrt: return T(0.5) / out;
    case Op::kSquare: return T(2) * a;
    case Op::kExp: return out;
    case Op::kLog: return T(1) / a;
    case Op::kLog1p: return T(1) / (T(1) + a);
    case Op::kExpm1: return out + T(1);
    case Op::kLog1pExp: return std::exp(a - out);
    case Op::kLogInvLogit: return std::exp(out - a);
    case Op::kLog1mInvLogit: return -std::exp(a + out);
    case Op::kInvLogit: return out * (T(1) - out);
    case Op::kLogit: return T(1) / (a * (T(1) - a));
    case Op::kTanh: return T(1) - out * out;
    case Op::kLgamma: return math::digamma(a);
    case Op::kDigamma: return math::trigamma(a);
    case Op::kErf: return T(kTwoOverSqrtPi) * std::exp(-a * a);
    case Op::kErfc: return -T(kTwoOverSqrtPi) * std::exp(-a * a);
    case Op::kPhi: return T(kInvSqrt2Pi) * std::exp(T(-0.5) * a * a);
    case Op::kInvPhi: return T(kSqrt2Pi) * std::exp(T(0.5) * out * out);
    default: return std::numeric_limits<T>::quiet_NaN();
  }
}

// Elementwise unary loop with the op hoisted out so the loop body is branch-free per op.
// Sums with independent accumulators so the loop vectorises without reassociation flags.
template <class A, class T, class F>
inline A reduce4(uint32_t n, F f) {
  A s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += A(f(i)); s1 += A(f(i + 1)); s2 += A(f(i + 2)); s3 += A(f(i + 3));
  }
  for (; i < n; ++i) s0 += A(f(i));
  return (s0 + s1) + (s2 + s3);
}

// The reverse step's adj * d, except that a partial of exactly zero passes nothing: an
// adjoint that overflowed upstream (sqrt's partial at 0 is inf) must not turn into NaN where
// the true contribution is zero (an exp that underflowed, the branch fmin did not take, a
// factor of 0). GP spectral densities, sqrt(c * exp(-big)), need it.
template <class T>
inline T chain(T adj, T d) {
  return d == T(0) ? T(0) : adj * d;
}

template <class T, class F>
inline void map1(uint32_t n, const T* __restrict a, T* __restrict out, F f) {
  for (uint32_t i = 0; i < n; ++i) out[i] = f(a[i]);
}
template <class T, class F>
inline void map1_bwd(uint32_t n, const T* __restrict a, const T* __restrict out,
                     const T* __restrict adj, T* __restrict aa, F d) {
  for (uint32_t i = 0; i < n; ++i) aa[i] += chain(adj[i], d(a[i], out[i]));
}

template <class T, class F>
inline void map2(uint8_t mode, uint32_t n, const T* __restrict a, const T* __restrict b,
                 T* __restrict out, F f) {
  if (mode == 0) {
    for (uint32_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (mode == 1) {
    const T a0 = a[0];
    for (uint32_t i = 0; i < n; ++i) out[i] = f(a0, b[i]);
  } else {
    const T b0 = b[0];
    for (uint32_t i = 0; i < n; ++i) out[i] = f(a[i], b0);
  }
}

// Accumulates adj * dF/da into aa and adj * dF/db into ab (either may be null); a scalar
// (broadcast) operand receives the sum.
template <class T, class DA, class DB>
inline void map2_bwd(uint8_t mode, uint32_t n, const T* __restrict a, const T* __restrict b,
                     const T* __restrict out, const T* __restrict adj, T* aa, T* ab, DA da,
                     DB db) {
  if (mode == 0) {
    if (aa) for (uint32_t i = 0; i < n; ++i) aa[i] += chain(adj[i], da(a[i], b[i], out[i]));
    if (ab) for (uint32_t i = 0; i < n; ++i) ab[i] += chain(adj[i], db(a[i], b[i], out[i]));
  } else if (mode == 1) {
    const T a0 = a[0];
    if (aa) aa[0] += reduce4<T, T>(n, [&](uint32_t i) { return chain(adj[i], da(a0, b[i], out[i])); });
    if (ab) for (uint32_t i = 0; i < n; ++i) ab[i] += chain(adj[i], db(a0, b[i], out[i]));
  } else {
    const T b0 = b[0];
    if (aa) for (uint32_t i = 0; i < n; ++i) aa[i] += chain(adj[i], da(a[i], b0, out[i]));
    if (ab) ab[0] += reduce4<T, T>(n, [&](uint32_t i) { return chain(adj[i], db(a[i], b0, out[i])); });
  }
}

template <class T>
using MapM = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>>;
template <class T>
using CMapM = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>>;
template <class T>
using MapV = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <class T>
using CMapV = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;

// Scratch sizes (elements of T) an instruction needs.
inline size_t fwd_scratch_size(const Ins& I, bool grad) {
  switch (I.op) {
    case Op::kLogDet: return size_t(I.r) * I.r + I.r;  // LU factors + pivots
    case Op::kDistLpdf: {
      if (!grad) return 0;
      size_t s = 0;
      for (size_t k = 0; k < I.in_size.size(); ++k) s += I.in_size[k];
      return s;  // partials (only parameter arguments use theirs)
    }
    default: return 0;
  }
}
inline size_t bwd_scratch_size(const Ins& I) {
  switch (I.op) {
    case Op::kCholesky: return 2 * size_t(I.r) * I.r;
    case Op::kMdivLeftTriLow: return size_t(I.r) * I.c;
    case Op::kLogDet: return I.r;
    default: return 0;
  }
}
// Whether the backward step reads the input values / the output value.
inline bool bwd_reads_inputs(Op op) {
  switch (op) {
    case Op::kAdd: case Op::kSub: case Op::kNeg: case Op::kSum: case Op::kMean:
    case Op::kCumSum: case Op::kTranspose: case Op::kGather: case Op::kSlice:
    case Op::kConcat: case Op::kBroadcast: case Op::kReshape: case Op::kDistLpdf:
    case Op::kParam: case Op::kCholesky: case Op::kLogDet:
      return false;
    default: return true;
  }
}
inline bool bwd_reads_output(Op op) {
  switch (op) {
    case Op::kDiv: case Op::kPow: case Op::kSqrt: case Op::kExp: case Op::kExpm1:
    case Op::kLog1pExp: case Op::kLogInvLogit: case Op::kLog1mInvLogit:
    case Op::kInvLogit: case Op::kTanh: case Op::kInvPhi: case Op::kLogSumExp:
    case Op::kCholesky: case Op::kMdivLeftTriLow:
      return true;
    default: return false;
  }
}

// Forward step. x is the unconstrained point (kParam only). grad says whether the dist
// kernels should produce partials.
void forward(const Ins& I, const Exec<double>& E, const double* x, bool grad);
void forward(const Ins& I, const Exec<float>& E, const double* x, bool grad);
// Reverse step: propagates E.adj into the input adjoints; kParam adds into g.
void backward(const Ins& I, const Exec<double>& E, double* g);
void backward(const Ins& I, const Exec<float>& E, double* g);

}  // namespace exmc::graph::detail
