// bernoulli_logit(y | alpha): bernoulli with theta = inv_logit(alpha).
#include "univariate.hpp"

#include <algorithm>

#include "exmc/dist/link_rows.hpp"

namespace exmc::dist::detail {
namespace {
struct BernoulliLogit {
  static constexpr int K = 2;
  static constexpr std::string_view names[K] = {"n", "alpha"};
  static constexpr Check checks[K] = {Check::kBinary, Check::kReal};
  static double lp(const double* x, const Ctx&, double* g, Memos&) {
    // log inv_logit(s * alpha) with s = +1 for y = 1, -1 for y = 0.
    const double s = x[0] == 1 ? 1.0 : -1.0, t = s * x[1];
    g[1] = s * inv_logit(-t);
    return -log1p_exp(-t);
  }
  static double lcdf(const double* x, double* g) {
    g[1] = -inv_logit(x[1]);
    return -log1p_exp(x[1]);
  }
  static double lccdf(const double* x, double* g) {
    g[1] = inv_logit(-x[1]);
    return -log1p_exp(-x[1]);
  }
  static double draw(const double* x, Rng& r) { return r.uniform() < inv_logit(x[1]) ? 1.0 : 0.0; }
};

// Outcomes against a vector of logits (hierarchical and varying-intercept logistic models whose
// linear predictor is not one data matrix times a vector, which lift_glm takes) or one logit. The
// generic element loop called libm's exp and log1p per element; here a block's terms and
// partials are one vectorised pass (link_rows.hpp, shared with bernoulli_logit_glm), summed in
// fixed-order lanes.
template <class T>
double bernoulli_logit_lpdf_vector(const Arg<T>* a, bool propto) {
  const size_t n = a[0].size;
  const T* y = a[0].val;
  const T* al = a[1].val;
  const bool vec_alpha = a[1].size == n;
  // The checks run on every gradient: vectorised kernels (link_rows.hpp), not scalar loops.
  if (!all_binary(y, n) || !all_finite(al, a[1].size)) return -kInf;
  if (propto && !a[1].is_param) return 0.0;
  T* g = a[1].grad;
  if (!vec_alpha) {
    // n1 log inv_logit(alpha) + n0 log(1 - inv_logit(alpha)).
    double ones = 0;
    for (size_t i = 0; i < n; ++i) ones += double(y[i]);
    const double v = double(al[0]), zeros = double(n) - ones;
    if (g) g[0] += T(ones * inv_logit(-v) - zeros * inv_logit(v));
    return -(ones * log1p_exp(-v) + zeros * log1p_exp(v));
  }
  constexpr size_t kBlock = 256;  // a multiple of 4: lane k sums the elements i = k (mod 4)
  T term[kBlock], w[kBlock];
  double acc[4] = {0, 0, 0, 0};
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    const size_t nb = std::min(kBlock, n - i0);
    bernoulli_logit_rows(al + i0, y + i0, term, w, nb);
    size_t i = 0;
    for (; i + 4 <= nb; i += 4)
      for (size_t k = 0; k < 4; ++k) acc[k] += double(term[i + k]);
    for (size_t k = 0; i < nb; ++i, ++k) acc[k] += double(term[i]);
    if (g)
      for (size_t j = 0; j < nb; ++j) g[i0 + j] += w[j];
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

template <class T>
double bernoulli_logit_lpdf(const Arg<T>* a, bool propto) {
  const size_t n = a[0].size;
  if (n <= 1 || !(a[1].size == n || a[1].size == 1)) return lpdf<BernoulliLogit, T>(a, propto);
  return bernoulli_logit_lpdf_vector<T>(a, propto);
}
}  // namespace

EXMC_REGISTER_DIST_WITH_LPDF(bernoulli_logit, BernoulliLogit, Support::kBinary, true, bernoulli_logit_lpdf)
}  // namespace exmc::dist::detail
