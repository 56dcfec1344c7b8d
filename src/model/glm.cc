// Fused GLM likelihood kernels (see glm.hpp).
#include "glm.hpp"

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
template <class T> void add_at(const dist::Arg<T>& a, size_t i, T v) {
  if (a.grad) a.grad[a.size == 1 ? 0 : i] += v;
}

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
  T eta[kBlock];
  for (size_t i0 = 0; i0 < N; i0 += kBlock) {
    const size_t nb = std::min(kBlock, N - i0);
    block_eta(X, alpha, beta, N, i0, nb, eta);
    for (size_t i = 0; i < nb; ++i) {
      const T s = at(sigma, i0 + i), inv = T(1) / s;
      const T r = (y.val[i0 + i] - eta[i]) * inv;
      lp -= 0.5 * double(r) * double(r);
      if (log_sigma && sigma.size != 1) lp -= std::log(double(s));
      const T w = r * inv;  // d lp / d eta
      add_at(alpha, i0 + i, w);
      add_at(sigma, i0 + i, (r * r - T(1)) * inv);
      eta[i] = w;
    }
    block_back(X, beta, N, i0, nb, eta);
  }
  return lp;
}

std::string normal_id_glm_validate(const dist::Arg<double>* a) {
  if (a[4].is_param) return "";
  for (size_t i = 0; i < a[4].size; ++i)
    if (!(a[4].val[i] > 0) || !std::isfinite(a[4].val[i]))
      return "sigma must be positive and finite, found " + std::to_string(a[4].val[i]) + " at index " +
             std::to_string(i);
  return "";
}

// args: y, X, alpha, beta
template <class T> double bernoulli_logit_glm_lpdf(const dist::Arg<T>* a, bool) {
  const auto &y = a[0], &X = a[1], &alpha = a[2], &beta = a[3];
  const size_t N = y.size;
  double lp = 0;
  T eta[kBlock];
  for (size_t i0 = 0; i0 < N; i0 += kBlock) {
    const size_t nb = std::min(kBlock, N - i0);
    block_eta(X, alpha, beta, N, i0, nb, eta);
    for (size_t i = 0; i < nb; ++i) {
      // One exp serves both log(1 + e^eta) and inv_logit(eta).
      const T e = eta[i], yi = y.val[i0 + i];
      const T ea = std::exp(-std::fabs(e));
      lp += double(yi * e - ((e > T(0) ? e : T(0)) + std::log1p(ea)));
      const T p = e >= T(0) ? T(1) / (T(1) + ea) : ea / (T(1) + ea);
      const T w = yi - p;
      add_at(alpha, i0 + i, w);
      eta[i] = w;
    }
    block_back(X, beta, N, i0, nb, eta);
  }
  return lp;
}

std::string bernoulli_logit_glm_validate(const dist::Arg<double>* a) {
  if (a[0].is_param) return "";
  for (size_t i = 0; i < a[0].size; ++i)
    if (a[0].val[i] != 0 && a[0].val[i] != 1)
      return "y must be 0 or 1, found " + std::to_string(a[0].val[i]) + " at index " + std::to_string(i);
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
