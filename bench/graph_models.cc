// Graph-API versions of the benchmark models: plain expressions, no hand algebra.
#include "graph_models.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "exmc/graph/compile.hpp"
#include "exmc/graph/graph.hpp"

namespace exmc::bench {
namespace {

using graph::Expr;
using graph::Graph;
using Outputs = std::vector<std::pair<std::string, Expr>>;

size_t count(const BenchData& d, const char* name) {
  long n = d.integer(name);
  if (n < 0) throw std::runtime_error(d.path() + ": variable '" + name + "' must be >= 0");
  return static_cast<size_t>(n);
}

// Stan's `~ normal(mu, sigma)` with constants dropped: -n log(sigma) - 0.5 |(y - mu)/sigma|^2,
// where the log(sigma) term is kept only when sigma depends on parameters.
Expr normal_lp(Expr y, Expr mu, Expr sigma, bool sigma_is_param) {
  Expr q = -0.5 * graph::dot_self((y - mu) / sigma);
  if (!sigma_is_param) return q;
  const double n = double(std::max(y.size(), mu.size()));
  return q - n * graph::log(sigma);
}
Expr normal_lp(Expr y, double mu, double sigma) {
  // Data-only location and scale: a scaled sum of squares (mu is 0 in every model here).
  return -0.5 / (sigma * sigma) * graph::dot_self(mu == 0.0 ? y : y - mu);
}

struct Built {
  Expr target;
  Outputs outputs;
};

Built simple(Graph& g, const BenchData& d) {
  const size_t N = count(d, "N");
  Expr mu = g.param(0), u = g.param(1), sigma = graph::exp(u);
  Expr y = g.data(d.vector("y", N), {N});
  Expr lp = normal_lp(mu, 0.0, 10.0) - sigma + u + normal_lp(y, mu, sigma, true);
  return {lp, {{"mu", mu}, {"sigma", sigma}}};
}

Built medium(Graph& g, const BenchData& d) {
  const size_t Na = count(d, "N_a"), Nb = count(d, "N_b");
  Expr mu = g.param(0), ug = g.param(1), a = g.param(2), b = g.param(3), uo = g.param(4);
  Expr sg = graph::exp(ug), so = graph::exp(uo);
  Expr ya = g.data(d.vector("y_a", Na), {Na}), yb = g.data(d.vector("y_b", Nb), {Nb});
  Expr lp = normal_lp(mu, 0.0, 10.0) - sg + ug + normal_lp(a, mu, sg, true) +
            normal_lp(b, mu, sg, true) - 2.0 * so + uo + normal_lp(ya, a, so, true) +
            normal_lp(yb, b, so, true);
  return {lp, {{"mu_global", mu}, {"sigma_global", sg}, {"alpha", a}, {"beta", b}, {"sigma_obs", so}}};
}

Built stress(Graph& g, const BenchData& d) {
  const size_t N = count(d, "N"), J = count(d, "J");
  const auto y = d.matrix_row_major("y", J, N);
  Expr mu = g.param(0), up = g.param(1), grp = g.param(2, {J}), un = g.param(2 + J, {J});
  Expr sp = graph::exp(up), noise = graph::exp(un);
  Expr lp = normal_lp(mu, 0.0, 10.0) - 0.5 * sp + up + normal_lp(grp, mu, sp, true) -
            graph::sum(noise) + graph::sum(un);
  for (size_t j = 0; j < J; ++j) {
    Expr yj = g.data(std::vector<double>(y.begin() + j * N, y.begin() + (j + 1) * N), {N});
    lp = lp + normal_lp(yj, graph::slice(grp, j, 1), graph::slice(noise, j, 1), true);
  }
  return {lp, {{"mu_pop", mu}, {"sigma_pop", sp}, {"group", grp}, {"noise", noise}}};
}

Built eight_centered(Graph& g, const BenchData& d) {
  const size_t J = count(d, "J");
  Expr mu = g.param(0), ut = g.param(1), theta = g.param(2, {J}), tau = graph::exp(ut);
  Expr y = g.data(d.vector("y", J), {J}), sigma = g.data(d.vector("sigma", J), {J});
  Expr lp = normal_lp(mu, 0.0, 5.0) + normal_lp(tau, 0.0, 5.0) + ut +
            normal_lp(theta, mu, tau, true) + normal_lp(y, theta, sigma, false);
  return {lp, {{"mu", mu}, {"tau", tau}, {"theta", theta}}};
}

Built eight_noncentered(Graph& g, const BenchData& d) {
  const size_t J = count(d, "J");
  Expr mu = g.param(0), ut = g.param(1), tt = g.param(2, {J}), tau = graph::exp(ut);
  Expr y = g.data(d.vector("y", J), {J}), sigma = g.data(d.vector("sigma", J), {J});
  Expr theta = mu + tau * tt;
  Expr lp = normal_lp(mu, 0.0, 5.0) + normal_lp(tau, 0.0, 5.0) + ut + normal_lp(tt, 0.0, 1.0) +
            normal_lp(y, theta, sigma, false);
  return {lp, {{"mu", mu}, {"tau", tau}, {"theta_tilde", tt}}};
}

Built funnel(Graph& g, const BenchData&) {
  Expr y = g.param(0), x = g.param(1, {9});
  Expr lp = normal_lp(y, 0.0, 3.0) + normal_lp(x, g.constant(0.0), graph::exp(y / 2.0), true);
  return {lp, {{"y", y}, {"x", x}}};
}

Built logistic(Graph& g, const BenchData& d) {
  const size_t N = count(d, "N"), K = count(d, "K");
  const auto xr = d.matrix_row_major("X", N, K);
  std::vector<double> xc(N * K);  // the graph takes matrices column-major
  for (size_t i = 0; i < N; ++i)
    for (size_t k = 0; k < K; ++k) xc[k * N + i] = xr[i * K + k];
  const auto yi = d.int_vector("y", N);
  std::vector<double> yv(yi.begin(), yi.end());
  for (size_t i = 0; i < N; ++i)
    if (yi[i] != 0 && yi[i] != 1)
      throw std::runtime_error(d.path() + ": variable 'y': expected 0 or 1 at index " +
                               std::to_string(i + 1));
  Expr alpha = g.param(0), beta = g.param(1, {K});
  Expr X = g.data(std::move(xc), {N, K}), y = g.data(std::move(yv), {N});
  Expr eta = alpha + graph::matvec(X, beta);
  // bernoulli_logit: sum y*eta - log(1 + e^eta).
  Expr lp = normal_lp(alpha, 0.0, 10.0) + normal_lp(beta, 0.0, 10.0) + graph::dot(y, eta) -
            graph::sum(graph::log1p_exp(eta));
  return {lp, {{"alpha", alpha}, {"beta", beta}}};
}

Built sv(Graph& g, const BenchData& d) {
  const size_t T = count(d, "T");
  if (T < 2) throw std::runtime_error(d.path() + ": variable 'T' must be >= 2");
  Expr us = g.param(0), un = g.param(1), s = g.param(2, {T});
  Expr sigma = graph::exp(us), nu = graph::exp(un);
  Expr r = g.data(d.vector("r", T), {T});
  Expr lp = -50.0 * sigma + us - 0.1 * nu + un;
  lp = lp + normal_lp(graph::slice(s, 0, 1), g.constant(0.0), sigma, true);
  lp = lp + normal_lp(graph::slice(s, 1, T - 1), graph::slice(s, 0, T - 1), sigma, true);
  // student_t(nu, 0, exp(s)) without the -0.5 log(pi) constant.
  Expr half_nu1 = (nu + 1.0) / 2.0;
  Expr norm = graph::lgamma(half_nu1) - graph::lgamma(nu / 2.0) - 0.5 * graph::log(nu);
  Expr z = graph::square(r / graph::exp(s)) / nu;
  lp = lp + double(T) * norm - graph::sum(s) - half_nu1 * graph::sum(graph::log1p(z));
  return {lp, {{"sigma", sigma}, {"nu", nu}, {"s", s}}};
}

Built hier_big(Graph& g, const BenchData& d) {
  const size_t J = count(d, "J"), N = count(d, "N");
  const auto gi = d.int_vector("g", N);
  std::vector<int> idx(N);
  for (size_t i = 0; i < N; ++i) {
    if (gi[i] < 1 || gi[i] > long(J))
      throw std::runtime_error(d.path() + ": variable 'g': expected 1.." + std::to_string(J) +
                               " at index " + std::to_string(i + 1));
    idx[i] = int(gi[i] - 1);
  }
  Expr mu = g.param(0), ut = g.param(1), z = g.param(2, {J}), tau = graph::exp(ut);
  Expr y = g.data(d.vector("y", N), {N});
  Expr theta = mu + tau * z;
  Expr lp = normal_lp(mu, 0.0, 10.0) + normal_lp(tau, 0.0, 5.0) + ut + normal_lp(z, 0.0, 1.0) +
            normal_lp(y, graph::gather(theta, std::move(idx)), g.constant(d.real("sigma_y")),
                      false);
  return {lp, {{"mu", mu}, {"tau", tau}, {"z", z}}};
}

Built build(const std::string& model, Graph& g, const BenchData& d) {
  if (model == "simple") return simple(g, d);
  if (model == "medium") return medium(g, d);
  if (model == "stress") return stress(g, d);
  if (model == "eight_schools_centered") return eight_centered(g, d);
  if (model == "eight_schools_noncentered") return eight_noncentered(g, d);
  if (model == "funnel") return funnel(g, d);
  if (model == "logistic" || model == "logistic_big") return logistic(g, d);
  if (model == "sv") return sv(g, d);
  if (model == "hier_big") return hier_big(g, d);
  throw std::runtime_error("unknown benchmark model '" + model + "'");
}

}  // namespace

std::unique_ptr<LogDensity> make_graph_model(const std::string& model, const BenchData& data,
                                             Precision precision) {
  Graph g;
  Built b = build(model, g, data);
  if (precision == Precision::F32) return graph::compile<float>(g, b.target, std::move(b.outputs));
  return graph::compile<double>(g, b.target, std::move(b.outputs));
}

}  // namespace exmc::bench
