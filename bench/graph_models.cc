// Graph-API versions of the benchmark models: plain expressions, no hand algebra.
#include "graph_models.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "exmc/dist/kernel.hpp"
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

// Emits the `~` statements either as elementary ops (the terms Stan keeps, written out) or as
// one fused dist_lpdf node per statement (kernels from src/dist, propto).
struct Lp {
  Graph& g;
  GraphStyle style;

  bool fused() const { return style == GraphStyle::Fused; }
  bool is_param(Expr e) const { return g.node(e.id()).depends_on_params; }
  Expr fuse(const char* dist, std::vector<Expr> args) const {
    const dist::DistInfo* d = dist::find_dist(dist);
    if (d == nullptr) throw std::runtime_error(std::string("distribution '") + dist + "' is not registered");
    return graph::dist_lpdf(*d, std::move(args), /*propto=*/true);
  }

  // y ~ normal(mu, sigma): -n log(sigma) (when sigma has parameters) - 0.5 |(y - mu)/sigma|^2.
  Expr normal(Expr y, Expr mu, Expr sigma) const {
    if (fused()) return fuse("normal", {y, mu, sigma});
    Expr q = -0.5 * graph::dot_self((y - mu) / sigma);
    if (!is_param(sigma)) return q;
    const double n = double(std::max(y.size(), mu.size()));
    return q - n * graph::log(sigma);
  }
  // y ~ normal(mu, sigma) with data-only location and scale (mu is 0 in every model here).
  Expr normal(Expr y, double mu, double sigma) const {
    if (fused()) return fuse("normal", {y, g.constant(mu), g.constant(sigma)});
    return -0.5 / (sigma * sigma) * graph::dot_self(mu == 0.0 ? y : y - mu);
  }
  Expr std_normal(Expr y) const {
    if (fused()) return fuse("std_normal", {y});
    return -0.5 * graph::dot_self(y);
  }
  // y ~ exponential(rate), rate data: -rate * sum(y).
  Expr exponential(Expr y, double rate) const {
    if (fused()) return fuse("exponential", {y, g.constant(rate)});
    return -rate * graph::sum(y);
  }
  // y ~ student_t(nu, 0, sigma), nu scalar with parameters, without the -0.5 log(pi) constant.
  Expr student_t0(Expr y, Expr nu, Expr sigma) const {
    if (fused()) return fuse("student_t", {y, nu, g.constant(0.0), sigma});
    Expr half_nu1 = (nu + 1.0) / 2.0;
    Expr norm = graph::lgamma(half_nu1) - graph::lgamma(nu / 2.0) - 0.5 * graph::log(nu);
    Expr z = graph::square(y / sigma) / nu;
    return double(y.size()) * norm - graph::sum(graph::log(sigma)) -
           half_nu1 * graph::sum(graph::log1p(z));
  }
  // y ~ bernoulli_logit(eta): sum y*eta - log(1 + e^eta).
  Expr bernoulli_logit(Expr y, Expr eta) const {
    if (fused()) return fuse("bernoulli_logit", {y, eta});
    return graph::dot(y, eta) - graph::sum(graph::log1p_exp(eta));
  }
};

struct Built {
  Expr target;
  Outputs outputs;
};

Built simple(Graph& g, const Lp& L, const BenchData& d) {
  const size_t N = count(d, "N");
  Expr mu = g.param(0), u = g.param(1), sigma = graph::exp(u);
  Expr y = g.data(d.vector("y", N), {N});
  Expr lp = L.normal(mu, 0.0, 10.0) + L.exponential(sigma, 1.0) + u + L.normal(y, mu, sigma);
  return {lp, {{"mu", mu}, {"sigma", sigma}}};
}

Built medium(Graph& g, const Lp& L, const BenchData& d) {
  const size_t Na = count(d, "N_a"), Nb = count(d, "N_b");
  Expr mu = g.param(0), ug = g.param(1), a = g.param(2), b = g.param(3), uo = g.param(4);
  Expr sg = graph::exp(ug), so = graph::exp(uo);
  Expr ya = g.data(d.vector("y_a", Na), {Na}), yb = g.data(d.vector("y_b", Nb), {Nb});
  Expr lp = L.normal(mu, 0.0, 10.0) + L.exponential(sg, 1.0) + ug + L.normal(a, mu, sg) +
            L.normal(b, mu, sg) + L.exponential(so, 2.0) + uo + L.normal(ya, a, so) +
            L.normal(yb, b, so);
  return {lp, {{"mu_global", mu}, {"sigma_global", sg}, {"alpha", a}, {"beta", b}, {"sigma_obs", so}}};
}

