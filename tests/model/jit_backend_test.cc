// The JIT backend against the interpreter on the benchmark models: the same log density and
// gradient (both precisions), the small models emitted entirely inline, and invalid points
// giving -inf as the interpreter does.
#include "exmc/graph/compile.hpp"
#include "exmc/model/examples.hpp"
#include "exmc/model/model.hpp"

#include <gtest/gtest.h>

#include "../support/prerequisite.hpp"

#include <cmath>
#include <random>
#include <string>

namespace exmc::model {
namespace {

const std::string kDataDir = std::string(EXMC_SHARED_DIR) + "/bench/data";

std::unique_ptr<graph::CompiledDensity> build(const std::string& name, graph::Backend b, bool f32) {
  auto m = examples::load_bench_model(name, kDataDir);
  CompileOptions co;
  co.ncp = Ncp::kOff;
  co.backend = b;
  return f32 ? m->compile<float>(co) : m->compile<double>(co);
}

double rel(double a, double b) { return std::fabs(a - b) / std::max(1.0, std::fabs(b)); }

// The JIT density dj against the interpreter's di at three random points (normal(0, sd)).
void expect_backends_agree(const LogDensity& dj, const LogDensity& di, uint64_t seed, double sd,
                           double tol, const std::string& what) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0, sd);
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<double> x(dj.dim()), gj(x.size()), gi(x.size());
    for (auto& v : x) v = nd(rng);
    const double lj = dj.logp_grad(x.data(), gj.data()), li = di.logp_grad(x.data(), gi.data());
    EXPECT_LE(rel(lj, li), tol) << what << ": logp " << lj << " vs " << li;
    for (size_t k = 0; k < x.size(); ++k)
      EXPECT_LE(rel(gj[k], gi[k]), tol) << what << ": coordinate " << k << " " << gj[k] << " vs " << gi[k];
  }
}

class JitBackend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!graph::jit_available()) EXMC_SKIP_UNLESS_CI() << "this build has no JIT";
  }
};

