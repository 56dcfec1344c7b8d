// Shared scaffolding for univariate kernels: broadcasting, support checks, propto masks,
// partial accumulation, random draws and data validation, so each distribution file only
// states its per-element density, partials and sampler.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "exmc/core/math.hpp"
#include "exmc/core/rng.hpp"
#include "exmc/dist/kernel.hpp"

namespace exmc::dist::detail {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kLog2 = 0.69314718055994530942;
inline constexpr double kLogPi = 1.14472988584940017414;
inline constexpr double kHalfLog2Pi = 0.91893853320467274178;
inline constexpr double kLogSqrt2OverPi = -0.22579135264472743236;  // 0.5 log(2/pi)

// What each argument must satisfy; one list per distribution drives both the -infinity
// check inside the density and the messages of validate().
enum class Check {
  kReal,         // finite
  kNotNaN,       // anything but NaN (infinite locations are allowed where the math is)
  kPositive,     // > 0, finite
  kNonNeg,       // >= 0, finite
  kUnit,         // [0, 1]
  kOpenUnit,     // (0, 1)
  kInt,          // integer
  kNonNegInt,    // integer >= 0
  kBinary,       // 0 or 1
  kPositiveInf,  // > 0, +infinity allowed (student_t's nu)
};

inline bool check(Check c, double v) {
  switch (c) {
    case Check::kReal: return std::isfinite(v);
    case Check::kNotNaN: return !std::isnan(v);
    case Check::kPositive: return v > 0 && v < kInf;
    case Check::kNonNeg: return v >= 0 && v < kInf;
    case Check::kUnit: return v >= 0 && v <= 1;
    case Check::kOpenUnit: return v > 0 && v < 1;
    case Check::kInt: return std::isfinite(v) && v == std::floor(v);
    case Check::kNonNegInt: return v >= 0 && v < kInf && v == std::floor(v);
    case Check::kBinary: return v == 0 || v == 1;
    case Check::kPositiveInf: return v > 0;
  }
  return false;
}

inline const char* check_text(Check c) {
  switch (c) {
    case Check::kReal: return "finite";
    case Check::kNotNaN: return "not NaN";
    case Check::kPositive: return "positive and finite";
    case Check::kNonNeg: return "non-negative and finite";
    case Check::kUnit: return "in [0, 1]";
    case Check::kOpenUnit: return "in (0, 1)";
    case Check::kInt: return "an integer";
    case Check::kNonNegInt: return "a non-negative integer";
    case Check::kBinary: return "0 or 1";
    case Check::kPositiveInf: return "positive";
  }
  return "valid";
}

std::string fmt_value(double v);

inline std::string bad_value(std::string_view arg, std::string_view what, double v, size_t i) {
  return std::string(arg) + " must be " + std::string(what) + ", found " + fmt_value(v) + " at index " +
         std::to_string(i + 1);  // 1-based, as Stan names elements
}

// Per-call state handed to the element function: which terms propto keeps and which
// partials are wanted. Bit k stands for argument k.
struct Ctx {
  bool propto;
  unsigned dep;   // arguments that depend on parameters
  unsigned need;  // arguments whose partial is wanted
  bool keep(unsigned mask) const { return !propto || (dep & mask) != 0; }
  bool want(int k) const { return (need >> k) & 1u; }
};

// Remembers the last input and output of an expensive function: scalar (broadcast) shape
// arguments then cost one lgamma per call instead of one per element.
struct Memo {
  double x = std::numeric_limits<double>::quiet_NaN(), v = 0;
  template <class F>
  double operator()(double in, F f) {
    if (in != x) { x = in; v = f(in); }
    return v;
  }
};
struct Memos {
  Memo m[6];
};

inline double lgam(double x) { return exmc::math::lgamma(x); }

// lgamma(k + 1) of the counts below kLogFactorialSize, filled once from lgam itself (so a table
// entry has lgam's bits): the count families' normalising terms (poisson, binomial, the negative
// binomials), kept whenever a program writes _lpmf rather than ~, were one Boost lgamma per count
// per gradient (~50 ns each), though the counts are data.
inline constexpr size_t kLogFactorialSize = 4096;
const double* log_factorial_table();
// lgam(k + 1) for any k: from the table for the counts it holds, else from lgam.
inline double log_factorial(double k) {
  if (k >= 0 && k < double(kLogFactorialSize)) {
    const size_t i = size_t(k);
    if (double(i) == k) return log_factorial_table()[i];
  }
  return lgam(k + 1);
}
inline double digam(double x) { return exmc::math::digamma(x); }
inline double log1p_exp(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
inline double inv_logit(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
// log Phi(x) and its derivative phi(x)/Phi(x), stable far into the lower tail.
inline double log_Phi(double x) {
  if (x > -37.0) return std::log(0.5 * exmc::math::erfc(-x * 0.70710678118654752440));
  const double r = 1.0 / (x * x);
  return -0.5 * x * x - std::log(-x) - kHalfLog2Pi + std::log1p(r * (-1 + r * (3 + r * (-15 + r * 105))));
}
inline double dlog_Phi(double x) {
  if (x > -37.0) return std::exp(-0.5 * x * x - kHalfLog2Pi - log_Phi(x));
  const double r = 1.0 / (x * x);
  return -x / (1 + r * (-1 + r * (3 + r * (-15 + r * 105))));
}
// Both at once: one erfc instead of two (the cdfs and truncation call these per element).
inline double log_Phi_d(double x, double& d) {
  if (x > -37.0) {
    const double l = log_Phi(x);
    d = std::exp(-0.5 * x * x - kHalfLog2Pi - l);
    return l;
  }
  d = dlog_Phi(x);
  return log_Phi(x);
}

// ---- building blocks of the cdfs ----

// d/da f(a) for the shape parameters of incomplete gamma / beta functions, whose partials have
// no closed form: fourth-order central differences with a step relative to a (truncation and
// rounding both ~1e-11 relative for these smooth functions). The step keeps a - 2h > 0.
template <class F>
double dshape(F f, double a) {
  const double h = 1e-3 * a;
  return (8 * (f(a + h) - f(a - h)) - (f(a + 2 * h) - f(a - 2 * h))) / (12 * h);
}

// log of the smaller-tail-first pair: log p where the complement q = 1 - p is known
// separately, taking whichever of p, q is below 1/2 so neither tail loses digits.
// The complement is evaluated only when needed (each is a full special-function call).
template <class Q>
double log_from(double p, Q q) {
  return p < 0.5 ? std::log(p) : std::log1p(-q());
}

// Regularised incomplete gamma P(a, x), Q(a, x), and log of x^(a-1) e^-x / Gamma(a) (dP/dx).
inline double log_gamma_p(double a, double x) {
  return log_from(exmc::math::gamma_p(a, x), [&] { return exmc::math::gamma_q(a, x); });
}
inline double log_gamma_q(double a, double x) {
  return log_from(exmc::math::gamma_q(a, x), [&] { return exmc::math::gamma_p(a, x); });
}
inline double log_gamma_dpdx(double a, double x) { return (a - 1) * std::log(x) - x - lgam(a); }

// Regularised incomplete beta I_x(a, b) and its complement I_{1-x}(b, a), given x and 1 - x
// (callers often know 1 - x more accurately than by subtraction), and log dI/dx.
inline double log_ibeta(double a, double b, double x, double xc) {
  return log_from(exmc::math::ibeta(a, b, x), [&] { return exmc::math::ibeta(b, a, xc); });
}
inline double log_ibeta_dx(double a, double b, double x, double xc) {
  return (a - 1) * std::log(x) + (b - 1) * std::log(xc) - exmc::math::lbeta(a, b);
}

// D provides: K (number of arguments, variate first), names[K], checks[K],
// static double lp(const double* x, const Ctx&, double* g, Memos&)  (g zeroed, length K),
// static double draw(const double* x, Rng&) (x[0] unused),
// and optionally static bool extra_valid(const double* x) and
// static const char* extra_text (what extra_valid demands, for messages).
template <class D, class = void>
struct HasExtra : std::false_type {};
template <class D>
struct HasExtra<D, std::void_t<decltype(D::extra_valid(nullptr))>> : std::true_type {};

template <class D>
inline bool element_valid(const double* x) {
  for (int k = 0; k < D::K; ++k)
    if (!check(D::checks[k], x[k])) return false;
  if constexpr (HasExtra<D>::value) return D::extra_valid(x);
  return true;
}

// Broadcast length: all arguments of size != 1 must agree; 0 when any is empty, SIZE_MAX
// on a mismatch.
template <class T>
inline size_t broadcast_n(const Arg<T>* a, int K) {
  size_t n = 1;
  for (int k = 0; k < K; ++k) {
    if (a[k].size == 0) return 0;
    if (a[k].size != 1) {
      if (n == 1) n = a[k].size;
      else if (a[k].size != n) return static_cast<size_t>(-1);
    }
  }
  return n;
}

template <class D, class = void>
struct HasCdf : std::false_type {};
template <class D>
struct HasCdf<D, std::void_t<decltype(D::lcdf(nullptr, nullptr))>> : std::true_type {};

// Where a cdf argument lies against the support: -1 below it (F = 0), +1 above it (F = 1),
// 0 inside; -2 for invalid parameters. A cdf is defined for every y (a truncation bound may lie
// outside the support), so only the parameters are checked. Families whose support depends on
// their parameters (uniform, pareto, binomial) provide D::cdf_side.
template <class D, class = void>
struct HasCdfSide : std::false_type {};
template <class D>
struct HasCdfSide<D, std::void_t<decltype(D::cdf_side(nullptr))>> : std::true_type {};

inline bool discrete_check(Check c) { return c == Check::kInt || c == Check::kNonNegInt || c == Check::kBinary; }

template <class D>
int cdf_side(double* x) {
  for (int k = 1; k < D::K; ++k)
    if (!check(D::checks[k], x[k])) return -2;
  double& y = x[0];
  if (std::isnan(y)) return -2;
  // A count's cdf is a step function: P(Y <= 2.5) = P(Y <= 2).
  if (discrete_check(D::checks[0]) && std::isfinite(y)) y = std::floor(y);
  if constexpr (HasCdfSide<D>::value) return D::cdf_side(x);
  if (y == -kInf) return -1;
  if (y == kInf) return 1;
  switch (D::checks[0]) {
    case Check::kPositive: return y <= 0 ? -1 : 0;
    case Check::kNonNeg: return y <= 0 ? -1 : 0;  // continuous: P(Y <= 0) = 0
    case Check::kNonNegInt: return y < 0 ? -1 : 0;
    case Check::kBinary: return y < 0 ? -1 : y >= 1 ? 1 : 0;
    case Check::kUnit:
    case Check::kOpenUnit: return y <= 0 ? -1 : y >= 1 ? 1 : 0;
    default: return 0;
  }
}

// Which = 0: the density; 1: log cdf; 2: log ccdf (D::lcdf / D::lccdf(x, g)).
template <class D, class T, int Which = 0>
double lpdf(const Arg<T>* a, bool propto) {
  if constexpr (Which != 0) propto = false;
  constexpr int K = D::K;
  const size_t n = broadcast_n(a, K);
  if (n == 0) return 0.0;
  if (n == static_cast<size_t>(-1)) return -kInf;
  size_t st[K];
  unsigned dep = 0, need = 0;
  for (int k = 0; k < K; ++k) {
    st[k] = a[k].size == 1 ? 0 : 1;
    if (a[k].is_param) dep |= 1u << k;
    if (a[k].grad) need |= 1u << k;
  }
  double x[K];
  // Validity first, so an invalid element leaves every gradient untouched.
  for (size_t i = 0; i < n; ++i) {
    for (int k = 0; k < K; ++k) x[k] = static_cast<double>(a[k].val[i * st[k]]);
    if constexpr (Which == 0) {
      if (!element_valid<D>(x)) return -kInf;
    } else {
      // An element on the side where the probability is 0 makes the sum -inf.
      const int side = cdf_side<D>(x);
      if (side == -2 || side == (Which == 1 ? -1 : 1)) return -kInf;
    }
  }
  if (propto && dep == 0) return 0.0;
  const Ctx c{propto, dep, need};
  Memos memo;
  double lp = 0, gs[K] = {}, g[K];
  for (size_t i = 0; i < n; ++i) {
    for (int k = 0; k < K; ++k) {
      x[k] = static_cast<double>(a[k].val[i * st[k]]);
      g[k] = 0;
    }
    if constexpr (Which == 0) {
      lp += D::lp(x, c, g, memo);
    } else {
      // Outside the support the probability is 1 (log 0, no partials); the -inf side was
      // rejected above.
      if (cdf_side<D>(x) != 0) continue;
      if constexpr (Which == 1) lp += D::lcdf(x, g);
      else lp += D::lccdf(x, g);
    }
    if (need) {
      for (int k = 0; k < K; ++k) {
        if (!a[k].grad) continue;
        if (st[k]) a[k].grad[i] += static_cast<T>(g[k]);
        else gs[k] += g[k];  // a broadcast scalar's partial is summed in double
      }
    }
  }
  for (int k = 0; k < K; ++k)
    if (a[k].grad && !st[k]) a[k].grad[0] += static_cast<T>(gs[k]);
  return lp;
}

template <class D>
void rng(const Arg<double>* a, Rng& r, double* out) {
  constexpr int K = D::K;
  const size_t n = a[0].size;
  double x[K];
  x[0] = 0;
  for (size_t i = 0; i < n; ++i) {
    for (int k = 1; k < K; ++k) x[k] = a[k].val[a[k].size == 1 ? 0 : i];
    out[i] = D::draw(x, r);
  }
}

template <class D>
std::string validate(const Arg<double>* a) {
  constexpr int K = D::K;
  size_t n = 1;
  int first = -1;
  for (int k = 0; k < K; ++k) {
    if (a[k].size == 1) continue;
    if (first < 0) {
      first = k;
      n = a[k].size;
    } else if (a[k].size != n) {
      return std::string(D::names[k]) + " has length " + std::to_string(a[k].size) + " but " +
             std::string(D::names[first]) + " has length " + std::to_string(n);
    }
  }
  for (int k = 0; k < K; ++k) {
    if (a[k].is_param) continue;
    for (size_t i = 0; i < a[k].size; ++i)
      if (!check(D::checks[k], a[k].val[i])) return bad_value(D::names[k], check_text(D::checks[k]), a[k].val[i], i);
  }
  if constexpr (HasExtra<D>::value) {
    bool all_data = true;
    for (int k = 0; k < K; ++k) all_data = all_data && !a[k].is_param;
    if (all_data) {
      double x[K];
      for (size_t i = 0; i < n; ++i) {
        for (int k = 0; k < K; ++k) x[k] = a[k].val[a[k].size == 1 ? 0 : i];
        if (!D::extra_valid(x))
          return std::string(D::names[0]) + " must satisfy " + D::extra_text + ", found " + fmt_value(x[0]) +
                 " at index " + std::to_string(i + 1);
      }
    }
  }
  return "";
}

template <class D>
DistInfo make_info(std::string_view name, Support s, bool discrete) {
  DistInfo d;
  d.name = name;
  d.arg_names.assign(D::names, D::names + D::K);
  d.support = s;
  d.discrete = discrete;
  d.lpdf_f64 = &lpdf<D, double>;
  d.lpdf_f32 = &lpdf<D, float>;
  d.rng = &rng<D>;
  d.validate = &validate<D>;
  if constexpr (HasCdf<D>::value) {
    d.lcdf_f64 = &lpdf<D, double, 1>;
    d.lccdf_f64 = &lpdf<D, double, 2>;
    d.lcdf_f32 = &lpdf<D, float, 1>;
    d.lccdf_f32 = &lpdf<D, float, 2>;
  }
  return d;
}

}  // namespace exmc::dist::detail

// Defines exmc::dist::detail::info_NAME(), the registry entry of one distribution file.
#define EXMC_REGISTER_DIST(NAME, TYPE, SUPPORT, DISCRETE)                                  \
  const ::exmc::dist::DistInfo& info_##NAME() {                                             \
    static const ::exmc::dist::DistInfo d = make_info<TYPE>(#NAME, SUPPORT, DISCRETE);     \
    return d;                                                                               \
  }

// The same, for a family whose log density has a fused path of its own: LPDF<T>(args, propto),
// for T = double and float, replaces the generic element loop (it falls back to that loop for
// the shapes it does not take).
#define EXMC_REGISTER_DIST_WITH_LPDF(NAME, TYPE, SUPPORT, DISCRETE, LPDF)                     \
  const ::exmc::dist::DistInfo& info_##NAME() {                                             \
    static const ::exmc::dist::DistInfo d = [] {                                            \
      ::exmc::dist::DistInfo i = make_info<TYPE>(#NAME, SUPPORT, DISCRETE);                \
      i.lpdf_f64 = &LPDF<double>;                                                           \
      i.lpdf_f32 = &LPDF<float>;                                                            \
      return i;                                                                             \
    }();                                                                                    \
    return d;                                                                               \
  }

namespace exmc::dist::detail {

// For families that do not broadcast elementwise (categorical, multivariate): D provides
// K, names, template <class T> static double lpdf(const Arg<T>*, bool), rng and validate.
template <class D>
DistInfo make_vector_info(std::string_view name, Support s, bool discrete, bool multivariate) {
  DistInfo d;
  d.name = name;
  d.arg_names.assign(D::names, D::names + D::K);
  d.support = s;
  d.discrete = discrete;
  d.multivariate = multivariate;
  d.lpdf_f64 = &D::template lpdf<double>;
  d.lpdf_f32 = &D::template lpdf<float>;
  d.rng = &D::rng;
  d.validate = &D::validate;
  return d;
}

// theta is a probability vector: entries in [0, 1] summing to 1 within 1e-8.
template <class T>
bool is_simplex(const T* p, size_t k) {
  double s = 0;
  for (size_t i = 0; i < k; ++i) {
    if (!(p[i] >= 0 && p[i] <= 1)) return false;
    s += double(p[i]);
  }
  return std::fabs(s - 1.0) <= (sizeof(T) == 4 ? 1e-5 : 1e-8);
}

std::string simplex_message(std::string_view arg, const double* p, size_t k);

// log(exp(a) - exp(b)) for a > b.
inline double log_diff_exp(double a, double b) { return a + std::log1p(-std::exp(b - a)); }

}  // namespace exmc::dist::detail

#define EXMC_REGISTER_VECTOR_DIST(NAME, TYPE, SUPPORT, DISCRETE, MULTIVARIATE)                          \
  const ::exmc::dist::DistInfo& info_##NAME() {                                                         \
    static const ::exmc::dist::DistInfo d = make_vector_info<TYPE>(#NAME, SUPPORT, DISCRETE, MULTIVARIATE); \
    return d;                                                                                           \
  }
