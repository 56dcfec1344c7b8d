// binomial_logit(n | N, alpha): binomial with theta = inv_logit(alpha).
#include "univariate.hpp"
#include "samplers.hpp"

#include <algorithm>

#include "exmc/dist/link_rows.hpp"

namespace exmc::dist::detail {
namespace {
struct BinomialLogit {
  static constexpr int K = 3;
  static constexpr std::string_view names[K] = {"n", "N", "alpha"};
  static constexpr Check checks[K] = {Check::kNonNegInt, Check::kNonNegInt, Check::kReal};
  static constexpr const char* extra_text = "n <= N";
  static bool extra_valid(const double* x) { return x[0] <= x[1]; }
  static double lp(const double* x, const Ctx& c, double* g, Memos& m) {
    const double k = x[0], N = x[1], a = x[2];
    double lp = 0;
    if (c.keep(3)) lp += log_factorial(N) - log_factorial(k) - log_factorial(N - k);
    lp -= k * log1p_exp(-a) + (N - k) * log1p_exp(a);
    g[2] = k - N * inv_logit(a);
    return lp;
  }
  static int cdf_side(const double* x) { return x[0] < 0 ? -1 : x[0] >= x[1] ? 1 : 0; }
  static double lcdf(const double* x, double* g) { return cdf(x, g, true); }
  static double lccdf(const double* x, double* g) { return cdf(x, g, false); }
  static double cdf(const double* x, double* g, bool lower) {
    const double n = x[0], N = x[1], th = inv_logit(x[2]), thc = inv_logit(-x[2]);
    const double l = lower ? log_ibeta(N - n, n + 1, thc, th) : log_ibeta(n + 1, N - n, th, thc);
    g[2] = (lower ? -1 : 1) * std::exp(log_ibeta_dx(n + 1, N - n, th, thc) - l) * th * thc;
    return l;
  }
  static double draw(const double* x, Rng& r) { return draw_binomial(r, x[1], inv_logit(x[2])); }
};

// Successes n out of N against a vector of logits (or one): the generic element loop made five
// libm calls per element (two log1p_exp, inv_logit); here one exp and one log1p per logit, a
// block at a time in one vectorised pass (link_rows.hpp), and sums in fixed-order lanes.
template <class T>
double binomial_logit_lpdf_vector(const Arg<T>* a, bool propto) {
  const size_t n = a[0].size;
  const T* k = a[0].val;
  const T* N = a[1].val;
  const T* al = a[2].val;
  const size_t sN = a[1].size == 1 ? 0 : 1, sa = a[2].size == 1 ? 0 : 1;
  // The checks run on every gradient: vectorised kernels (link_rows.hpp) where they can be.
  if (!all_counts(k, n) || !all_counts(N, a[1].size) || !all_finite(al, a[2].size)) return -kInf;
  unsigned above = 0;
  for (size_t i = 0; i < n; ++i) above |= unsigned(double(k[i]) > double(N[i * sN]));
  if (above) return -kInf;
  const bool keep_choose = !propto || a[0].is_param || a[1].is_param;
  if (propto && !a[2].is_param && !keep_choose) return 0.0;
  T* g = a[2].grad;
  constexpr size_t kBlock = 256;  // a multiple of 4: lane j sums the elements i = j (mod 4)
  double l[kBlock], p[kBlock];
  double acc[4] = {0, 0, 0, 0}, gsum[4] = {0, 0, 0, 0};
  if (!sa) logit_rows(al, l, p, 1);  // one logit: its pieces serve every element
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    const size_t nb = std::min(kBlock, n - i0);
    if (sa) logit_rows(al + i0, l, p, nb);
    for (size_t j = 0; j < nb; ++j) {
      const size_t i = i0 + j, r = sa ? j : 0;
      const double ki = double(k[i]), Ni = double(N[i * sN]), ai = double(al[i * sa]);
      // k log inv_logit(a) + (N - k) log(1 - inv_logit(a)).
      acc[j & 3] -= (ki * (ai < 0 ? -ai : 0.0) + (Ni - ki) * (ai > 0 ? ai : 0.0)) + Ni * l[r];
      const double gi = ki - Ni * p[r];
      if (!g) continue;
      if (sa) g[i] += T(gi);
      else gsum[j & 3] += gi;
    }
  }
  double lp = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  if (g && !sa) g[0] += T((gsum[0] + gsum[1]) + (gsum[2] + gsum[3]));
  if (keep_choose)
    for (size_t i = 0; i < n; ++i) {
      const double ki = double(k[i]), Ni = double(N[i * sN]);
      lp += log_factorial(Ni) - log_factorial(ki) - log_factorial(Ni - ki);
    }
  return lp;
}

template <class T>
double binomial_logit_lpdf(const Arg<T>* a, bool propto) {
  const size_t n = a[0].size;
  if (n <= 1 || !(a[1].size == n || a[1].size == 1) || !(a[2].size == n || a[2].size == 1))
    return lpdf<BinomialLogit, T>(a, propto);
  return binomial_logit_lpdf_vector<T>(a, propto);
}
}  // namespace

EXMC_REGISTER_DIST_WITH_LPDF(binomial_logit, BinomialLogit, Support::kNonNegInteger, true, binomial_logit_lpdf)
}  // namespace exmc::dist::detail
