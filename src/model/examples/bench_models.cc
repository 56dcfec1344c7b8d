// The ten benchmark models in the builder API (see exmc/model/examples.hpp).
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "exmc/model/examples.hpp"

namespace exmc::model::examples {

namespace {

using graph::gather;
using graph::slice;

[[noreturn]] void bad(const std::string& model, const std::string& what) {
  throw std::invalid_argument("model '" + model + "': " + what);
}

struct Data {
  const nlohmann::json& j;
  std::string model;
  const nlohmann::json& at(const char* field) const {
    if (!j.contains(field)) bad(model, "data has no field '" + std::string(field) + "'");
    return j.at(field);
  }
  size_t size(const char* field) const {
    const auto& v = at(field);
    if (!v.is_number_integer() || v.get<long>() < 0) bad(model, "data field '" + std::string(field) + "' must be a non-negative integer");
    return v.get<size_t>();
  }
  double real(const char* field) const { return at(field).get<double>(); }
  std::vector<double> vec(const char* field, size_t n) const {
    const auto& v = at(field);
    if (v.is_number() && n == 1) return {v.get<double>()};
    if (!v.is_array() || v.size() != n)
      bad(model, "data field '" + std::string(field) + "' must be an array of " + std::to_string(n) + " numbers");
    std::vector<double> out;
    for (const auto& e : v) out.push_back(e.get<double>());
    return out;
  }
  // A matrix given as an array of rows, returned column-major.
  std::vector<double> matrix(const char* field, size_t r, size_t c) const {
    const auto& v = at(field);
    if (!v.is_array() || v.size() != r)
      bad(model, "data field '" + std::string(field) + "' must have " + std::to_string(r) + " rows");
    std::vector<double> out(r * c);
    for (size_t i = 0; i < r; ++i) {
      if (!v[i].is_array() || v[i].size() != c)
        bad(model, "row " + std::to_string(i) + " of data field '" + std::string(field) + "' must have " +
                       std::to_string(c) + " columns");
      for (size_t k = 0; k < c; ++k) out[i + r * k] = v[i][k].get<double>();
    }
    return out;
  }
};

constexpr Ncp kOff = Ncp::kOff;

void simple(Model& m, const Data& d) {
  const size_t N = d.size("N");
  Expr mu = m.rv("mu", "normal", {0.0, 10.0}, {}, {}, kOff);
  Expr sigma = m.rv("sigma", "exponential", {1.0});
  m.observe("y", "normal", {mu, sigma}, d.vec("y", N), {N});
}

void medium(Model& m, const Data& d) {
  const size_t Na = d.size("N_a"), Nb = d.size("N_b");
  Expr mu = m.rv("mu_global", "normal", {0.0, 10.0}, {}, {}, kOff);
  Expr sg = m.rv("sigma_global", "exponential", {1.0});
  Expr alpha = m.rv("alpha", "normal", {mu, sg}, {}, {}, kOff);
  Expr beta = m.rv("beta", "normal", {mu, sg}, {}, {}, kOff);
  Expr so = m.rv("sigma_obs", "exponential", {2.0});
  m.observe("y_a", "normal", {alpha, so}, d.vec("y_a", Na), {Na});
  m.observe("y_b", "normal", {beta, so}, d.vec("y_b", Nb), {Nb});
}

void stress(Model& m, const Data& d) {
  const size_t N = d.size("N"), J = d.size("J");
  const auto& yj = d.at("y");
  if (!yj.is_array() || yj.size() != J) bad(d.model, "data field 'y' must hold " + std::to_string(J) + " arrays");
  std::vector<double> y;
  std::vector<int> grp;
  for (size_t j = 0; j < J; ++j) {
    if (!yj[j].is_array() || yj[j].size() != N)
      bad(d.model, "y[" + std::to_string(j) + "] must have " + std::to_string(N) + " values");
    for (const auto& v : yj[j]) {
      y.push_back(v.get<double>());
      grp.push_back(int(j));
    }
  }
  Expr mu = m.rv("mu_pop", "normal", {0.0, 10.0}, {}, {}, kOff);
  Expr sp = m.rv("sigma_pop", "exponential", {0.5});
  Expr group = m.rv("group", "normal", {mu, sp}, {J}, {}, kOff);
  Expr noise = m.rv("noise", "exponential", {1.0}, {J});
  m.observe("y", "normal", {gather(group, grp), gather(noise, grp)}, y, {N * J});
}

void eight_schools(Model& m, const Data& d, bool centered) {
  const size_t J = d.size("J");
  Expr mu = m.rv("mu", "normal", {0.0, 5.0}, {}, {}, kOff);
  Expr tau = m.rv("tau", "normal", {0.0, 5.0}, {}, lower(0.0), kOff);  // half-normal via the bound
  Expr theta;
  if (centered) {
    theta = m.rv("theta", "normal", {mu, tau}, {J}, {}, kOff);
  } else {
    Expr tt = m.rv("theta_tilde", "normal", {0.0, 1.0}, {J}, {}, kOff);
    theta = m.det("theta", mu + tau * tt);
  }
  m.observe("y", "normal", {theta, m.data("sigma", d.vec("sigma", J), {J})}, d.vec("y", J), {J});
}

void funnel(Model& m, const Data&) {
  Expr y = m.rv("y", "normal", {0.0, 3.0}, {}, {}, kOff);
  m.rv("x", "normal", {0.0, graph::exp(y / 2.0)}, {9}, {}, kOff);
}

void logistic(Model& m, const Data& d) {
  const size_t N = d.size("N"), K = d.size("K");
  Expr X = m.data("X", d.matrix("X", N, K), {N, K});
  Expr alpha = m.rv("alpha", "normal", {0.0, 10.0}, {}, {}, kOff);
  Expr beta = m.rv("beta", "normal", {0.0, 10.0}, {K}, {}, kOff);
  m.observe("y", "bernoulli_logit", {alpha + graph::matvec(X, beta)}, d.vec("y", N), {N});
}

void sv(Model& m, const Data& d) {
  const size_t T = d.size("T");
  if (T < 2) bad(d.model, "T must be at least 2");
  Expr sigma = m.rv("sigma", "exponential", {50.0});
  Expr nu = m.rv("nu", "exponential", {0.1});
  Expr s = m.param("s", {T});
  m.add_lpdf("normal", slice(s, 0, 1), {0.0, sigma}, "s[1]");
  m.add_lpdf("normal", slice(s, 1, T - 1), {slice(s, 0, T - 1), sigma}, "s[2:T]");
  m.observe("r", "student_t", {nu, 0.0, graph::exp(s)}, d.vec("r", T), {T});
}

void hier_big(Model& m, const Data& d) {
  const size_t J = d.size("J"), N = d.size("N");
  std::vector<int> g;
  for (double v : d.vec("g", N)) {
    if (v < 1 || v > double(J) || v != double(long(v)))
      bad(d.model, "g holds " + std::to_string(v) + ", not a group in 1.." + std::to_string(J));
    g.push_back(int(v) - 1);
  }
  Expr mu = m.rv("mu", "normal", {0.0, 10.0}, {}, {}, kOff);
  Expr tau = m.rv("tau", "normal", {0.0, 5.0}, {}, lower(0.0), kOff);
  Expr z = m.rv("z", "std_normal", {}, {J});
  Expr theta = m.det("theta", mu + tau * z);
  m.observe("y", "normal", {gather(theta, g), d.real("sigma_y")}, d.vec("y", N), {N});
}

}  // namespace

const std::vector<std::string>& bench_model_names() {
  static const std::vector<std::string> names = {
      "simple", "medium", "stress", "eight_schools_centered", "eight_schools_noncentered",
      "funnel", "logistic", "sv", "hier_big", "logistic_big"};
  return names;
}

std::unique_ptr<Model> bench_model(std::string_view name, const nlohmann::json& data) {
  auto m = std::make_unique<Model>();
  const Data d{data, std::string(name)};
  if (name == "simple") simple(*m, d);
  else if (name == "medium") medium(*m, d);
  else if (name == "stress") stress(*m, d);
  else if (name == "eight_schools_centered") eight_schools(*m, d, true);
  else if (name == "eight_schools_noncentered") eight_schools(*m, d, false);
  else if (name == "funnel") funnel(*m, d);
  else if (name == "logistic" || name == "logistic_big") logistic(*m, d);
  else if (name == "sv") sv(*m, d);
  else if (name == "hier_big") hier_big(*m, d);
  else throw std::invalid_argument("unknown benchmark model '" + std::string(name) + "'");
  return m;
}

std::unique_ptr<Model> load_bench_model(std::string_view name, const std::string& data_dir) {
  const std::string path = data_dir + "/" + std::string(name) + ".json";
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot open " + path);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
  return bench_model(name, j);
}

}  // namespace exmc::model::examples
