// Initialisation failures name the variable (LogDensity::unconstrained_names) and say how often.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "exmc/nuts/chain_sampler.hpp"
#include "exmc/nuts/initializer.hpp"

namespace exmc::nuts {
namespace {

// mu (coordinate 0), log_sigma (1) and a 2-vector theta (2, 3), as a model with those outputs.
std::vector<VarInfo> four_vars() {
  return {{"mu", {}}, {"sigma", {}}, {"theta", {2}}};
}

std::string init_error(const LogDensity& ld, SamplerConfig cfg = {}) {
  const Metric m = Metric::unit(MetricKind::Diag, ld.dim());
  Leapfrog integ(ld, m);
  Rng rng(3, 0);
  PhasePoint z(ld.dim());
  try {
    initialize_point(integ, cfg, rng, z);
  } catch (const InitError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(UnconstrainedNames, DefaultFollowsOutputVarsWhenSizesAgree) {
  auto ld = make_log_density(4, [](const double*, double* g) { return g[0] = g[1] = g[2] = g[3] = 0; },
                             four_vars());
  EXPECT_EQ(ld->unconstrained_names(),
            (std::vector<std::string>{"mu", "sigma", "theta.1", "theta.2"}));
  // Outputs that are not one value per coordinate (a deterministic added): no names.
  struct WithDeterministic : LogDensity {
    size_t dim() const override { return 4; }
    double logp_grad(const double*, double* g) const override { return g[0] = g[1] = g[2] = g[3] = 0; }
    std::vector<VarInfo> output_vars() const override {
      return {{"mu", {}}, {"sigma", {}}, {"theta", {2}}, {"tau", {}}};
    }
  };
  EXPECT_TRUE(WithDeterministic().unconstrained_names().empty());
  // The plain default output "x" names coordinates x.1 ... x.d.
  auto plain = make_log_density(2, [](const double*, double* g) { return g[0] = g[1] = 0; });
  EXPECT_EQ(plain->unconstrained_names(), (std::vector<std::string>{"x.1", "x.2"}));
}

TEST(Init, NaNGradientNamesTheVariableAndCountsAttempts) {
  // The gradient of sigma's coordinate is NaN wherever log_sigma > 0.5: a model bug a user
  // must be pointed at by name. Elsewhere theta.2's gradient is +inf.
  auto ld = make_log_density(
      4,
      [](const double* x, double* g) {
        g[0] = -x[0], g[1] = -x[1], g[2] = -x[2], g[3] = -x[3];
        if (x[1] > 0.5) g[1] = std::nan("");
        else g[3] = std::numeric_limits<double>::infinity();
        return -0.5 * (x[0] * x[0] + x[1] * x[1]);
      },
      four_vars());
  const std::string msg = init_error(*ld);
  EXPECT_TRUE(has(msg, "could not find a starting point after 100 attempts")) << msg;
  // The remedy in the words a user types (it named the field init_radius).
  EXPECT_TRUE(has(msg, "; give initial values, or a smaller radius (--init 0.5 on the command line, init=0.5 in "
                       "Python))"))
      << msg;
  EXPECT_TRUE(has(msg, "variable 'sigma' (coordinate 1) gradient is NaN in ")) << msg;
  EXPECT_TRUE(has(msg, "variable 'theta.2' (coordinate 3) gradient is +inf in ")) << msg;
  EXPECT_TRUE(has(msg, " of 100 attempts")) << msg;
  EXPECT_FALSE(has(msg, "log density is")) << msg;  // the value was always finite
  // The two counts add up to the 100 attempts (each attempt fails in exactly one of them).
  auto count_after = [&](const std::string& key) {
    const size_t at = msg.find(key);
    return at == std::string::npos ? -1 : std::stoi(msg.substr(at + key.size()));
  };
  EXPECT_EQ(count_after("gradient is NaN in ") + count_after("gradient is +inf in "), 100) << msg;
}

TEST(Init, NonFiniteLogDensityNamesTheVariableWhoseGradientIsAlsoBad) {
  // A log of (sigma - 10) with sigma read off the unconstrained scale directly (a missing
  // transform): NaN in value and in sigma's gradient everywhere in the init box; mu is fine.
  auto ld = make_log_density(
      4,
      [](const double* x, double* g) {
        g[0] = -x[0], g[2] = g[3] = 0;
        g[1] = 1 / x[1] * std::sqrt(x[1] - 10);  // NaN below 10: always, in the init box
        return -0.5 * x[0] * x[0] + std::log(x[1] - 10);
      },
      four_vars());
  const std::string msg = init_error(*ld);
  EXPECT_TRUE(has(msg, "log density is NaN in 100 of 100 attempts")) << msg;
  EXPECT_TRUE(has(msg, "with a non-finite gradient in variable 'sigma' (coordinate 1)")) << msg;
  EXPECT_FALSE(has(msg, "'mu'")) << msg;
}

TEST(Init, MixedFailuresAtGivenInitialValuesAndUnnamedCoordinates) {
  // Outputs do not match the coordinates, so only indices can be given.
  struct OneOutput : LogDensity {
    size_t dim() const override { return 3; }
    double logp_grad(const double* x, double* g) const override {
      g[0] = g[1] = g[2] = 0;
      if (x[0] > 1) throw std::domain_error("scale parameter is 0");
      if (x[0] < -1) return -std::numeric_limits<double>::infinity();
      g[2] = -std::numeric_limits<double>::infinity();
      return 0;
    }
    std::vector<VarInfo> output_vars() const override { return {{"a", {}}}; }
    void constrain(const double* x, double* out) const override { out[0] = x[0]; }
  };
  auto ld = std::make_unique<OneOutput>();
  SamplerConfig cfg;
  cfg.init_x = {0, 0, 0};
  std::string msg = init_error(*ld, cfg);
  EXPECT_TRUE(has(msg, "at the given initial values: coordinate 2 gradient is -inf")) << msg;
  EXPECT_FALSE(has(msg, "attempts")) << msg;
  cfg.init_x.clear();
  cfg.init_radius = 3;
  msg = init_error(*ld, cfg);
  EXPECT_TRUE(has(msg, "log density is -inf in ")) << msg;
  EXPECT_TRUE(has(msg, "coordinate 2 gradient is -inf in ")) << msg;
  EXPECT_TRUE(has(msg, "the density threw in ")) << msg;
  EXPECT_TRUE(has(msg, "scale parameter is 0")) << msg;
  EXPECT_TRUE(has(msg, "uniform(-3, 3)")) << msg;
}

}  // namespace
}  // namespace exmc::nuts
