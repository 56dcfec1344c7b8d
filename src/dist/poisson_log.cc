// poisson_log(n | alpha): poisson with lambda = exp(alpha).
#include "univariate.hpp"
#include "samplers.hpp"

#include <algorithm>

#include "exmc/dist/link_rows.hpp"

namespace exmc::dist::detail {
namespace {
struct PoissonLog {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"n", "alpha"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kReal};
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], a = x[1], ea = m.m[0](a, [](double v) { return std::exp(v); });
    double lp = k * a - ea;
    if (c.keep(1)) lp -= log_factorial(k);
    g[1] = k - ea;
    return lp;
  }
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], lam = std::exp(x[1]);
    const double l = lower ? log_gamma_q(n + 1, lam) : log_gamma_p(n + 1, lam);
    g[1] = (lower ? -1 : 1) * std::exp(n * x[1] - lam - lgam(n + 1) - l) * lam;
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_poisson(r, std::exp(x[1])); }
};

// The sums of one block: lane k takes the elements i = k (mod 4) (blocks start at multiples of
// 4), so any vector width the compiler picks gives the same sums.
template <class T, bool kGrad>
void poisson_log_block(const T* y, const T* al, const double* e, T* g, size_t n, double* lin, double* rate) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (size_t k = 0; k < 4; ++k) {
      const double yi = double(y[i + k]);
      lin[k] += yi * double(al[i + k]);
      rate[k] += e[i + k];
      if constexpr (kGrad) g[i + k] += T(yi - e[i + k]);
    }
  for (size_t k = 0; i < n; ++i, ++k) {
    const double yi = double(y[i]);
    lin[k] += yi * double(al[i]);
    rate[k] += e[i];
    if constexpr (kGrad) g[i] += T(yi - e[i]);
  }
}

// Counts against a vector of log rates (or one log rate): the likelihood of Poisson
// regressions and of spatial count models, thousands of elements per gradient. The generic
// element loop called libm's exp once per element through the memo (a latency chain no loop
// overlaps: ~22% of a BYM2 model's sampling time); here the exps of a block are one vectorised
// pass (exp_rows.hpp, within 2 ulp of libm) and the sums run in fixed-order lanes. A log rate
// beyond +-700 (where the inline exp stops) takes the generic path.
template <class T, bool kVecAlpha>
double poisson_log_lpdf_vector(const Arg<T>* a, bool propto) {
  const size_t n = a[0].size;
  const T* y = a[0].val;
  const T* al = a[1].val;
  const size_t n_alpha = kVecAlpha ? n : 1;
  // Both checks run on every gradient: as scalar loops (std::trunc a libm call per count at
  // x86-64's baseline) they took about half this kernel's time on a BYM2 model's 1,921 counts.
  if (!all_counts(y, n)) return -kInf;
  if (!all_in_exp_range(al, n_alpha)) {
    for (size_t i = 0; i < n_alpha; ++i)
      if (!std::isfinite(double(al[i]))) return -kInf;
    return lpdf<PoissonLog, T>(a, propto);  // beyond the inline exp's range
  }
  const bool keep_lgamma = !propto || a[0].is_param;
  if (propto && !a[1].is_param && !keep_lgamma) return 0.0;
  T* g = a[1].grad;
  double lin[4] = {}, rate[4] = {};  // sums of y * alpha and exp(alpha), lane i % 4
  if constexpr (kVecAlpha) {
    constexpr size_t kBlock = 256;  // a multiple of 4: every block starts at lane 0
    double e[kBlock];
    for (size_t i0 = 0; i0 < n; i0 += kBlock) {
      const size_t nb = std::min(kBlock, n - i0);
      exp_rows(al + i0, e, nb);
      if (g) poisson_log_block<T, true>(y + i0, al + i0, e, g + i0, nb, lin, rate);
      else poisson_log_block<T, false>(y + i0, al + i0, e, nullptr, nb, lin, rate);
    }
  } else {
    const double v = double(al[0]);
    double ys[4] = {};
    for (size_t i = 0; i < n; ++i) ys[i & 3] += double(y[i]);
    const double sum_y = (ys[0] + ys[1]) + (ys[2] + ys[3]), e = std::exp(v);
    lin[0] = sum_y * v;
    rate[0] = double(n) * e;
    if (g) g[0] += T(sum_y - double(n) * e);
  }
  double lp = ((lin[0] + lin[1]) + (lin[2] + lin[3])) - ((rate[0] + rate[1]) + (rate[2] + rate[3]));
  if (keep_lgamma)
    for (size_t i = 0; i < n; ++i) lp -= log_factorial(double(y[i]));
  return lp;
}

template <class T>
double poisson_log_lpdf(const Arg<T>* a, bool propto) {
  const size_t n = a[0].size;
  if (n <= 1 || !(a[1].size == n || a[1].size == 1)) return lpdf<PoissonLog, T>(a, propto);
  return a[1].size == n ? poisson_log_lpdf_vector<T, true>(a, propto) : poisson_log_lpdf_vector<T, false>(a, propto);
}
}  // namespace

EXMC_REGISTER_DIST_WITH_LPDF(poisson_log, PoissonLog, Support::kNonNegInteger, true, poisson_log_lpdf)
}  // namespace exmc::dist::detail
