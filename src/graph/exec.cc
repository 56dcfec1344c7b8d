// Forward and reverse kernels of every graph op (float and double).
#include "exec.hpp"

#include <algorithm>

namespace exmc::graph::detail {

namespace {

template <class T>
void cholesky_fwd(uint32_t n, const T* A, T* L) {
  for (uint32_t j = 0; j < n; ++j) {
    for (uint32_t i = 0; i < j; ++i) L[i + size_t(j) * n] = T(0);
    double s = A[j + size_t(j) * n];
    for (uint32_t k = 0; k < j; ++k) s -= double(L[j + size_t(k) * n]) * L[j + size_t(k) * n];
    if (!(s > 0.0)) {  // not positive definite (or NaN): poison so logp becomes non-finite
      for (size_t q = 0; q < size_t(n) * n; ++q) L[q] = std::numeric_limits<T>::quiet_NaN();
      return;
    }
    const T d = T(std::sqrt(s));
    L[j + size_t(j) * n] = d;
    for (uint32_t i = j + 1; i < n; ++i) {
      double t = A[i + size_t(j) * n];
      for (uint32_t k = 0; k < j; ++k) t -= double(L[i + size_t(k) * n]) * L[j + size_t(k) * n];
      L[i + size_t(j) * n] = T(t / d);
    }
  }
}

// Solves L X = B in place (B is n x c, L lower triangular).
template <class T>
void tri_low_solve(uint32_t n, uint32_t c, const T* L, T* B) {
  for (uint32_t col = 0; col < c; ++col) {
    T* b = B + size_t(col) * n;
    for (uint32_t i = 0; i < n; ++i) {
      T s = b[i];
      for (uint32_t k = 0; k < i; ++k) s -= L[i + size_t(k) * n] * b[k];
      b[i] = s / L[i + size_t(i) * n];
    }
  }
}
// Solves L^T X = B in place.
template <class T>
void tri_low_t_solve(uint32_t n, uint32_t c, const T* L, T* B) {
  for (uint32_t col = 0; col < c; ++col) {
    T* b = B + size_t(col) * n;
    for (uint32_t ii = n; ii-- > 0;) {
      T s = b[ii];
      for (uint32_t k = ii + 1; k < n; ++k) s -= L[k + size_t(ii) * n] * b[k];
      b[ii] = s / L[ii + size_t(ii) * n];
    }
  }
}

// LU with partial pivoting of the n x n matrix in LU (in place); piv[i] holds the row swapped
// with i. Returns log |det|.
template <class T>
T lu_logdet(uint32_t n, T* LU, T* piv) {
  double ld = 0;
  for (uint32_t j = 0; j < n; ++j) {
    uint32_t p = j;
    T best = std::fabs(LU[j + size_t(j) * n]);
    for (uint32_t i = j + 1; i < n; ++i) {
      const T v = std::fabs(LU[i + size_t(j) * n]);
      if (v > best) { best = v; p = i; }
    }
    piv[j] = T(p);
    if (p != j)
      for (uint32_t k = 0; k < n; ++k) std::swap(LU[j + size_t(k) * n], LU[p + size_t(k) * n]);
    const T d = LU[j + size_t(j) * n];
    ld += std::log(std::fabs(double(d)));
    if (d == T(0)) continue;  // singular: log det is -inf; the gradient is then NaN
    for (uint32_t i = j + 1; i < n; ++i) {
      const T f = LU[i + size_t(j) * n] / d;
      LU[i + size_t(j) * n] = f;
      for (uint32_t k = j + 1; k < n; ++k) LU[i + size_t(k) * n] -= f * LU[j + size_t(k) * n];
    }
  }
  return T(ld);
}

// Solves A z = b given lu_logdet's factors (z overwrites b).
template <class T>
void lu_solve(uint32_t n, const T* LU, const T* piv, T* b) {
  for (uint32_t j = 0; j < n; ++j) {
    const uint32_t p = uint32_t(piv[j]);
    if (p != j) std::swap(b[j], b[p]);
  }
  for (uint32_t i = 0; i < n; ++i) {
    T s = b[i];
    for (uint32_t k = 0; k < i; ++k) s -= LU[i + size_t(k) * n] * b[k];
    b[i] = s;
  }
  for (uint32_t ii = n; ii-- > 0;) {
    T s = b[ii];
    for (uint32_t k = ii + 1; k < n; ++k) s -= LU[ii + size_t(k) * n] * b[k];
    b[ii] = s / LU[ii + size_t(ii) * n];
  }
}

template <class T>
void add_into(T* __restrict dst, const T* __restrict src, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace

// One-element elementwise ops: no broadcast dispatch, no loops (small models are made of these).
template <class T>
inline T binary_f(Op op, T u, T v) {
  switch (op) {
    case Op::kAdd: return u + v;
    case Op::kSub: return u - v;
    case Op::kMul: return u * v;
    case Op::kDiv: return u / v;
    case Op::kPow: return std::pow(u, v);
    case Op::kFmin: return std::fmin(u, v);
    default: return std::fmax(u, v);
  }
}

template <class T>
inline void scalar_backward(Op op, const Exec<T>& E) {
  const T d = E.adj[0];
  const T u = E.in[0][0];
  T* aa = E.ain[0];
  switch (op) {
    case Op::kAdd: if (aa) aa[0] += d; if (T* ab = E.ain[1]) ab[0] += d; return;
    case Op::kSub: if (aa) aa[0] += d; if (T* ab = E.ain[1]) ab[0] -= d; return;
    case Op::kMul: {
      const T v = E.in[1][0];
      if (aa) aa[0] += chain(d, v);
      if (T* ab = E.ain[1]) ab[0] += chain(d, u);
      return;
    }
    case Op::kDiv: {
      const T v = E.in[1][0];
      if (aa) aa[0] += d / v;
      if (T* ab = E.ain[1]) ab[0] -= chain(d, E.out[0] / v);
      return;
    }
    case Op::kPow: {
      const T v = E.in[1][0], o = E.out[0];
      if (aa) aa[0] += chain(d, v == T(0) ? T(0) : v * std::pow(u, v - T(1)));
      if (T* ab = E.ain[1]) ab[0] += chain(d, u == T(0) ? T(0) : o * std::log(u));
      return;
    }
    case Op::kFmin: case Op::kFmax: {
      const T v = E.in[1][0];
      const bool first = op == Op::kFmin ? (u <= v || std::isnan(v)) : (u >= v || std::isnan(v));
      if (first) { if (aa) aa[0] += d; }
      else if (T* ab = E.ain[1]) ab[0] += d;
      return;
    }
    case Op::kNeg: if (aa) aa[0] -= d; return;
    default: if (aa) aa[0] += chain(d, unary_d(op, u, E.out[0])); return;
  }
}

template <class T>
inline bool select_holds(Cmp cmp, T l, T r) {
  switch (cmp) {
    case Cmp::kLt: return l < r;
    case Cmp::kLe: return l <= r;
    default: return l == r;
  }
}

#define EXMC_UNARY(OP, EXPR)                                        \
  case Op::OP:                                                      \
    map1(I.n, E.in[0], E.out, [](T a) -> T { return EXPR; });       \
    return;

template <class T>
[[gnu::always_inline]] inline void forward_impl(const Ins& I, const Exec<T>& E, const double* x,
                                                bool grad) {
  const T* a = E.in ? E.in[0] : nullptr;
  T* out = E.out;
  if (I.scalar_ew) {
    out[0] = I.in.size() == 2 ? binary_f(I.op, a[0], E.in[1][0]) : unary_f(I.op, a[0]);
    return;
  }
  switch (I.op) {
    case Op::kParam:
      for (uint32_t i = 0; i < I.n; ++i) out[i] = T(x[I.offset + i]);
      return;
    case Op::kConst:
      return;
    case Op::kAdd: map2(I.mode, I.n, a, E.in[1], out, [](T u, T v) { return u + v; }); return;
    case Op::kSub: map2(I.mode, I.n, a, E.in[1], out, [](T u, T v) { return u - v; }); return;
    case Op::kMul: map2(I.mode, I.n, a, E.in[1], out, [](T u, T v) { return u * v; }); return;
    case Op::kDiv:
      if (I.mode == 2) {  // scalar divisor: one division, then multiplies (as Stan's inv_sigma)
        const T r = T(1) / E.in[1][0];
        map1(I.n, a, out, [r](T u) { return u * r; });
      } else {
        map2(I.mode, I.n, a, E.in[1], out, [](T u, T v) { return u / v; });
      }
      return;
    case Op::kPow: map2(I.mode, I.n, a, E.in[1], out, [](T u, T v) { return std::pow(u, v); }); return;
    case Op::kFmin: map2(I.mode, I.n, a, E.in[1], out, [](T u, T v) { return std::fmin(u, v); }); return;
    case Op::kFmax: map2(I.mode, I.n, a, E.in[1], out, [](T u, T v) { return std::fmax(u, v); }); return;
    EXMC_UNARY(kNeg, -a)
    EXMC_UNARY(kAbs, std::fabs(a))
    EXMC_UNARY(kSqrt, std::sqrt(a))
    EXMC_UNARY(kSquare, a * a)
    EXMC_UNARY(kExp, std::exp(a))
    EXMC_UNARY(kLog, std::log(a))
    EXMC_UNARY(kLog1p, std::log1p(a))
    EXMC_UNARY(kExpm1, std::expm1(a))
    EXMC_UNARY(kLog1pExp, log1p_exp_(a))
    EXMC_UNARY(kLogInvLogit, -log1p_exp_(-a))
    EXMC_UNARY(kLog1mInvLogit, -log1p_exp_(a))
    EXMC_UNARY(kInvLogit, inv_logit_(a))
    EXMC_UNARY(kLogit, std::log(a / (T(1) - a)))
    EXMC_UNARY(kTanh, std::tanh(a))
    EXMC_UNARY(kLgamma, math::lgamma(a))
    EXMC_UNARY(kDigamma, math::digamma(a))
    EXMC_UNARY(kErf, math::erf(a))
    EXMC_UNARY(kErfc, math::erfc(a))
    EXMC_UNARY(kPhi, unary_f(Op::kPhi, a))
    EXMC_UNARY(kInvPhi, unary_f(Op::kInvPhi, a))
    case Op::kSum:
      out[0] = T(reduce4<double, T>(I.in_size[0], [a](uint32_t i) { return a[i]; }));
      return;
    case Op::kMean:
      out[0] = T(reduce4<double, T>(I.in_size[0], [a](uint32_t i) { return a[i]; }) / I.in_size[0]);
      return;
    case Op::kDot: {
      const T* b = E.in[1];
      out[0] = T(reduce4<double, T>(I.in_size[0], [a, b](uint32_t i) { return a[i] * b[i]; }));
      return;
    }
    case Op::kDotSelf:
      out[0] = T(reduce4<double, T>(I.in_size[0], [a](uint32_t i) { return a[i] * a[i]; }));
      return;
    case Op::kLogSumExp: {
      const uint32_t m = I.in_size[0];
      if (m == 0) { out[0] = -std::numeric_limits<T>::infinity(); return; }
      T mx = a[0];
      for (uint32_t i = 1; i < m; ++i) mx = std::fmax(mx, a[i]);
      if (!std::isfinite(mx)) {  // all -inf gives -inf; +inf or NaN propagate
        T s = 0;
        for (uint32_t i = 0; i < m; ++i) s += a[i];
        out[0] = mx == -std::numeric_limits<T>::infinity() ? mx : s;
        return;
      }
      double s = 0;
      for (uint32_t i = 0; i < m; ++i) s += std::exp(a[i] - mx);
      out[0] = T(mx + std::log(s));
      return;
    }
    case Op::kCumSum: {
      T s = 0;
      for (uint32_t i = 0; i < I.n; ++i) { s += a[i]; out[i] = s; }
      return;
    }
    case Op::kMatVec:
      MapV<T>(out, I.r).noalias() = CMapM<T>(a, I.r, I.c) * CMapV<T>(E.in[1], I.c);
      return;
    case Op::kMatMul:
      MapM<T>(out, I.r, I.c).noalias() = CMapM<T>(a, I.r, I.k) * CMapM<T>(E.in[1], I.k, I.c);
      return;
    case Op::kTranspose:
      for (uint32_t j = 0; j < I.c; ++j)
        for (uint32_t i = 0; i < I.r; ++i) out[j + size_t(i) * I.c] = a[i + size_t(j) * I.r];
      return;
    case Op::kCholesky:
      cholesky_fwd(I.r, a, out);
      return;
    case Op::kMdivLeftTriLow:
      std::memcpy(out, E.in[1], sizeof(T) * I.n);
      tri_low_solve(I.r, I.c, a, out);
      return;
    case Op::kLogDet: {
      const uint32_t n = I.r;
      std::memcpy(E.fscr, a, sizeof(T) * n * n);
      out[0] = lu_logdet(n, E.fscr, E.fscr + size_t(n) * n);
      return;
    }
    case Op::kGather: {
      if (!I.runs.empty()) {
        for (size_t r = 0; r < I.runs.size(); r += 3) {
          const T v = a[I.runs[r]];
          T* o = out + I.runs[r + 1];
          for (uint32_t k = 0, m = I.runs[r + 2]; k < m; ++k) o[k] = v;
        }
        return;
      }
      const int* idx = I.idx.data();
      for (uint32_t i = 0; i < I.n; ++i) out[i] = a[idx[i]];
      return;
    }
    case Op::kSlice:
      std::memcpy(out, a + I.offset, sizeof(T) * I.n);
      return;
    case Op::kConcat: {
      T* o = out;
      for (size_t p = 0; p < I.in_size.size(); ++p) {
        std::memcpy(o, E.in[p], sizeof(T) * I.in_size[p]);
        o += I.in_size[p];
      }
      return;
    }
    case Op::kBroadcast: {
      const T v = a[0];
      for (uint32_t i = 0; i < I.n; ++i) out[i] = v;
      return;
    }
    case Op::kReshape:
      std::memcpy(out, a, sizeof(T) * I.n);
      return;
    case Op::kDistLpdf: {
      dist::Arg<T>* args = E.args;
      T* p = E.fscr;
      for (size_t k = 0; k < I.in_size.size(); ++k) {
        if (E.dgrad) {
          args[k].grad = grad ? E.dgrad[k] : nullptr;
        } else if (grad && args[k].is_param) {
          std::memset(p, 0, sizeof(T) * I.in_size[k]);
          args[k].grad = p;
        } else {
          args[k].grad = nullptr;
        }
        p += I.in_size[k];
      }
      double lp;
      if constexpr (std::is_same_v<T, double>) lp = I.dist->lpdf_f64(args, I.propto);
      else lp = I.dist->lpdf_f32(args, I.propto);
      *E.dval = lp;
      out[0] = T(lp);
      return;
    }
    case Op::kSelect: {
      const Cmp cmp = static_cast<Cmp>(I.offset);
      const T *l = E.in[0], *r = E.in[1], *ta = E.in[2], *tb = E.in[3];
      const uint32_t sl = I.in_size[0] != 1, sr = I.in_size[1] != 1, sa = I.in_size[2] != 1,
                     sb = I.in_size[3] != 1;
      for (uint32_t i = 0; i < I.n; ++i)
        out[i] = select_holds(cmp, l[i * sl], r[i * sr]) ? ta[i * sa] : tb[i * sb];
      return;
    }
    case Op::kNumOps:
      return;
  }
}
#undef EXMC_UNARY

#define EXMC_UNARY_BWD(OP, DEXPR)                                                    \
  case Op::OP:                                                                       \
    if (aa) map1_bwd(I.n, E.in[0], E.out, adj, aa, [](T a, T out) -> T {             \
      (void)a; (void)out; return DEXPR; });                                          \
    return;

template <class T>
[[gnu::always_inline]] inline void backward_impl(const Ins& I, const Exec<T>& E, double* g) {
  if (I.scalar_ew) {
    scalar_backward(I.op, E);
    return;
  }
  const T* adj = E.adj;
  T* aa = E.ain ? E.ain[0] : nullptr;
  const T* a = E.in ? E.in[0] : nullptr;
  switch (I.op) {
    case Op::kParam:
      for (uint32_t i = 0; i < I.n; ++i) g[I.offset + i] += double(adj[i]);
      return;
    case Op::kConst:
      return;
    case Op::kAdd:
      map2_bwd(I.mode, I.n, a, E.in[1], E.out, adj, aa, E.ain[1],
               [](T, T, T) { return T(1); }, [](T, T, T) { return T(1); });
      return;
    case Op::kSub:
      map2_bwd(I.mode, I.n, a, E.in[1], E.out, adj, aa, E.ain[1],
               [](T, T, T) { return T(1); }, [](T, T, T) { return T(-1); });
      return;
    case Op::kMul:
      map2_bwd(I.mode, I.n, a, E.in[1], E.out, adj, aa, E.ain[1],
               [](T, T v, T) { return v; }, [](T u, T, T) { return u; });
      return;
    case Op::kDiv:
      if (I.mode == 2) {
        const T r = T(1) / E.in[1][0];
        if (aa) for (uint32_t i = 0; i < I.n; ++i) aa[i] += adj[i] * r;
        if (T* ab = E.ain[1]) {
          const T* o = E.out;
          ab[0] -= r * reduce4<T, T>(I.n, [adj, o](uint32_t i) { return chain(adj[i], o[i]); });
        }
      } else {
        map2_bwd(I.mode, I.n, a, E.in[1], E.out, adj, aa, E.ain[1],
                 [](T, T v, T) { return T(1) / v; }, [](T, T v, T o) { return -o / v; });
      }
      return;
    case Op::kPow:
      map2_bwd(I.mode, I.n, a, E.in[1], E.out, adj, aa, E.ain[1],
               [](T u, T v, T) { return v == T(0) ? T(0) : v * std::pow(u, v - T(1)); },
               [](T u, T, T o) { return u == T(0) ? T(0) : o * std::log(u); });
      return;
    case Op::kFmin:
      map2_bwd(I.mode, I.n, a, E.in[1], E.out, adj, aa, E.ain[1],
               [](T u, T v, T) { return (u <= v || std::isnan(v)) ? T(1) : T(0); },
               [](T u, T v, T) { return (u <= v || std::isnan(v)) ? T(0) : T(1); });
      return;
    case Op::kFmax:
      map2_bwd(I.mode, I.n, a, E.in[1], E.out, adj, aa, E.ain[1],
               [](T u, T v, T) { return (u >= v || std::isnan(v)) ? T(1) : T(0); },
               [](T u, T v, T) { return (u >= v || std::isnan(v)) ? T(0) : T(1); });
      return;
    case Op::kNeg:
      if (aa) for (uint32_t i = 0; i < I.n; ++i) aa[i] -= adj[i];
      return;
    EXMC_UNARY_BWD(kAbs, a > T(0) ? T(1) : (a < T(0) ? T(-1) : T(0)))
    EXMC_UNARY_BWD(kSqrt, T(0.5) / out)
    EXMC_UNARY_BWD(kSquare, T(2) * a)
    EXMC_UNARY_BWD(kExp, out)
    EXMC_UNARY_BWD(kLog, T(1) / a)
    EXMC_UNARY_BWD(kLog1p, T(1) / (T(1) + a))
    EXMC_UNARY_BWD(kExpm1, out + T(1))
    // inv_logit(a) = exp(a - log1p_exp(a)): one exp from the stored output, no division.
    EXMC_UNARY_BWD(kLog1pExp, std::exp(a - out))
    EXMC_UNARY_BWD(kLogInvLogit, std::exp(out - a))
    EXMC_UNARY_BWD(kLog1mInvLogit, -std::exp(a + out))
    EXMC_UNARY_BWD(kInvLogit, out * (T(1) - out))
    EXMC_UNARY_BWD(kLogit, T(1) / (a * (T(1) - a)))
    EXMC_UNARY_BWD(kTanh, T(1) - out * out)
    EXMC_UNARY_BWD(kLgamma, math::digamma(a))
    EXMC_UNARY_BWD(kDigamma, math::trigamma(a))
    EXMC_UNARY_BWD(kErf, T(kTwoOverSqrtPi) * std::exp(-a * a))
    EXMC_UNARY_BWD(kErfc, -T(kTwoOverSqrtPi) * std::exp(-a * a))
    EXMC_UNARY_BWD(kPhi, T(kInvSqrt2Pi) * std::exp(T(-0.5) * a * a))
    EXMC_UNARY_BWD(kInvPhi, T(kSqrt2Pi) * std::exp(T(0.5) * out * out))
    case Op::kSum:
      if (aa) { const T d = adj[0]; for (uint32_t i = 0; i < I.in_size[0]; ++i) aa[i] += d; }
      return;
    case Op::kMean:
      if (aa) {
        const T d = adj[0] / T(I.in_size[0]);
        for (uint32_t i = 0; i < I.in_size[0]; ++i) aa[i] += d;
      }
      return;
    case Op::kDot: {
      const T d = adj[0];
      const T* b = E.in[1];
      if (aa) for (uint32_t i = 0; i < I.in_size[0]; ++i) aa[i] += d * b[i];
      if (T* ab = E.ain[1]) for (uint32_t i = 0; i < I.in_size[0]; ++i) ab[i] += d * a[i];
      return;
    }
    case Op::kDotSelf:
      if (aa) { const T d = T(2) * adj[0]; for (uint32_t i = 0; i < I.in_size[0]; ++i) aa[i] += d * a[i]; }
      return;
    case Op::kLogSumExp:
      if (aa) {
        const T d = adj[0], o = E.out[0];
        for (uint32_t i = 0; i < I.in_size[0]; ++i) aa[i] += d * std::exp(a[i] - o);
      }
      return;
    case Op::kCumSum:
      if (aa) {
        T s = 0;
        for (uint32_t i = I.n; i-- > 0;) { s += adj[i]; aa[i] += s; }
      }
      return;
    case Op::kMatVec:
      if (aa) MapM<T>(aa, I.r, I.c).noalias() += CMapV<T>(adj, I.r) * CMapV<T>(E.in[1], I.c).transpose();
      if (T* ab = E.ain[1]) MapV<T>(ab, I.c).noalias() += CMapM<T>(a, I.r, I.c).transpose() * CMapV<T>(adj, I.r);
      return;
    case Op::kMatMul:
      if (aa) MapM<T>(aa, I.r, I.k).noalias() += CMapM<T>(adj, I.r, I.c) * CMapM<T>(E.in[1], I.k, I.c).transpose();
      if (T* ab = E.ain[1]) MapM<T>(ab, I.k, I.c).noalias() += CMapM<T>(a, I.r, I.k).transpose() * CMapM<T>(adj, I.r, I.c);
      return;
    case Op::kTranspose:
      if (aa)
        for (uint32_t j = 0; j < I.c; ++j)
          for (uint32_t i = 0; i < I.r; ++i) aa[i + size_t(j) * I.r] += adj[j + size_t(i) * I.c];
      return;
    case Op::kCholesky: {
      if (!aa) return;
      // Symmetric adjoint: S = L^-T Phi(L^T tril(Lbar)) L^-1, Abar += (S + S^T) / 2, where Phi
      // keeps the lower triangle and halves the diagonal.
      const uint32_t n = I.r;
      const T* L = E.out;
      T* P = E.bscr;
      T* Q = E.bscr + size_t(n) * n;
      for (uint32_t j = 0; j < n; ++j)
        for (uint32_t i = 0; i < n; ++i) {
          T s = 0;
          if (i >= j)
            for (uint32_t k = i; k < n; ++k) s += L[k + size_t(i) * n] * adj[k + size_t(j) * n];
          P[i + size_t(j) * n] = (i == j) ? T(0.5) * s : s;  // (L^T tril(Lbar)) lower part
        }
      tri_low_t_solve(n, n, L, P);  // P <- L^-T P
      for (uint32_t j = 0; j < n; ++j)
        for (uint32_t i = 0; i < n; ++i) Q[i + size_t(j) * n] = P[j + size_t(i) * n];
      tri_low_t_solve(n, n, L, Q);  // Q <- L^-T P^T = S^T
      for (uint32_t j = 0; j < n; ++j)
        for (uint32_t i = 0; i < n; ++i)
          aa[i + size_t(j) * n] += T(0.5) * (Q[i + size_t(j) * n] + Q[j + size_t(i) * n]);
      return;
    }
    case Op::kMdivLeftTriLow: {
      const uint32_t n = I.r, c = I.c;
      T* Bb = E.bscr;
      std::memcpy(Bb, adj, sizeof(T) * n * c);
      tri_low_t_solve(n, c, a, Bb);  // Bbar = L^-T Xbar
      if (T* ab = E.ain[1]) add_into(ab, Bb, n * c);
      if (aa) {
        const T* X = E.out;  // Lbar -= tril(Bbar X^T)
        for (uint32_t j = 0; j < n; ++j)
          for (uint32_t i = j; i < n; ++i) {
            T s = 0;
            for (uint32_t q = 0; q < c; ++q) s += Bb[i + size_t(q) * n] * X[j + size_t(q) * n];
            aa[i + size_t(j) * n] -= s;
          }
      }
      return;
    }
    case Op::kLogDet: {
      if (!aa) return;
      const uint32_t n = I.r;
      const T* LU = E.fscr;
      const T* piv = E.fscr + size_t(n) * n;
      T* z = E.bscr;
      const T d = adj[0];
      for (uint32_t j = 0; j < n; ++j) {  // column j of A^-1 is row j of A^-T
        for (uint32_t i = 0; i < n; ++i) z[i] = T(i == j);
        lu_solve(n, LU, piv, z);
        for (uint32_t i = 0; i < n; ++i) aa[j + size_t(i) * n] += d * z[i];
      }
      return;
    }
    case Op::kGather:
      if (aa && !I.runs.empty()) {
        for (size_t r = 0; r < I.runs.size(); r += 3) {
          const T* p = adj + I.runs[r + 1];
          aa[I.runs[r]] += reduce4<T, T>(I.runs[r + 2], [p](uint32_t k) { return p[k]; });
        }
      } else if (aa) {
        const int* idx = I.idx.data();
        for (uint32_t i = 0; i < I.n; ++i) aa[idx[i]] += adj[i];
      }
      return;
    case Op::kSlice:
      if (aa) add_into(aa + I.offset, adj, I.n);
      return;
    case Op::kConcat: {
      const T* o = adj;
      for (size_t p = 0; p < I.in_size.size(); ++p) {
        if (T* ap = E.ain[p]) add_into(ap, o, I.in_size[p]);
        o += I.in_size[p];
      }
      return;
    }
    case Op::kBroadcast:
      if (aa) aa[0] += reduce4<T, T>(I.n, [adj](uint32_t i) { return adj[i]; });
      return;
    case Op::kReshape:
      if (aa) add_into(aa, adj, I.n);
      return;
    case Op::kDistLpdf: {
      if (E.dgrad) return;  // partials were added in the forward step
      const T d = adj[0];
      const T* p = E.fscr;
      for (size_t k = 0; k < I.in_size.size(); ++k) {
        if (T* ak = E.ain[k]) {
          const uint32_t m = I.in_size[k];
          for (uint32_t i = 0; i < m; ++i) ak[i] += chain(d, p[i]);
        }
        p += I.in_size[k];
      }
      return;
    }
    case Op::kSelect: {
      const Cmp cmp = static_cast<Cmp>(I.offset);
      const T *l = E.in[0], *r = E.in[1];
      T* ga = E.ain ? E.ain[2] : nullptr;
      T* gb = E.ain ? E.ain[3] : nullptr;
      const uint32_t sl = I.in_size[0] != 1, sr = I.in_size[1] != 1, sa = I.in_size[2] != 1,
                     sb = I.in_size[3] != 1;
      for (uint32_t i = 0; i < I.n; ++i) {
        T* g_to = select_holds(cmp, l[i * sl], r[i * sr]) ? (ga ? ga + i * sa : nullptr) : (gb ? gb + i * sb : nullptr);
        if (g_to) *g_to += adj[i];
      }
      return;
    }
    case Op::kNumOps:
      return;
  }
}
#undef EXMC_UNARY_BWD

// Each entry point is compiled for AVX2 and for baseline x86-64 and picked once at load time,
// so elementwise loops run twice as wide without -march flags (off under sanitizers).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(EXMC_NO_CLONES)
#define EXMC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EXMC_CLONES
#endif

EXMC_CLONES void forward(const Ins& I, const Exec<double>& E, const double* x, bool grad) {
  forward_impl(I, E, x, grad);
}
EXMC_CLONES void forward(const Ins& I, const Exec<float>& E, const double* x, bool grad) {
  forward_impl(I, E, x, grad);
}
EXMC_CLONES void backward(const Ins& I, const Exec<double>& E, double* g) { backward_impl(I, E, g); }
EXMC_CLONES void backward(const Ins& I, const Exec<float>& E, double* g) { backward_impl(I, E, g); }

}  // namespace exmc::graph::detail
