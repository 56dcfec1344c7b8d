// Checks every benchmark model: hand-written gradients vs finite differences and values vs Stan.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench_data.hpp"
#include "handwritten.hpp"
#ifdef EXMC_BENCH_HAVE_GRAPH
#include "graph_models.hpp"
#endif

namespace exmc::bench {
namespace {

std::string shared_dir() { return EXMC_SHARED_DIR; }

constexpr double kF32LpTol = 1e-5, kF32GradTol = 1e-5;

class ModelTest : public ::testing::TestWithParam<std::string> {};

// Central differences with Richardson extrapolation (error O(h^4)), so a 1e-6 relative bound
// is far above the truncation and rounding error yet far below any real gradient mistake.
double fd_partial(const LogDensity& m, std::vector<double> x, size_t i, std::vector<double>& g) {
  const double h = 1e-3 * std::max(1.0, std::fabs(x[i]));
  auto at = [&](double dx) {
    std::vector<double> y = x;
    y[i] += dx;
    return m.logp_grad(y.data(), g.data());
  };
  const double d1 = (at(h) - at(-h)) / (2 * h);
  const double d2 = (at(h / 2) - at(-h / 2)) / h;
  return (4 * d2 - d1) / 3;
}

TEST_P(ModelTest, GradientMatchesFiniteDifferences) {
  const std::string name = GetParam();
  BenchData data(data_path(shared_dir(), name));
  auto m = make_handwritten(name, data);
  const size_t d = m->dim();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unif(-1.5, 1.5);
  std::vector<double> x(d), g(d), scratch(d);
  for (int rep = 0; rep < 3; ++rep) {
    for (auto& v : x) v = unif(rng);
    const double lp = m->logp_grad(x.data(), g.data());
    ASSERT_TRUE(std::isfinite(lp)) << name;
    for (size_t i = 0; i < d; ++i) {
      const double fd = fd_partial(*m, x, i, scratch);
      // Rounding in lp (|lp| * eps / h) bounds how well differences can resolve a partial.
      const double tol = 1e-6 * std::max(1.0, std::fabs(g[i])) + 1e-10 * std::fabs(lp);
      EXPECT_NEAR(g[i], fd, tol) << name << " coordinate " << i << " point " << rep;
    }
  }
}

// Values and gradients Stan computed (bench/stan/golden.R, rstan log_prob/grad_log_prob with
// the Jacobian) at fixed unconstrained points.
TEST_P(ModelTest, MatchesStanGoldenValues) {
  const std::string name = GetParam();
  std::ifstream in(std::string(EXMC_SOURCE_DIR) + "/bench/stan/golden.json");
  ASSERT_TRUE(in) << "bench/stan/golden.json missing";
  const auto golden = nlohmann::json::parse(in);
  ASSERT_TRUE(golden.contains(name)) << "no Stan golden values for " << name;
  BenchData data(data_path(shared_dir(), name));
  auto m = make_handwritten(name, data);
  for (const auto& pt : golden[name]) {
    const auto x = pt["x"].get<std::vector<double>>();
    const auto gs = pt["grad"].get<std::vector<double>>();
    ASSERT_EQ(x.size(), m->dim()) << name;
    std::vector<double> g(m->dim());
    const double lp = m->logp_grad(x.data(), g.data());
    const double lp_stan = pt["lp"].get<double>();
    EXPECT_NEAR(lp, lp_stan, 1e-8 * std::max(1.0, std::fabs(lp_stan))) << name;
    double gmax = 1.0;
    for (double v : gs) gmax = std::max(gmax, std::fabs(v));
    for (size_t i = 0; i < g.size(); ++i)
      EXPECT_NEAR(g[i], gs[i], 1e-8 * gmax) << name << " coordinate " << i;
  }
}

TEST_P(ModelTest, ConstrainAppliesLowerBoundTransform) {
  const std::string name = GetParam();
  BenchData data(data_path(shared_dir(), name));
  auto m = make_handwritten(name, data);
  const auto vars = m->output_vars();
  ASSERT_EQ(total_size(vars), m->dim());
  std::vector<double> x(m->dim(), -0.5), out(m->dim());
  m->constrain(x.data(), out.data());
  size_t i = 0;
  for (const auto& v : vars) {
    const bool positive = v.name == "sigma" || v.name == "tau" || v.name == "nu" ||
                          v.name == "noise" || v.name.rfind("sigma_", 0) == 0;
    for (size_t k = 0; k < v.size(); ++k, ++i)
      EXPECT_DOUBLE_EQ(out[i], positive ? std::exp(-0.5) : -0.5) << name << " " << v.name;
  }
}

#ifdef EXMC_BENCH_HAVE_GRAPH
std::vector<std::vector<double>> test_points(size_t d) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unif(-1.5, 1.5);
  std::vector<std::vector<double>> pts(4, std::vector<double>(d));
  for (auto& p : pts)
    for (auto& v : p) v = unif(rng);
  return pts;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

// The graph (f64) computes the same density as the hand-written code up to rounding order.
TEST_P(ModelTest, GraphF64MatchesHandwritten) {
  const std::string name = GetParam();
  BenchData data(data_path(shared_dir(), name));
  auto hand = make_handwritten(name, data);
  for (GraphStyle style : {GraphStyle::Elementary, GraphStyle::Fused}) {
  SCOPED_TRACE(style == GraphStyle::Fused ? "fused" : "elementary");
  auto gr = make_graph_model(name, data, Precision::F64, style);
  ASSERT_EQ(gr->dim(), hand->dim());
  ASSERT_EQ(flat_names(gr->output_vars()), flat_names(hand->output_vars()));
  const size_t d = hand->dim();
  std::vector<double> gh(d), gg(d), ch(d), cg(d);
  for (const auto& x : test_points(d)) {
    const double lh = hand->logp_grad(x.data(), gh.data());
    const double lg = gr->logp_grad(x.data(), gg.data());
    EXPECT_NEAR(lg, lh, 1e-10 * std::max(1.0, std::fabs(lh))) << name;
    const double scale = std::max(1.0, max_abs(gh));
    for (size_t i = 0; i < d; ++i)
      EXPECT_NEAR(gg[i], gh[i], 1e-10 * scale) << name << " coordinate " << i;
    hand->constrain(x.data(), ch.data());
    gr->constrain(x.data(), cg.data());
    for (size_t i = 0; i < d; ++i) EXPECT_NEAR(cg[i], ch[i], 1e-14 * std::fabs(ch[i])) << name;
  }
  }
}

// f32 rounds every node to 2^-24 relative; the log density sums up to N*K such terms, so
// the bounds below are ~1e2 float epsilons of the scale (|lp| or the largest partial).
TEST_P(ModelTest, GraphF32AgreesWithF64) {
  const std::string name = GetParam();
  BenchData data(data_path(shared_dir(), name));
  for (GraphStyle style : {GraphStyle::Elementary, GraphStyle::Fused}) {
  const char* style_name = style == GraphStyle::Fused ? "fused" : "elementary";
  auto g64 = make_graph_model(name, data, Precision::F64, style);
  auto g32 = make_graph_model(name, data, Precision::F32, style);
  const size_t d = g64->dim();
  std::vector<double> a(d), b(d);
  double worst_lp = 0, worst_g = 0;
  for (const auto& x : test_points(d)) {
    const double l64 = g64->logp_grad(x.data(), a.data());
    const double l32 = g32->logp_grad(x.data(), b.data());
    const double scale = std::max(1.0, max_abs(a));
    worst_lp = std::max(worst_lp, std::fabs(l32 - l64) / std::max(1.0, std::fabs(l64)));
    for (size_t i = 0; i < d; ++i) worst_g = std::max(worst_g, std::fabs(b[i] - a[i]) / scale);
  }
  EXPECT_LT(worst_lp, kF32LpTol) << name << " " << style_name;
  EXPECT_LT(worst_g, kF32GradTol) << name << " " << style_name;
  std::printf("%s (%s): f32 vs f64 worst relative error lp %.2e, gradient %.2e\n", name.c_str(),
              style_name, worst_lp, worst_g);
  }
}
#endif

INSTANTIATE_TEST_SUITE_P(Bench, ModelTest, ::testing::ValuesIn(model_names()),
                         [](const auto& info) { return info.param; });

TEST(BenchData, ErrorsNameFileAndVariable) {
  BenchData data(data_path(shared_dir(), "simple"));
  try {
    data.vector("y", 3);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("simple.json: variable 'y': expected an array of 3"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(data.integer("nope"), std::runtime_error);
  EXPECT_THROW(make_handwritten("nope", data), std::runtime_error);
}

}  // namespace
}  // namespace exmc::bench