Built stress(Graph& g, const Lp& L, const BenchData& d) {
  const size_t N = count(d, "N"), J = count(d, "J");
  const auto y = d.matrix_row_major("y", J, N);
  Expr mu = g.param(0), up = g.param(1), grp = g.param(2, {J}), un = g.param(2 + J, {J});
  Expr sp = graph::exp(up), noise = graph::exp(un);
  Expr lp = L.normal(mu, 0.0, 10.0) + L.exponential(sp, 0.5) + up + L.normal(grp, mu, sp) +
            L.exponential(noise, 1.0) + graph::sum(un);
  for (size_t j = 0; j < J; ++j) {
    Expr yj = g.data(std::vector<double>(y.begin() + j * N, y.begin() + (j + 1) * N), {N});
    lp = lp + L.normal(yj, graph::slice(grp, j, 1), graph::slice(noise, j, 1));
  }
  return {lp, {{"mu_pop", mu}, {"sigma_pop", sp}, {"group", grp}, {"noise", noise}}};
}

Built eight_centered(Graph& g, const Lp& L, const BenchData& d) {
  const size_t J = count(d, "J");
  Expr mu = g.param(0), ut = g.param(1), theta = g.param(2, {J}), tau = graph::exp(ut);
  Expr y = g.data(d.vector("y", J), {J}), sigma = g.data(d.vector("sigma", J), {J});
  Expr lp = L.normal(mu, 0.0, 5.0) + L.normal(tau, 0.0, 5.0) + ut + L.normal(theta, mu, tau) +
            L.normal(y, theta, sigma);
  return {lp, {{"mu", mu}, {"tau", tau}, {"theta", theta}}};
}

Built eight_noncentered(Graph& g, const Lp& L, const BenchData& d) {
  const size_t J = count(d, "J");
  Expr mu = g.param(0), ut = g.param(1), tt = g.param(2, {J}), tau = graph::exp(ut);
  Expr y = g.data(d.vector("y", J), {J}), sigma = g.data(d.vector("sigma", J), {J});
  Expr theta = mu + tau * tt;
  Expr lp = L.normal(mu, 0.0, 5.0) + L.normal(tau, 0.0, 5.0) + ut + L.normal(tt, 0.0, 1.0) +
            L.normal(y, theta, sigma);
  return {lp, {{"mu", mu}, {"tau", tau}, {"theta_tilde", tt}}};
}

Built funnel(Graph& g, const Lp& L, const BenchData&) {
  Expr y = g.param(0), x = g.param(1, {9});
  Expr lp = L.normal(y, 0.0, 3.0) + L.normal(x, g.constant(0.0), graph::exp(y / 2.0));
  return {lp, {{"y", y}, {"x", x}}};
}

Built logistic(Graph& g, const Lp& L, const BenchData& d) {
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
  Expr lp = L.normal(alpha, 0.0, 10.0) + L.normal(beta, 0.0, 10.0) + L.bernoulli_logit(y, eta);
  return {lp, {{"alpha", alpha}, {"beta", beta}}};
}

Built sv(Graph& g, const Lp& L, const BenchData& d) {
  const size_t T = count(d, "T");
  if (T < 2) throw std::runtime_error(d.path() + ": variable 'T' must be >= 2");
  Expr us = g.param(0), un = g.param(1), s = g.param(2, {T});
  Expr sigma = graph::exp(us), nu = graph::exp(un);
  Expr r = g.data(d.vector("r", T), {T});
  Expr lp = L.exponential(sigma, 50.0) + us + L.exponential(nu, 0.1) + un;
  lp = lp + L.normal(graph::slice(s, 0, 1), g.constant(0.0), sigma);
  lp = lp + L.normal(graph::slice(s, 1, T - 1), graph::slice(s, 0, T - 1), sigma);
  lp = lp + L.student_t0(r, nu, graph::exp(s));
  return {lp, {{"sigma", sigma}, {"nu", nu}, {"s", s}}};
}

Built hier_big(Graph& g, const Lp& L, const BenchData& d) {
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
  Expr lp = L.normal(mu, 0.0, 10.0) + L.normal(tau, 0.0, 5.0) + ut + L.std_normal(z) +
            L.normal(y, graph::gather(theta, std::move(idx)), g.constant(d.real("sigma_y")));
  return {lp, {{"mu", mu}, {"tau", tau}, {"z", z}}};
}

Built build(const std::string& model, Graph& g, const Lp& L, const BenchData& d) {
  if (model == "simple") return simple(g, L, d);
  if (model == "medium") return medium(g, L, d);
  if (model == "stress") return stress(g, L, d);
  if (model == "eight_schools_centered") return eight_centered(g, L, d);
  if (model == "eight_schools_noncentered") return eight_noncentered(g, L, d);
  if (model == "funnel") return funnel(g, L, d);
  if (model == "logistic" || model == "logistic_big") return logistic(g, L, d);
  if (model == "sv") return sv(g, L, d);
  if (model == "hier_big") return hier_big(g, L, d);
  throw std::runtime_error("unknown benchmark model '" + model + "'");
}

}  // namespace

std::unique_ptr<LogDensity> make_graph_model(const std::string& model, const BenchData& data,
                                             Precision precision, GraphStyle style) {
  Graph g;
  const Lp L{g, style};
  Built b = build(model, g, L, data);
  if (precision == Precision::F32) return graph::compile<float>(g, b.target, std::move(b.outputs));
  return graph::compile<double>(g, b.target, std::move(b.outputs));
}

}  // namespace exmc::bench
