// truncated / censored / mixture: DistInfos composed from other families' lpdf, lcdf and
// lccdf kernels. A kernel is a plain function pointer (no closure), so each composed family
// takes one slot of a fixed table of trampolines that look their composition up by index.
#include "exmc/dist/wrappers.hpp"

#include <array>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "univariate.hpp"

namespace exmc::dist {
namespace {

using detail::kInf;

constexpr int kMaxArgs = 8;  // arguments of one univariate component, variate included

enum class Kind { kTruncated, kCensored, kMixture };

struct Composite {
  Kind kind;
  bool lo = false, hi = false;  // truncated / censored: which bounds are arguments
  std::vector<const DistInfo*> comps;
  std::vector<int> comp_offset;  // mixture: index of component k's first argument
  int n_args = 0;                // mixture: y, w and every component's arguments
  std::string name;
  std::vector<std::string> arg_storage;
  DistInfo info;
};

template <class T>
LpdfFn<T> lpdf_of(const DistInfo& d) {
  if constexpr (std::is_same_v<T, double>) return d.lpdf_f64;
  else return d.lpdf_f32;
}
template <class T>
LpdfFn<T> lcdf_of(const DistInfo& d, int which) {
  if constexpr (std::is_same_v<T, double>) return which == 1 ? d.lcdf_f64 : d.lccdf_f64;
  else return which == 1 ? d.lcdf_f32 : d.lccdf_f32;
}

template <class T>
double at(const Arg<T>& a, size_t i) {
  return double(a.val[a.size == 1 ? 0 : i]);
}

// One element of a family's arguments: sub[k] at index i (broadcast scalars at 0) with the
// variate replaced by y; every partial is written to g[0..K).
template <class T>
double call_one(LpdfFn<T> f, const Arg<T>* sub, int K, size_t i, double y, bool propto, double* g) {
  T v[kMaxArgs], gt[kMaxArgs];
  Arg<T> b[kMaxArgs];
  for (int k = 0; k < K; ++k) {
    v[k] = k == 0 ? T(y) : sub[k].val[sub[k].size == 1 ? 0 : i];
    gt[k] = T(0);
    b[k].val = &v[k];
    b[k].is_param = sub[k].is_param;
    b[k].grad = &gt[k];
  }
  const double r = f(b, propto);
  for (int k = 0; k < K; ++k) g[k] = double(gt[k]);
  return r;
}

// Partials staged in double, added to the arguments only once the whole value is known to be
// finite (kernel.hpp: an invalid value leaves gradients untouched). thread_local, so after the
// first call of a given size nothing is allocated.
struct Stage {
  std::vector<double> buf;
  std::array<size_t, 4 * kMaxArgs + 1> off{};
  template <class T>
  void init(const Arg<T>* a, int na) {
    size_t t = 0;
    for (int k = 0; k < na; ++k) {
      off[size_t(k)] = t;
      if (a[k].grad) t += a[k].size;
    }
    buf.assign(t, 0.0);
  }
  template <class T>
  void add(const Arg<T>* a, int k, size_t i, double v) {
    if (a[k].grad) buf[off[size_t(k)] + (a[k].size == 1 ? 0 : i)] += v;
  }
  template <class T>
  void flush(const Arg<T>* a, int na) const {
    for (int k = 0; k < na; ++k)
      if (a[k].grad)
        for (size_t j = 0; j < a[k].size; ++j) a[k].grad[j] += T(buf[off[size_t(k)] + j]);
  }
};
// One Stage per nesting level: a mixture's component may itself be truncated or censored, and
// the inner call must not overwrite the outer call's partials.
struct StageScope {
  static constexpr int kDepth = 4;
  static Stage& at(int d) {
    thread_local Stage s[kDepth];
    return s[d];
  }
  static int& depth() {
    thread_local int d = 0;
    return d;
  }
  StageScope() {
    if (depth() == kDepth) throw std::logic_error("exmc::dist: wrappers nested too deeply");
    ++depth();
  }
  ~StageScope() { --depth(); }
  Stage& get() const { return at(depth() - 1); }
};

// Broadcast length over args[0..na), 0 when any is empty, SIZE_MAX on a mismatch.
template <class T>
size_t length(const Arg<T>* a, int na) {
  return detail::broadcast_n(a, na);
}

// log(exp(x) - exp(y)) for x > y, with d/dx and d/dy; -inf when x <= y.
double log_diff(double x, double y, double& dx, double& dy) {
  if (!(x > y)) return -kInf;
  const double d = y - x, em = std::expm1(d);
  dx = -1.0 / em;
  dy = std::exp(d) / em;
  return x + std::log1p(-std::exp(d));
}

// ---- truncation ----

// log P(l <= Y <= u) of one element (l already lowered by one for counts), partials into
// g[1..K) (parameters), gl, gu (bounds).
template <class T>
double log_mass(const Composite& w, const Arg<T>* a, int K, size_t i, double l, double u, double* g, double& gl,
                double& gu) {
  const DistInfo& b = *w.comps[0];
  const bool cont = !b.discrete;
  for (int k = 0; k < K; ++k) g[k] = 0;
  gl = gu = 0;
  const bool has_l = l > -kInf, has_u = u < kInf;
  double t1[kMaxArgs], t2[kMaxArgs];
  if (!has_l && !has_u) return 0.0;
  if (!has_u) {
    const double v = call_one(lcdf_of<T>(b, 2), a, K, i, l, false, t1);
    for (int k = 1; k < K; ++k) g[k] = t1[k];
    if (cont) gl = t1[0];
    return v;
  }
  if (!has_l) {
    const double v = call_one(lcdf_of<T>(b, 1), a, K, i, u, false, t1);
    for (int k = 1; k < K; ++k) g[k] = t1[k];
    if (cont) gu = t1[0];
    return v;
  }
  double dx, dy, v;
  const double fl = call_one(lcdf_of<T>(b, 1), a, K, i, l, false, t1);
  if (fl > -detail::kLog2) {
    // Both bounds in the upper half: S(l) - S(u) keeps the digits F(u) - F(l) would lose.
    const double sl = call_one(lcdf_of<T>(b, 2), a, K, i, l, false, t1);
    const double su = call_one(lcdf_of<T>(b, 2), a, K, i, u, false, t2);
    v = log_diff(sl, su, dx, dy);
    if (!(v > -kInf)) return v;
    for (int k = 1; k < K; ++k) g[k] = dx * t1[k] + dy * t2[k];
    if (cont) {
      gl = dx * t1[0];
      gu = dy * t2[0];
    }
    return v;
  }
  const double fu = call_one(lcdf_of<T>(b, 1), a, K, i, u, false, t2);
  v = log_diff(fu, fl, dx, dy);
  if (!(v > -kInf)) return v;
  for (int k = 1; k < K; ++k) g[k] = dx * t2[k] + dy * t1[k];
  if (cont) {
    gu = dx * t2[0];
    gl = dy * t1[0];
  }
  return v;
}

template <class T>
double truncated_lpdf(const Composite& w, const Arg<T>* a, bool propto) {
  const DistInfo& b = *w.comps[0];
  const int K = int(b.arg_names.size()), na = K + w.lo + w.hi;
  const Arg<T>* L = w.lo ? &a[K] : nullptr;
  const Arg<T>* U = w.hi ? &a[K + w.lo] : nullptr;
  const size_t n = length(a, na);
  if (n == 0) return 0.0;
  if (n == size_t(-1)) return -kInf;
  const bool disc = b.discrete;
  for (size_t i = 0; i < n; ++i) {
    const double y = at(a[0], i), l = L ? at(*L, i) : -kInf, u = U ? at(*U, i) : kInf;
    if (!(y >= l && y <= u)) return -kInf;
    if (!(l < u || (disc && l == u))) return -kInf;
  }
  bool dep = false, scalar = true;
  for (int k = 1; k < na; ++k) {
    dep = dep || a[k].is_param;
    scalar = scalar && a[k].size == 1;
  }
  const StageScope scope;
  Stage& st = scope.get();
  st.init(a, na);
  double norm = 0;
  if (!propto || dep) {
    // With every parameter and bound a scalar the normaliser is one value times n.
    const size_t m = scalar ? 1 : n;
    const double times = scalar ? double(n) : 1.0;
    double g[kMaxArgs], gl, gu;
    for (size_t i = 0; i < m; ++i) {
      double l = L ? at(*L, i) : -kInf;
      if (disc && l > -kInf) l -= 1;
      const double lm = log_mass(w, a, K, i, l, U ? at(*U, i) : kInf, g, gl, gu);
      if (!(lm > -kInf)) return -kInf;  // no mass in [L, U] (or invalid parameters)
      norm += lm;
      for (int k = 1; k < K; ++k) st.add(a, k, i, -times * g[k]);
      if (L) st.add(a, K, i, -times * gl);
      if (U) st.add(a, K + w.lo, i, -times * gu);
    }
    norm *= times;
  }
  const double lp = lpdf_of<T>(b)(a, propto);
  if (!(lp > -kInf)) return lp;
  st.flush(a, na);
  return lp - norm;
}

// ---- censoring ----

template <class T>
double censored_lpdf(const Composite& w, const Arg<T>* a, bool propto) {
  const DistInfo& b = *w.comps[0];
  const int K = int(b.arg_names.size()), na = K + w.lo + w.hi;
  const Arg<T>* L = w.lo ? &a[K] : nullptr;
  const Arg<T>* U = w.hi ? &a[K + w.lo] : nullptr;
  const size_t n = length(a, na);
  if (n == 0) return 0.0;
  if (n == size_t(-1)) return -kInf;
  size_t n_cens = 0;
  for (size_t i = 0; i < n; ++i) {
    const double y = at(a[0], i), l = L ? at(*L, i) : -kInf, u = U ? at(*U, i) : kInf;
    if (std::isnan(y) || std::isnan(l) || std::isnan(u) || !(l < u)) return -kInf;
    n_cens += y <= l || y >= u;
  }
  if (n_cens == 0) return lpdf_of<T>(b)(a, propto);
  bool dep_l = false, dep_u = false;
  for (int k = 1; k < K; ++k) dep_l = dep_l || a[k].is_param;
  dep_u = dep_l || (U && U->is_param);
  dep_l = dep_l || (L && L->is_param);
  const StageScope scope;
  Stage& st = scope.get();
  st.init(a, na);
  double lp = 0, g[kMaxArgs];
  for (size_t i = 0; i < n; ++i) {
    const double y = at(a[0], i), l = L ? at(*L, i) : -kInf, u = U ? at(*U, i) : kInf;
    double v;
    if (y <= l) {
      if (propto && !dep_l) continue;
      v = call_one(lcdf_of<T>(b, 1), a, K, i, l, false, g);
      if (L && !b.discrete) st.add(a, K, i, g[0]);
    } else if (y >= u) {
      if (propto && !dep_u) continue;
      v = call_one(lcdf_of<T>(b, 2), a, K, i, b.discrete ? u - 1 : u, false, g);
      if (U && !b.discrete) st.add(a, K + w.lo, i, g[0]);
    } else {
      v = call_one(lpdf_of<T>(b), a, K, i, y, propto, g);
      st.add(a, 0, i, g[0]);
    }
    if (!(v > -kInf)) return -kInf;
    lp += v;
    for (int k = 1; k < K; ++k) st.add(a, k, i, g[k]);
  }
  st.flush(a, na);
  return lp;
}

// ---- mixture ----

// Component k's arguments with the mixture's variate in front.
template <class T>
int component_args(const Composite& w, const Arg<T>* a, size_t k, Arg<T>* sub) {
  const int K = int(w.comps[k]->arg_names.size());
  sub[0] = a[0];
  for (int j = 1; j < K; ++j) sub[j] = a[w.comp_offset[k] + j - 1];
  return K;
}

// Which = 0: density, 1: lcdf, 2: lccdf (a mixture's cdf is the weighted sum of cdfs).
template <class T, int Which>
double mixture_fn(const Composite& w, const Arg<T>* a, bool propto) {
  if constexpr (Which != 0) propto = false;
  const size_t nc = w.comps.size();
  const int na = w.n_args;
  // Broadcast length over y and the component arguments (w is a K-vector, not broadcast).
  size_t n = a[0].size;
  for (int k = 2; k < na; ++k) {
    if (a[k].size == 0) return 0.0;
    if (a[k].size != 1) {
      if (n == 1) n = a[k].size;
      else if (a[k].size != n) return -kInf;
    }
  }
  if (n == 0) return 0.0;
  const Arg<T>& wt = a[1];
  if (wt.size != nc || !detail::is_simplex(wt.val, nc)) return -kInf;
  bool dep = false;
  for (int k = 0; k < na; ++k) dep = dep || a[k].is_param;
  if (propto && !dep) return 0.0;
  const StageScope scope;
  Stage& st = scope.get();
  st.init(a, na);
  double lp = 0, lk[16], gk[16][kMaxArgs];
  Arg<T> sub[kMaxArgs];
  for (size_t i = 0; i < n; ++i) {
    const double y = at(a[0], i);
    double mx = -kInf;
    for (size_t c = 0; c < nc; ++c) {
      const int K = component_args(w, a, c, sub);
      const DistInfo& d = *w.comps[c];
      const LpdfFn<T> f = Which == 0 ? lpdf_of<T>(d) : lcdf_of<T>(d, Which);
      const double wc = double(wt.val[c]);
      lk[c] = wc > 0 ? call_one(f, sub, K, i, y, false, gk[c]) : -kInf;
      if (std::isnan(lk[c])) return -kInf;
      if (lk[c] + std::log(wc) > mx) mx = lk[c] + std::log(wc);
    }
    if (!(mx > -kInf)) return -kInf;  // no component gives y any density
    double s = 0;
    for (size_t c = 0; c < nc; ++c) s += double(wt.val[c]) * std::exp(lk[c] - mx);
    const double lse = mx + std::log(s);
    lp += lse;
    for (size_t c = 0; c < nc; ++c) {
      if (!(lk[c] > -kInf)) continue;
      const double pk = std::exp(lk[c] - lse), r = double(wt.val[c]) * pk;  // p_k / p, responsibility
      st.add(a, 1, c, pk);
      const int K = int(w.comps[c]->arg_names.size());
      st.add(a, 0, i, r * gk[c][0]);
      for (int j = 1; j < K; ++j) st.add(a, w.comp_offset[c] + j - 1, i, r * gk[c][j]);
    }
  }
  st.flush(a, na);
  return lp;
}

template <class T>
double dispatch_lpdf(const Composite& w, const Arg<T>* a, bool propto) {
  switch (w.kind) {
    case Kind::kTruncated: return truncated_lpdf(w, a, propto);
    case Kind::kCensored: return censored_lpdf(w, a, propto);
    case Kind::kMixture: return mixture_fn<T, 0>(w, a, propto);
  }
  return -kInf;
}

// ---- draws ----

// One draw of a family at element i of its arguments sub[1..K).
double draw_one(const DistInfo& d, const Arg<double>* sub, int K, size_t i, Rng& r) {
  double v[kMaxArgs];
  Arg<double> b[kMaxArgs];
  for (int k = 1; k < K; ++k) {
    v[k] = at(sub[k], i);
    b[k].val = &v[k];
  }
  b[0].size = 1;
  double out = 0;
  d.rng(b, r, &out);
  return out;
}

void dispatch_rng(const Composite& w, const Arg<double>* a, Rng& r, double* out) {
  const size_t n = a[0].size;
  if (w.kind == Kind::kMixture) {
    Arg<double> sub[kMaxArgs];
    for (size_t i = 0; i < n; ++i) {
      double u = r.uniform(), acc = 0;
      size_t c = 0;
      for (; c + 1 < w.comps.size(); ++c) {
        acc += a[1].val[c];
        if (u < acc) break;
      }
      const int K = component_args(w, a, c, sub);
      out[i] = draw_one(*w.comps[c], sub, K, i, r);
    }
    return;
  }
  const DistInfo& b = *w.comps[0];
  const int K = int(b.arg_names.size());
  const Arg<double>* L = w.lo ? &a[K] : nullptr;
  const Arg<double>* U = w.hi ? &a[K + w.lo] : nullptr;
  for (size_t i = 0; i < n; ++i) {
    const double l = L ? at(*L, i) : -kInf, u = U ? at(*U, i) : kInf;
    if (w.kind == Kind::kCensored) {
      out[i] = std::fmin(std::fmax(draw_one(b, a, K, i, r), l), u);
      continue;
    }
    // Rejection: fine unless [L, U] holds a tiny share of the mass.
    int tries = 0;
    double y;
    do {
      if (++tries > 100000)
        throw std::runtime_error(w.name + ": rejection sampling found no draw in [" + detail::fmt_value(l) + ", " +
                                 detail::fmt_value(u) + "] in 100000 tries");
      y = draw_one(b, a, K, i, r);
    } while (!(y >= l && y <= u));
    out[i] = y;
  }
}

// ---- validation ----

std::string dispatch_validate(const Composite& w, const Arg<double>* a) {
  if (w.kind == Kind::kMixture) {
    const size_t nc = w.comps.size();
    if (!a[1].is_param) {
      if (a[1].size != nc)
        return "w has " + std::to_string(a[1].size) + " elements; expected " + std::to_string(nc) +
               " (one per component)";
      if (!detail::is_simplex(a[1].val, nc)) return detail::simplex_message("w", a[1].val, nc);
    }
    Arg<double> sub[kMaxArgs];
    bool all_data = !a[0].is_param && !a[1].is_param;
    for (size_t c = 0; c < nc; ++c) {
      const int K = component_args(w, a, c, sub);
      for (int j = 1; j < K; ++j) all_data = all_data && !sub[j].is_param;
      // y is checked against the mixture as a whole below, not against each component.
      sub[0].is_param = true;
      if (w.comps[c]->validate)
        if (std::string m = w.comps[c]->validate(sub); !m.empty())
          return "component " + std::to_string(c + 1) + " (" + std::string(w.comps[c]->name) + "): " + m;
    }
    if (all_data) {
      const double lp = mixture_fn<double, 0>(w, a, false);
      if (!(lp > -kInf)) return "y has zero density under every component at some element (or w is not a simplex)";
    }
    return "";
  }
  const DistInfo& b = *w.comps[0];
  const int K = int(b.arg_names.size()), na = K + w.lo + w.hi;
  const Arg<double>* L = w.lo ? &a[K] : nullptr;
  const Arg<double>* U = w.hi ? &a[K + w.lo] : nullptr;
  if (length(a, na) == size_t(-1)) {
    std::string sizes;
    for (int k = 0; k < na; ++k)
      sizes += (k ? ", " : "") + std::string(w.info.arg_names[size_t(k)]) + " " + std::to_string(a[k].size);
    return "arguments have lengths that do not broadcast (" + sizes + ")";
  }
  const size_t n = length(a, na);
  std::vector<Arg<double>> base(a, a + K);
  // Censored values may sit on (or beyond) a bound outside the base support (a detection limit
  // of 0 under a lognormal); they are checked below, not by the base.
  if (w.kind == Kind::kCensored) base[0].is_param = true;
  if (b.validate)
    if (std::string m = b.validate(base.data()); !m.empty()) return m;
  for (const Arg<double>* B : {L, U}) {
    if (!B || B->is_param) continue;
    const char* nm = B == L ? "lower" : "upper";
    for (size_t i = 0; i < B->size; ++i) {
      if (std::isnan(B->val[i])) return detail::bad_value(nm, "not NaN", B->val[i], i);
      if (b.discrete && std::isfinite(B->val[i]) && B->val[i] != std::floor(B->val[i]))
        return detail::bad_value(nm, "an integer (the family is discrete)", B->val[i], i);
    }
  }
  if (L && U && !L->is_param && !U->is_param)
    for (size_t i = 0; i < n; ++i) {
      const double l = at(*L, i), u = at(*U, i);
      const bool ok = w.kind == Kind::kTruncated && b.discrete ? l <= u : l < u;
      if (!ok)
        return "lower must be " + std::string(w.kind == Kind::kTruncated && b.discrete ? "at most" : "less than") + " upper, found lower " +
               detail::fmt_value(l) + " and upper " + detail::fmt_value(u) + " at index " + std::to_string(i + 1);
    }
  const bool bounds_data = (!L || !L->is_param) && (!U || !U->is_param);
  if (a[0].is_param || !bounds_data) return "";
  for (size_t i = 0; i < n; ++i) {
    const double y = at(a[0], i), l = L ? at(*L, i) : -kInf, u = U ? at(*U, i) : kInf;
    if (w.kind == Kind::kTruncated && !(y >= l && y <= u))
      return std::string(b.arg_names[0]) + " must lie in the truncation interval [" + detail::fmt_value(l) + ", " +
             detail::fmt_value(u) + "], found " + detail::fmt_value(y) + " at index " + std::to_string(i + 1);
    if (w.kind == Kind::kCensored && y > l && y < u) {
      bool all_data = true;
      for (int k = 1; k < K; ++k) all_data = all_data && !a[k].is_param;
      double g[kMaxArgs];
      if (all_data && !(call_one(b.lpdf_f64, a, K, i, y, false, g) > -kInf))
        return std::string(b.arg_names[0]) + " must be in the support of " + std::string(b.name) +
               " (or censored), found " + detail::fmt_value(y) + " at index " + std::to_string(i + 1);
    }
  }
  return "";
}

// ---- the slot table ----

constexpr size_t kSlots = 256;
std::array<const Composite*, kSlots> g_slots{};

template <size_t S, class T>
double slot_lpdf(const Arg<T>* a, bool p) {
  return dispatch_lpdf(*g_slots[S], a, p);
}
template <size_t S, class T>
double slot_lcdf(const Arg<T>* a, bool) {
  return mixture_fn<T, 1>(*g_slots[S], a, false);
}
template <size_t S, class T>
double slot_lccdf(const Arg<T>* a, bool) {
  return mixture_fn<T, 2>(*g_slots[S], a, false);
}
template <size_t S>
void slot_rng(const Arg<double>* a, Rng& r, double* out) {
  dispatch_rng(*g_slots[S], a, r, out);
}
template <size_t S>
std::string slot_validate(const Arg<double>* a) {
  return dispatch_validate(*g_slots[S], a);
}

struct Table {
  std::array<LpdfFn<double>, kSlots> lpdf64, lcdf64, lccdf64;
  std::array<LpdfFn<float>, kSlots> lpdf32, lcdf32, lccdf32;
  std::array<RngFn, kSlots> rng;
  std::array<ValidateFn, kSlots> validate;
};
template <size_t... I>
Table make_table(std::index_sequence<I...>) {
  return Table{{&slot_lpdf<I, double>...}, {&slot_lcdf<I, double>...}, {&slot_lccdf<I, double>...},
               {&slot_lpdf<I, float>...},  {&slot_lcdf<I, float>...},  {&slot_lccdf<I, float>...},
               {&slot_rng<I>...},          {&slot_validate<I>...}};
}

const DistInfo& publish(Composite proto) {
  static std::mutex mu;
  static std::vector<std::unique_ptr<Composite>> made;
  static const Table table = make_table(std::make_index_sequence<kSlots>{});
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& c : made)
    if (c->kind == proto.kind && c->lo == proto.lo && c->hi == proto.hi && c->comps == proto.comps) return c->info;
  if (made.size() == kSlots)
    throw std::length_error("too many distinct truncated / censored / mixture distributions (the limit is " +
                            std::to_string(kSlots) + ")");
  const size_t s = made.size();
  auto c = std::make_unique<Composite>(std::move(proto));
  DistInfo& d = c->info;
  d.name = c->name;
  for (const std::string& a : c->arg_storage) d.arg_names.push_back(a);
  d.lpdf_f64 = table.lpdf64[s];
  d.lpdf_f32 = table.lpdf32[s];
  d.rng = table.rng[s];
  d.validate = table.validate[s];
  if (c->kind == Kind::kMixture) {
    bool cdfs = true;
    for (const DistInfo* k : c->comps) cdfs = cdfs && k->lcdf_f64 && k->lccdf_f64 && k->lcdf_f32 && k->lccdf_f32;
    if (cdfs) {
      d.lcdf_f64 = table.lcdf64[s];
      d.lccdf_f64 = table.lccdf64[s];
      d.lcdf_f32 = table.lcdf32[s];
      d.lccdf_f32 = table.lccdf32[s];
    }
  }
  g_slots[s] = c.get();
  made.push_back(std::move(c));
  return made.back()->info;
}

const DistInfo& bounded(Kind kind, const DistInfo& base, bool has_lower, bool has_upper) {
  const char* what = kind == Kind::kTruncated ? "truncated" : "censored";
  const std::string bn(base.name);
  if (!has_lower && !has_upper) throw std::invalid_argument(std::string(what) + "(" + bn + ") needs a lower or an upper bound");
  if (base.multivariate)
    throw std::invalid_argument(std::string(what) + "(" + bn + "): " + bn +
                                " is not an elementwise family (multivariate, or a mixture)");
  if (!base.lcdf_f64 || !base.lccdf_f64 || !base.lcdf_f32 || !base.lccdf_f32)
    throw std::invalid_argument(std::string(what) + "(" + bn + "): " + bn +
                                " has no log cdf / log ccdf in exmc yet, which " +
                                (kind == Kind::kTruncated ? "truncation" : "censoring") + " needs");
  if (base.arg_names.size() > size_t(kMaxArgs))
    throw std::invalid_argument(std::string(what) + "(" + bn + "): too many arguments");
  Composite c;
  c.kind = kind;
  c.lo = has_lower;
  c.hi = has_upper;
  c.comps = {&base};
  c.name = std::string(what) + "(" + bn + ")";
  for (std::string_view a : base.arg_names) c.arg_storage.emplace_back(a);
  if (has_lower) c.arg_storage.emplace_back("lower");
  if (has_upper) c.arg_storage.emplace_back("upper");
  c.info.support = base.support;
  c.info.discrete = base.discrete;
  return publish(std::move(c));
}

}  // namespace

