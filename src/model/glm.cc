// Fused GLM likelihood kernels (see glm.hpp).
#include "glm.hpp"

#include "exmc/dist/link_rows.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>


namespace exmc::model::detail {

namespace {

constexpr size_t kBlock = 256;
constexpr double kHalfLog2Pi = 0.91893853320467274178;

template <class T> T at(const dist::Arg<T>& a, size_t i) { return a.val[a.size == 1 ? 0 : i]; }

template <class T> using Block = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;
template <class T> using Vec = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <class T> using CVec = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;

// eta[0..nb) = alpha + X[i0.., :] beta for one block of rows (X column-major, N rows); Eigen's
// matrix-vector kernels do the product on the strided block.
template <class T>
void block_eta(const dist::Arg<T>& X, const dist::Arg<T>& alpha, const dist::Arg<T>& beta, size_t N, size_t i0,
               size_t nb, T* eta) {
  for (size_t i = 0; i < nb; ++i) eta[i] = at(alpha, i0 + i);
  const Block<T> Xb(X.val + i0, Eigen::Index(nb), Eigen::Index(beta.size), Eigen::OuterStride<>(Eigen::Index(N)));
  Vec<T>(eta, Eigen::Index(nb)).noalias() += Xb * CVec<T>(beta.val, Eigen::Index(beta.size));
}

// Given w = d lp / d eta for a block, adds X^T w to beta's gradient. (X and y are data: the
// lift_glm pass only fuses observations whose matrix is data.)
template <class T>
void block_back(const dist::Arg<T>& X, const dist::Arg<T>& beta, size_t N, size_t i0, size_t nb, const T* w) {
  if (!beta.grad) return;
  const Block<T> Xb(X.val + i0, Eigen::Index(nb), Eigen::Index(beta.size), Eigen::OuterStride<>(Eigen::Index(N)));
  Vec<T>(beta.grad, Eigen::Index(beta.size)).noalias() += Xb.transpose() * CVec<T>(w, Eigen::Index(nb));
}

// Sum of v[0..n) in double, four running sums in a fixed order (vectorisable, and the same
// bits however the compiler vectorises it).
template <class T> double block_sum(const T* v, size_t n) {
  double acc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (size_t k = 0; k < 4; ++k) acc[k] += double(v[i + k]);
  for (; i < n; ++i) acc[i & 3] += double(v[i]);
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// d lp / d eta of a block into alpha's gradient: one sum for a scalar alpha, per row otherwise.
template <class T> void alpha_back(const dist::Arg<T>& alpha, size_t i0, size_t nb, const T* w) {
  if (!alpha.grad) return;
  if (alpha.size == 1) {
    alpha.grad[0] += T(block_sum(w, nb));
    return;
  }
  for (size_t i = 0; i < nb; ++i) alpha.grad[i0 + i] += w[i];
}

// args: y, X, alpha, beta, sigma
template <class T> double normal_id_glm_lpdf(const dist::Arg<T>* a, bool propto) {
  const auto &y = a[0], &X = a[1], &alpha = a[2], &beta = a[3], &sigma = a[4];
  const size_t N = y.size;
  for (size_t i = 0; i < sigma.size; ++i)
    if (!(sigma.val[i] > T(0))) return -std::numeric_limits<double>::infinity();
  const bool log_sigma = !propto || sigma.is_param;
  double lp = 0;
  if (!propto) lp -= double(N) * kHalfLog2Pi;
  if (log_sigma && sigma.size == 1) lp -= double(N) * std::log(double(sigma.val[0]));
  T eta[kBlock], sq[kBlock], dsigma[kBlock];
  for (size_t i0 = 0; i0 < N; i0 += kBlock) {
    const size_t nb = std::min(kBlock, N - i0);
    block_eta(X, alpha, beta, N, i0, nb, eta);
    for (size_t i = 0; i < nb; ++i) {  // no calls: vectorises
      const T s = at(sigma, i0 + i), inv = T(1) / s;
      const T r = (y.val[i0 + i] - eta[i]) * inv;
      sq[i] = r * r;
      dsigma[i] = (r * r - T(1)) * inv;
      eta[i] = r * inv;  // d lp / d eta
    }
    lp -= 0.5 * block_sum(sq, nb);
    if (log_sigma && sigma.size != 1)
      for (size_t i = 0; i < nb; ++i) lp -= std::log(double(sigma.val[i0 + i]));
    if (sigma.grad) {
      if (sigma.size == 1)
        sigma.grad[0] += T(block_sum(dsigma, nb));
      else
        for (size_t i = 0; i < nb; ++i) sigma.grad[i0 + i] += dsigma[i];
    }
    alpha_back(alpha, i0, nb, eta);
    block_back(X, beta, N, i0, nb, eta);
  }
  return lp;
}

// Shapes as Stan's _glm densities demand them: x has a row per element of y and a column per
// element of beta; alpha (and normal_id_glm's sigma) is one value or one per row. The kernels
// trust them (a beta longer than x's columns read past x), and lift_glm only builds conforming
// ones; a program that names the density itself is checked here, when the model is built.
std::string count(size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

std::string glm_shapes(const dist::Arg<double>* a, bool with_sigma) {
  const size_t n = a[0].size;
  if (a[1].rows != n) return "x has " + count(a[1].rows, "row") + " but y has " + count(n, "element");
  if (a[3].size != a[1].cols) return "beta has " + count(a[3].size, "element") + " but x has " + count(a[1].cols, "column");
  if (a[2].size != 1 && a[2].size != n)
    return "alpha has " + std::to_string(a[2].size) + " elements: expected 1 or one per element of y (" +
           std::to_string(n) + ")";
  if (with_sigma && a[4].size != 1 && a[4].size != n)
    return "sigma has " + std::to_string(a[4].size) + " elements: expected 1 or one per element of y (" +
           std::to_string(n) + ")";
  return "";
}

std::string normal_id_glm_validate(const dist::Arg<double>* a) {
  if (std::string bad = glm_shapes(a, true); !bad.empty()) return bad;
  if (a[4].is_param) return "";
  for (size_t i = 0; i < a[4].size; ++i)
    if (!(a[4].val[i] > 0) || !std::isfinite(a[4].val[i]))
      return "sigma must be positive and finite, found " + std::to_string(a[4].val[i]) + " at index " +
             std::to_string(i + 1);
  return "";
}

// args: y, X, alpha, beta
template <class T> double bernoulli_logit_glm_lpdf(const dist::Arg<T>* a, bool) {
  const auto &y = a[0], &X = a[1], &alpha = a[2], &beta = a[3];
  const size_t N = y.size;
  double lp = 0;
  T eta[kBlock], term[kBlock], w[kBlock];
  for (size_t i0 = 0; i0 < N; i0 += kBlock) {
    const size_t nb = std::min(kBlock, N - i0);
    block_eta(X, alpha, beta, N, i0, nb, eta);
    dist::detail::bernoulli_logit_rows(eta, y.val + i0, term, w, nb);
    lp += block_sum(term, nb);
    alpha_back(alpha, i0, nb, w);
    block_back(X, beta, N, i0, nb, w);
  }
  return lp;
}

std::string bernoulli_logit_glm_validate(const dist::Arg<double>* a) {
  if (std::string bad = glm_shapes(a, false); !bad.empty()) return bad;
  if (a[0].is_param) return "";
  for (size_t i = 0; i < a[0].size; ++i)
    if (a[0].val[i] != 0 && a[0].val[i] != 1)
      return "y must be 0 or 1, found " + std::to_string(a[0].val[i]) + " at index " + std::to_string(i + 1);
  return "";
}

}  // namespace

const dist::DistInfo& normal_id_glm() {
  static const dist::DistInfo d{"normal_id_glm", {"y", "x", "alpha", "beta", "sigma"}, dist::Support::kReal,
                                false, true, normal_id_glm_lpdf<double>, normal_id_glm_lpdf<float>, nullptr,
                                normal_id_glm_validate};
  return d;
}

const dist::DistInfo& bernoulli_logit_glm() {
  static const dist::DistInfo d{"bernoulli_logit_glm", {"y", "x", "alpha", "beta"}, dist::Support::kBinary, true,
                                true, bernoulli_logit_glm_lpdf<double>, bernoulli_logit_glm_lpdf<float>, nullptr,
                                bernoulli_logit_glm_validate};
  return d;
}

}  // namespace exmc::model::detail
