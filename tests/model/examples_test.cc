// The benchmark models built with the builder: dimensions, output names, gradients against
// finite differences, float against double, and two against hand-written densities.
#include "exmc/model/examples.hpp"
#include "exmc/dist/kernel.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

namespace exmc::model::examples {
namespace {

const std::string kDataDir = std::string(EXMC_SHARED_DIR) + "/bench/data";

nlohmann::json read(const std::string& name) {
  std::ifstream in(kDataDir + "/" + name + ".json");
  nlohmann::json j;
  in >> j;
  return j;
}

std::vector<double> random_point(size_t d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0, 0.5);
  std::vector<double> x(d);
  for (auto& v : x) v = nd(rng);
  return x;
}

TEST(BenchModels, DimensionsGradientsAndPrecisions) {
  const std::vector<std::pair<std::string, size_t>> dims = {
      {"simple", 2}, {"medium", 5}, {"stress", 8}, {"eight_schools_centered", 10},
      {"eight_schools_noncentered", 10}, {"funnel", 10}, {"logistic", 21}, {"sv", 102},
      {"hier_big", 52}, {"logistic_big", 101}};
  ASSERT_EQ(dims.size(), bench_model_names().size());
  for (const auto& [name, dim] : dims) {
    SCOPED_TRACE(name);
    auto m = load_bench_model(name, kDataDir);
    auto ld = m->compile<double>();
    auto lf = m->compile<float>();
    ASSERT_EQ(ld->dim(), dim);
    auto x = random_point(dim, 3);
    std::vector<double> g(dim), gf(dim);
    const double lp = ld->logp_grad(x.data(), g.data());
    ASSERT_TRUE(std::isfinite(lp));
    for (size_t k = 0; k < dim; ++k) {
      auto xp = x, xm = x;
      const double h = 1e-5;
      xp[k] += h;
      xm[k] -= h;
      const double fd = (ld->logp(xp.data()) - ld->logp(xm.data())) / (2 * h);
      EXPECT_NEAR(g[k], fd, 1e-5 * (1 + std::fabs(fd)) + 1e-9 * std::fabs(lp)) << "coordinate " << k;
    }
    const double lpf = lf->logp_grad(x.data(), gf.data());
    EXPECT_NEAR(lpf, lp, 1e-5 * (1 + std::fabs(lp)));
    double gmax = 0;
    for (double v : g) gmax = std::max(gmax, std::fabs(v));
    for (size_t k = 0; k < dim; ++k) EXPECT_NEAR(gf[k], g[k], 1e-4 * (1 + gmax)) << "coordinate " << k;
  }
}

TEST(BenchModels, SimpleMatchesHandWritten) {
  const auto j = read("simple");
  auto ld = bench_model("simple", j)->compile<double>();
  const std::vector<double> y = j["y"].get<std::vector<double>>();
  for (uint64_t s = 0; s < 3; ++s) {
    auto x = random_point(2, s);
    const double mu = x[0], sg = std::exp(x[1]);
    double want = -0.5 * mu * mu / 100 - sg + x[1];
    for (double v : y) want += -0.5 * (v - mu) * (v - mu) / (sg * sg) - std::log(sg);
    EXPECT_NEAR(ld->logp(x.data()), want, 1e-9 * std::fabs(want));
  }
}

TEST(BenchModels, NonCentredEightSchoolsOutputsTheta) {
  const auto j = read("eight_schools_noncentered");
  auto ld = bench_model("eight_schools_noncentered", j)->compile<double>();
  auto vars = ld->output_vars();
  ASSERT_EQ(vars.size(), 4u);
  EXPECT_EQ(vars[2].name, "theta_tilde");
  EXPECT_EQ(vars[3].name, "theta");
  const std::vector<double> y = j["y"].get<std::vector<double>>(), sd = j["sigma"].get<std::vector<double>>();
  auto x = random_point(10, 5);
  const double mu = x[0], tau = std::exp(x[1]);
  double want = -0.5 * mu * mu / 25 - 0.5 * tau * tau / 25 + x[1];
  for (int i = 0; i < 8; ++i) {
    const double th = mu + tau * x[2 + i];
    want += -0.5 * x[2 + i] * x[2 + i] - 0.5 * (y[i] - th) * (y[i] - th) / (sd[i] * sd[i]);
  }
  EXPECT_NEAR(ld->logp(x.data()), want, 1e-10 * (1 + std::fabs(want)));
  std::vector<double> out(total_size(vars));
  ld->constrain(x.data(), out.data());
  EXPECT_NEAR(out[10 + 3], mu + tau * x[2 + 3], 1e-12);
}

// Every registered continuous univariate distribution (that accepts the generic arguments
// below) works as a free variable under its default transform: finite density, gradient equal to finite differences, and initial values
// that map back. Argument k is k - 0.5 (valid for every family registered: scales, shapes,
// uniform's ordered bounds).
TEST(Registry, ContinuousDistributionsAsFreeVariables) {
  size_t tried = 0;
  for (const dist::DistInfo* d : dist::all_dists()) {
    if (d->discrete || d->multivariate) continue;
    SCOPED_TRACE(std::string(d->name));
    // Families whose arguments these generic values do not fit (mixture weights, say) are
    // left out, as their own validate() says.
    std::vector<double> vals(d->arg_names.size(), 0.0);
    std::vector<dist::Arg<double>> dargs(d->arg_names.size());
    for (size_t k = 0; k < vals.size(); ++k) {
      vals[k] = k == 0 ? 0.0 : double(k) - 0.5;
      dargs[k].val = &vals[k];
      dargs[k].is_param = k == 0;
    }
    if (d->validate && !d->validate(dargs.data()).empty()) continue;
    Model m;
    std::vector<Arg> args;
    for (size_t k = 1; k < d->arg_names.size(); ++k) args.push_back(double(k) - 0.5);
    m.rv("v", *d, args, {3});
    auto ld = m.compile<double>();
    ASSERT_EQ(ld->dim(), 3u);
    auto x = random_point(3, 17);
    std::vector<double> g(3);
    const double lp = ld->logp_grad(x.data(), g.data());
    ASSERT_TRUE(std::isfinite(lp));
    for (size_t k = 0; k < 3; ++k) {
      auto xp = x, xm = x;
      const double h = 1e-6;
      xp[k] += h;
      xm[k] -= h;
      const double fd = (ld->logp(xp.data()) - ld->logp(xm.data())) / (2 * h);
      EXPECT_NEAR(g[k], fd, 1e-6 * (1 + std::fabs(fd))) << k;
    }
    std::vector<double> y(3), x2(3);
    ld->constrain(x.data(), y.data());
    std::string err;
    ASSERT_TRUE(ld->unconstrain({{"v", y}}, x2.data(), &err)) << err;
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(x2[k], x[k], 1e-9);
    ++tried;
  }
  EXPECT_GE(tried, 10u);
}

// Through the real registry: distributions by name, data validated by the distribution's own
// validate(), errors naming the variable.
TEST(Registry, ErrorsByNameNameTheVariable) {
  auto error_of = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  {
    Model m;
    Expr mu = m.rv("mu", "normal", {0.0, 1.0});
    m.observe("y", "normal", {mu, m.data("s", {1.0, -1.0, 2.0}, {3})}, {0.0, 1.0, 2.0});
    const std::string e = error_of([&] { m.compile<double>(); });
    EXPECT_NE(e.find("variable 'y'"), std::string::npos) << e;
    EXPECT_NE(e.find("sigma"), std::string::npos) << e;
    EXPECT_NE(e.find("-1"), std::string::npos) << e;
  }
  {
    Model m;
    Expr p = m.rv("p", "beta", {2.0, 2.0});
    m.observe("k", "bernoulli", {p}, {0, 1, 2});
    const std::string e = error_of([&] { m.compile<double>(); });
    EXPECT_NE(e.find("variable 'k'"), std::string::npos) << e;
  }
  {
    Model m;
    EXPECT_EQ(error_of([&] { m.rv("z", "normall", {0.0, 1.0}); }), "variable 'z': unknown distribution 'normall'");
  }
}

TEST(BenchModels, ErrorsNameTheField) {
  nlohmann::json j = {{"N", 3}, {"y", {1.0, 2.0}}};
  try {
    bench_model("simple", j);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'y' must be an array of 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(bench_model("nope", j), std::invalid_argument);
}

}  // namespace
}  // namespace exmc::model::examples
