// Small but non-trivial graphs shared by the pass, precision, allocation and thread tests.
#pragma once

#include <random>
#include <vector>

#include "test_util.hpp"

namespace exmc::graph::testing {

// Hierarchical normal, non-centred, with theta[g] gathered over N observations; groups are
// interleaved (scattered gather) or sorted (gather by runs). x = (mu, log_tau, z[J]).
inline Expr hier_model(Graph& g, size_t J, size_t N, unsigned seed = 7, bool sorted = false) {
  std::mt19937 r(seed);
  std::vector<int> grp(N);
  std::vector<double> y(N);
  for (size_t i = 0; i < N; ++i) {
    grp[i] = sorted ? int(i * J / N) : int(i % J);
    y[i] = std::normal_distribution<double>(0.5 * double(grp[i] % 5), 1.0)(r);
  }
  Expr mu = g.param(0), ltau = g.param(1), z = g.param(2, {J});
  Expr tau = exp(ltau);
  Expr theta = mu + tau * z;
  const auto& nrm = test_normal();
  return dist_lpdf(nrm, {mu, g.constant(0), g.constant(10)}) +
         dist_lpdf(nrm, {tau, g.constant(0), g.constant(5)}) + ltau +
         dist_lpdf(nrm, {z, g.constant(0), g.constant(1)}) +
         dist_lpdf(nrm, {g.data(y, {N}), gather(theta, grp), g.constant(1.0)});
}

// Linear regression on a standardised design computed inside the graph from raw data.
// x = (alpha, beta[K], log_sigma).
inline Expr regression_model(Graph& g, size_t N, size_t K, unsigned seed = 3) {
  std::mt19937 r(seed);
  std::vector<double> X(N * K), y(N);
  for (double& v : X) v = std::normal_distribution<double>(2.0, 3.0)(r);
  for (double& v : y) v = std::normal_distribution<double>(0.0, 1.0)(r);
  Expr Xraw = g.data(X, {N, K});
  // Column centring and scaling written as data-only graph work: folded at compile time.
  std::vector<double> ones(N, 1.0 / double(N));
  Expr colmean = matvec(transpose(Xraw), g.data(ones, {N}));          // {K}
  Expr centred = Xraw - matmul(g.data(std::vector<double>(N, 1.0), {N, 1}), reshape(colmean, {1, K}));
  Expr Xs = centred / sqrt(sum(square(centred)) / double(N * K));
  Expr alpha = g.param(0), beta = g.param(1, {K}), lsig = g.param(1 + K);
  const auto& nrm = test_normal();
  return dist_lpdf(nrm, {g.data(y, {N}), alpha + matvec(Xs, beta), exp(lsig)}) + lsig +
         dist_lpdf(nrm, {beta, g.constant(0), g.constant(2)});
}

// Multivariate-normal style density through cholesky, triangular solve and log-determinant.
// x = (B[n*n], v[n]).
inline Expr linalg_model(Graph& g, size_t n) {
  Expr B = g.param(0, {n, n});
  std::vector<double> eye(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) eye[i * n + i] = double(n);
  Expr S = matmul(B, transpose(B)) + g.data(eye, {n, n});
  Expr L = cholesky_decompose(S);
  Expr v = g.param(n * n, {n});
  return -0.5 * dot_self(mdivide_left_tri_low(L, v)) - 0.5 * log_determinant(S) +
         log_sum_exp(cumulative_sum(v)) - sum(log1p_exp(v));
}

inline std::vector<double> random_point(size_t d, unsigned seed, double scale = 0.5) {
  std::mt19937 r(seed);
  std::vector<double> x(d);
  for (double& v : x) v = std::normal_distribution<double>(0.0, scale)(r);
  return x;
}

}  // namespace exmc::graph::testing