TEST_P(JitBackend, MatchesInterpreterInBothPrecisions) {
  for (bool f32 : {false, true}) {
    auto jit = build(GetParam(), graph::Backend::kJit, f32);
    auto interp = build(GetParam(), graph::Backend::kInterpreter, f32);
    ASSERT_EQ(jit->backend(), graph::Backend::kJit);
    ASSERT_EQ(interp->backend(), graph::Backend::kInterpreter);
    const size_t d = jit->dim();
    std::mt19937_64 rng(17);
    std::normal_distribution<double> nd(0, 0.7);
    // Both sum in double but in different orders (and float rounds every node).
    const double tol = f32 ? 2e-4 : 1e-11;
    for (int rep = 0; rep < 5; ++rep) {
      std::vector<double> x(d), gj(d, -7), gi(d, 7);
      for (auto& v : x) v = nd(rng);
      const double lj = jit->logp_grad(x.data(), gj.data());
      const double li = interp->logp_grad(x.data(), gi.data());
      ASSERT_TRUE(std::isfinite(li)) << GetParam();
      EXPECT_LE(rel(lj, li), tol) << GetParam() << (f32 ? " f32" : " f64") << " logp " << lj << " vs " << li;
      EXPECT_EQ(jit->logp(x.data()), lj) << "logp() must return logp_grad()'s value";
      for (size_t k = 0; k < d; ++k)
        EXPECT_LE(rel(gj[k], gi[k]), tol) << GetParam() << (f32 ? " f32" : " f64") << " coordinate " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BenchModels, JitBackend, ::testing::ValuesIn(examples::bench_model_names()));

// The models of d <= 10 are the ones where a kernel call costs as much as the work: every
// instruction of theirs must be emitted inline.
TEST(JitBackendInline, SmallBenchModelsCallNoKernel) {
  if (!graph::jit_available()) EXMC_SKIP_UNLESS_CI() << "this build has no JIT";
  for (const char* name : {"simple", "medium", "stress", "eight_schools_centered",
                           "eight_schools_noncentered", "funnel", "hier_big"}) {
    const std::string dump = build(name, graph::Backend::kJit, false)->dump();
    EXPECT_NE(dump.find(" 0 as kernel calls"), std::string::npos) << name << "\n" << dump;
  }
}

// A scale outside its support, a NaN mean and an overflowing exp all give -inf (or NaN), as
// in the interpreter, and never a finite value.
TEST(JitBackendInline, InvalidPointsAreNotFinite) {
  if (!graph::jit_available()) EXMC_SKIP_UNLESS_CI() << "this build has no JIT";
  Model m;
  Expr s = m.rv("s", "normal", {0.0, 1.0});           // unconstrained: may be negative
  Expr mu = m.rv("mu", "normal", {0.0, 10.0});
  m.observe("y", "normal", {mu, s}, {0.5, -1.0, 2.0}, {3});
  m.observe("z", "exponential", {exp(mu)}, {0.5, 1.5}, {2});
  for (graph::Backend b : {graph::Backend::kJit, graph::Backend::kInterpreter}) {
    CompileOptions co;
    co.backend = b;
    auto d = m.compile<double>(co);
    std::vector<double> g(2);
    const double ok[2] = {1.2, 0.3}, neg[2] = {-1.0, 0.3}, nan_mu[2] = {1.0, NAN}, big[2] = {1.0, 800.0};
    EXPECT_TRUE(std::isfinite(d->logp_grad(ok, g.data())));
    EXPECT_EQ(d->logp_grad(neg, g.data()), -INFINITY);
    EXPECT_FALSE(std::isfinite(d->logp_grad(nan_mu, g.data())));
    EXPECT_FALSE(std::isfinite(d->logp_grad(big, g.data())));
  }
}

// y ~ normal(theta[g], sigma[g]) over sorted groups takes the JIT's per-run path; each
// variant (which argument is gathered, y a parameter, the gather also read elsewhere, full
// density) must give the interpreter's value and gradient.
TEST(JitBackendInline, GroupedNormalVariantsMatchInterpreter) {
  if (!graph::jit_available()) EXMC_SKIP_UNLESS_CI() << "this build has no JIT";
  const std::vector<double> yv = {0.1, -0.3, 0.5, 1.2, 0.7, 2.0, 1.5, 2.5, 1.9, 2.2, 2.4,
                                  -1.0, -0.5, -1.4, -0.8, -1.1, 0.3, 0.9, -0.2, 1.4, 0.6, 0.0,
                                  -0.7, 1.1};
  const size_t n = yv.size();
  // 3 groups (each run emitted on its own) and 6 (one loop over a table of runs).
  for (size_t groups : {3, 6})
  for (int variant = 0; variant < 6; ++variant) {
    std::vector<int> g(n);
    for (size_t i = 0; i < n; ++i) g[i] = int(i * groups / n);
    Model m;
    Expr theta = m.rv("theta", "normal", {0.0, 3.0}, {groups});
    Expr sigma = m.rv("sigma", "exponential", {1.0}, {groups}, lower(0.0));
    Expr s = m.rv("s", "exponential", {1.0}, {}, lower(0.0));
    Expr mu = m.rv("mu", "normal", {0.0, 1.0});
    switch (variant) {
      case 0: m.observe("y", "normal", {gather(theta, g), gather(sigma, g)}, yv, {n}); break;
      case 1: m.observe("y", "normal", {gather(theta, g), s}, yv, {n}); break;
      case 2: m.observe("y", "normal", {mu, gather(sigma, g)}, yv, {n}); break;
      case 3: {  // the gathered theta also feeds another density elementwise
        m.observe("y", "normal", {gather(theta, g), gather(sigma, g)}, yv, {n});
        m.observe("z", "normal", {2.0 * gather(theta, g), 1.0}, yv, {n});
        break;
      }
      case 4: m.rv("w", "normal", {gather(theta, g), gather(sigma, g)}, {n}); break;
      default: m.observe("y", "normal", {gather(theta, g), gather(sigma, g)}, yv, {n}); break;
    }
    for (bool f32 : {false, true}) {
      CompileOptions cj, ci;
      cj.backend = graph::Backend::kJit;
      ci.backend = graph::Backend::kInterpreter;
      cj.propto = ci.propto = variant != 5;
      auto dj = f32 ? m.compile<float>(cj) : m.compile<double>(cj);
      auto di = f32 ? m.compile<float>(ci) : m.compile<double>(ci);
      expect_backends_agree(*dj, *di, uint64_t(variant), 0.6, f32 ? 2e-4 : 1e-11,
                            std::to_string(groups) + " groups, variant " + std::to_string(variant) +
                                (f32 ? " f32" : " f64"));
    }
  }
}

// student_t(y | nu, mu, sigma) inline: scalar and vector scales, full and propto densities.
TEST(JitBackendInline, StudentTMatchesInterpreter) {
  if (!graph::jit_available()) EXMC_SKIP_UNLESS_CI() << "this build has no JIT";
  const std::vector<double> yv = {0.3, -1.2, 2.5, 0.1, -0.4, 5.0};
  for (int variant = 0; variant < 4; ++variant) {
    Model m;
    Expr nu = m.rv("nu", "exponential", {0.2}, {}, lower(0.0));
    Expr mu = m.rv("mu", "normal", {0.0, 2.0}, {6});
    Expr s = m.rv("s", "exponential", {1.0}, {}, lower(0.0));
    Expr h = m.rv("h", "normal", {0.0, 1.0}, {6});
    if (variant % 2 == 0) m.observe("y", "student_t", {nu, mu, s}, yv, {6});
    else m.observe("y", "student_t", {nu, 0.5, graph::exp(h)}, yv, {6});
    CompileOptions cj, ci;
    cj.backend = graph::Backend::kJit;
    ci.backend = graph::Backend::kInterpreter;
    cj.propto = ci.propto = variant < 2;
    auto dj = m.compile<double>(cj);
    auto di = m.compile<double>(ci);
    expect_backends_agree(*dj, *di, uint64_t(variant + 10), 0.6, 1e-11, "variant " + std::to_string(variant));
  }
}

// normal(x | m, exp(u)) with exp(u) read only as a scale runs on the log scale (no exp(u) at
// all): one and two such readers, full density, float, and u so large that exp(u) overflows.
TEST(JitBackendInline, LogScaleNormalMatchesInterpreter) {
  if (!graph::jit_available()) EXMC_SKIP_UNLESS_CI() << "this build has no JIT";
  for (int variant = 0; variant < 3; ++variant) {
    Model m;
    Expr u = m.rv("u", "normal", {0.0, 3.0});
    Expr mu = m.rv("mu", "normal", {0.0, 1.0});
    m.rv("x", "normal", {mu, graph::exp(u * 0.5)}, {5});
    if (variant == 1) m.observe("y", "normal", {mu, graph::exp(u * 0.5)}, {0.3, -0.2, 1.1}, {3});
    if (variant == 2) m.observe("y", "normal", {0.5, graph::exp(u * 0.5)}, {0.3}, {1});
    for (bool f32 : {false, true}) {
      CompileOptions cj, ci;
      cj.backend = graph::Backend::kJit;
      ci.backend = graph::Backend::kInterpreter;
      cj.propto = ci.propto = variant != 1;
      cj.ncp = ci.ncp = Ncp::kOff;  // keep x centred: its scale is the exp
      auto dj = f32 ? m.compile<float>(cj) : m.compile<double>(cj);
      auto di = f32 ? m.compile<float>(ci) : m.compile<double>(ci);
      expect_backends_agree(*dj, *di, uint64_t(variant + 20), 0.8, f32 ? 2e-4 : 1e-11,
                            "variant " + std::to_string(variant) + (f32 ? " f32" : " f64"));
      std::vector<double> x(dj->dim(), 0.1), g(x.size());
      x[0] = f32 ? 2 * 100.0 : 2 * 800.0;  // exp(u/2) overflows in T
      EXPECT_EQ(dj->logp_grad(x.data(), g.data()), -INFINITY) << "variant " << variant;
      EXPECT_EQ(di->logp_grad(x.data(), g.data()), -INFINITY) << "variant " << variant;
    }
  }
}

// The JIT's inline exp against libm's: d/dx sum(exp(x)) = exp(x), so the gradient shows the
// value of every element. Within 2 ulp over the range where exp is a normal number, and to
// the nearest subnormals below it; inf, 0 and NaN at the ends.
TEST(JitBackendInline, InlineExpMatchesLibm) {
  if (!graph::jit_available()) EXMC_SKIP_UNLESS_CI() << "this build has no JIT";
  std::vector<double> xs = {0.0, -0.0, 1e-300, -1e-300, 1.0, -1.0, 0.34657359027997264, 700.0,
                            709.78, 709.7827128933839, 709.79, 710.0, 1e10, -708.0, -708.4,
                            -720.0, -744.0, -745.1, -745.2, -800.0, -1e10, INFINITY, -INFINITY, NAN};
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> wide(-745.0, 709.7), narrow(-2.0, 2.0);
  for (int i = 0; i < 4000; ++i) xs.push_back(i % 2 ? wide(rng) : narrow(rng));
  graph::Graph g;
  graph::Expr x = g.param(0, {xs.size()});
  graph::CompileOptions co;
  co.backend = graph::Backend::kJit;
  auto d = graph::compile<double>(g, graph::sum(graph::exp(x)), {}, co);
  std::vector<double> grad(xs.size());
  d->logp_grad(xs.data(), grad.data());
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = std::exp(xs[i]), got = grad[i];
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << "x = " << xs[i];
    } else if (!std::isfinite(want) || want == 0.0) {
      EXPECT_EQ(got, want) << "x = " << xs[i];
    } else if (want < 2.2250738585072014e-308) {  // subnormal: absolute, in units of 2^-1074
      EXPECT_LE(std::fabs(got - want), 2 * 4.9406564584124654e-324) << "x = " << xs[i];
    } else {
      EXPECT_LE(std::fabs(got - want), 2 * (std::nextafter(want, INFINITY) - want)) << "x = " << xs[i];
    }
  }
}

}  // namespace
}  // namespace exmc::model