const DistInfo& truncated(const DistInfo& base, bool has_lower, bool has_upper) {
  return bounded(Kind::kTruncated, base, has_lower, has_upper);
}

const DistInfo& censored(const DistInfo& base, bool has_lower, bool has_upper) {
  return bounded(Kind::kCensored, base, has_lower, has_upper);
}

const DistInfo& mixture(const std::vector<const DistInfo*>& components) {
  if (components.empty()) throw std::invalid_argument("mixture needs at least one component");
  if (components.size() > 16) throw std::invalid_argument("mixture: at most 16 components");
  Composite c;
  c.kind = Kind::kMixture;
  c.comps = components;
  c.name = "mixture(";
  c.arg_storage = {"y", "w"};
  int off = 2;
  bool disc = components[0]->discrete, same_support = true, positive = true;
  for (size_t k = 0; k < components.size(); ++k) {
    const DistInfo& d = *components[k];
    c.name += (k ? ", " : "") + std::string(d.name);
    if (d.multivariate) throw std::invalid_argument("mixture: component " + std::string(d.name) + " is multivariate");
    if (d.discrete != disc)
      throw std::invalid_argument("mixture: components must be all continuous or all discrete, but " +
                                  std::string(components[0]->name) + " and " + std::string(d.name) + " differ");
    if (d.arg_names.size() > size_t(kMaxArgs)) throw std::invalid_argument("mixture: " + std::string(d.name) + " has too many arguments");
    c.comp_offset.push_back(off);
    for (size_t j = 1; j < d.arg_names.size(); ++j)
      c.arg_storage.push_back(std::string(d.arg_names[j]) + "_" + std::to_string(k + 1));
    off += int(d.arg_names.size()) - 1;
    same_support = same_support && d.support == components[0]->support;
    positive = positive && (d.support == Support::kPositive || d.support == Support::kNonNegative);
  }
  if (size_t(off) > 4 * kMaxArgs) throw std::invalid_argument("mixture: too many arguments in all");
  c.n_args = off;
  c.name += ")";
  // Supports bounded by an argument (uniform, pareto) name argument positions that the
  // mixture's layout moves; such mixtures and mixed supports fall back to the widest set.
  const Support s0 = components[0]->support;
  const bool by_arg = s0 == Support::kBounded || s0 == Support::kLowerBounded;
  c.info.support = same_support && !by_arg ? s0 : positive ? Support::kPositive : disc ? s0 : Support::kReal;
  c.info.discrete = disc;
  // w is a K-vector beside elementwise arguments: like categorical's theta it must not be
  // broadcast-checked against y, which the graph and model layers skip for multivariate families.
  c.info.multivariate = true;
  return publish(std::move(c));
}

}  // namespace exmc::dist
