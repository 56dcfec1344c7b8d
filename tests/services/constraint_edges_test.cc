// Constraints at their edges: posteriors with mass far out on a transform's log scale, bounds
// whose width overflows, and initial values on (or next to) a bound.
#include <gtest/gtest.h>

#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/analysis/convergence.hpp"
#include "exmc/services/program.hpp"
#include "exmc/services/sample.hpp"

namespace exmc::services {
namespace {

using NoThrow = boost::math::policies::policy<boost::math::policies::domain_error<boost::math::policies::ignore_error>,
                                              boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
                                              boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

std::string here(const std::string& file) { return std::string(EXMC_SOURCE_DIR) + "/tests/services/" + file; }

// One scalar's kept draws, chain after chain (analysis::ChainView's layout).
std::vector<double> draws_of_first_value(const Program& program, const SampleSettings& s, uint64_t seed) {
  SampleJob job(program, s, seed);
  std::vector<double> out(size_t(s.chains) * s.draws);
  SampleObserver obs;
  obs.on_draw = [&](const SampleDraw& d) {
    if (!d.warmup) out[size_t(d.chain) * s.draws + (d.iteration - s.warmup)] = d.row[0];
  };
  const auto run = job.run(obs);
  run.result.throw_if_failed();
  return out;
}

// gamma(0.01, 1) puts 13.6% of its mass below exp(-200), where the log transform's input was
// clamped: the clamped Jacobian made the density flat there (an improper tail on the
// unconstrained scale), the chains drifted to -1e88 and failed with "non-finite variance ... the
// posterior may be improper". Stan samples it (with divergences); so must exmc, and its draws
// must have gamma's mean of log(x) and mass below exp(-200), to 4 Monte Carlo standard errors.
TEST(ConstraintEdges, MassFarBelowTheLogClampIsSampledAsTheProperPosteriorItIs) {
  const auto program = Program::load(here("gamma_tiny_shape.stan"), "");
  SampleSettings s;
  s.chains = 4;
  const auto x = draws_of_first_value(program, s, 1);
  std::vector<double> log_x(x.size()), below(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_GT(x[i], 0.0);
    log_x[i] = std::log(x[i]);
    below[i] = log_x[i] < -200 ? 1.0 : 0.0;
  }
  auto check = [&](const std::vector<double>& v, double expected, const char* what) {
    const analysis::ChainView view{v.data(), s.draws, s.chains};
    double mean = 0;
    for (double e : v) mean += e;
    mean /= double(v.size());
    const double mcse = analysis::mcse_mean(view);
    ASSERT_TRUE(std::isfinite(mcse)) << what;
    EXPECT_NEAR(mean, expected, 4 * mcse) << what << " (mcse " << mcse << ")";
  };
  check(log_x, boost::math::digamma(0.01, NoThrow()), "mean of log(x)");
  check(below, boost::math::gamma_p(0.01, std::exp(-200.0), NoThrow()), "P(x < exp(-200))");
}

// Far below the floor of exp's input the density keeps falling (the Jacobian is x itself), so the
// tail is proper; it was flat below -200 before.
TEST(ConstraintEdges, TheDensityKeepsFallingBelowTheLogClamp) {
  const auto program = Program::load(here("gamma_tiny_shape.stan"), "");
  const auto density = program.compile();
  double g = 0;
  double prev = -INFINITY;
  for (double u : {-2000.0, -1000.0, -800.0, -700.0, -400.0, -250.0}) {
    const double lp = density->logp_grad(&u, &g);
    EXPECT_TRUE(std::isfinite(lp)) << u;
    EXPECT_GT(lp, prev) << "at " << u;
    EXPECT_GT(g, 0.0) << "at " << u;
    prev = lp;
  }
}

// Bounds whose width overflows to inf (-1e308 to 1e308, written or from data): every draw was
// NaN (l + inf * s), so no chain could start ("log density is NaN in 100 of 100 attempts"). The
// transform works in halves there; the posterior (uniform on the interval) has x / 1e308 of mean
// 0 and mean square 1/3 to 4 Monte Carlo standard errors. (A normal(0, 1) would sit within
// 1e-308 of the unconstrained 0: Stan's initialisation fails there, and so does exmc's, with
// -inf, not NaN.)
TEST(ConstraintEdges, BoundsWhoseWidthOverflowsGiveExactDraws) {
  const auto literal = Program::from_source(R"(
    parameters { real<lower=-1e308, upper=1e308> x; }
  )", "huge_bounds", "");
  const auto from_data = Program::from_source(R"(
    data { vector[2] lo; vector[2] hi; }
    parameters { vector<lower=lo, upper=hi>[2] x; }
  )", "huge_bounds_data", R"({"lo": [-1e308, -1.7e308], "hi": [1e308, 1.7e308]})");
  for (const Program* p : {&literal, &from_data}) {
    SampleSettings s;
    s.chains = 2;
    auto x = draws_of_first_value(*p, s, 2);
    std::vector<double> sq(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_TRUE(std::isfinite(x[i])) << p->model_path();
      x[i] /= 1e308;
      sq[i] = x[i] * x[i];
    }
    const std::vector<std::pair<const std::vector<double>*, double>> moments = {{&x, 0.0}, {&sq, 1.0 / 3}};
    for (const auto& [v, expected] : moments) {
      const analysis::ChainView view{v->data(), s.draws, s.chains};
      double mean = 0;
      for (double e : *v) mean += e;
      mean /= double(v->size());
      EXPECT_NEAR(mean, expected, 4 * analysis::mcse_mean(view)) << p->model_path();
    }
  }
}

// An initial value on its bound (sigma = 0 for real<lower=0> sigma) is refused before any chain
// runs, naming the variable, the value and the bound, as Stan refuses it ("Rejecting initial
// value"); exmc started from exp(-200) instead. Values inside, however close, start as before.
Program bounded_kinds() {
  return Program::from_source(R"(
    parameters {
      real<lower=0> sigma;
      real<lower=1, upper=2> p;
      real<upper=-3> neg;
      ordered[2] o;
      positive_ordered[2] po;
      simplex[3] theta;
    }
    model {
      sigma ~ exponential(1); neg ~ normal(-4, 1); o ~ normal(0, 1); po ~ exponential(1);
    }
  )", "bounded_kinds", "");
}

using Values = std::vector<std::pair<std::string, std::vector<double>>>;

Values interior() {
  return {{"sigma", {1.0}}, {"p", {1.5}}, {"neg", {-4.0}}, {"o", {0.0, 1.0}}, {"po", {1.0, 2.0}}, {"theta", {0.2, 0.3, 0.5}}};
}
Values with(Values v, const std::string& name, std::vector<double> value) {
  for (auto& [n, x] : v)
    if (n == name) x = std::move(value);
  return v;
}

// The first kept draw of the fixed_param sampler: where the chain started.
std::vector<double> start_of_sample(const Program& program, const Values& init) {
  SampleSettings s;
  s.chains = 1;
  s.fixed_param = true;
  s.draws = 1;
  s.init_values = init;
  SampleJob job(program, s, 1);
  std::vector<double> row;
  SampleObserver obs;
  obs.on_draw = [&](const SampleDraw& d) { row.assign(d.row, d.row + d.row_size); };
  job.run(obs).result.throw_if_failed();
  return row;
}

std::string refusal_of_sample(const Program& program, const Values& init) {
  try {
    start_of_sample(program, init);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

// optimize, laplace, pathfinder and variational start from services::initial_point.
std::string refusal_of_initial_point(const Program& program, const Values& init) {
  const auto density = program.compile();
  InitSpec spec;
  spec.values = init;
  try {
    initial_point(*density, spec, 1);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ConstraintEdges, AnInitialValueOnAnEdgeOfItsSupportIsRefusedNamingIt) {
  const auto program = bounded_kinds();
  const std::string inside = ": an initial value must lie strictly inside the support";
  const std::vector<std::pair<Values, std::string>> cases = {
      {with(interior(), "sigma", {0.0}), "variable 'sigma' (lower): value 0 at index 1 is on the lower bound 0"},
      {with(interior(), "p", {1.0}), "variable 'p' (lower_upper): value 1 at index 1 is on the lower bound 1"},
      {with(interior(), "p", {2.0}), "variable 'p' (lower_upper): value 2 at index 1 is on the upper bound 2"},
      {with(interior(), "neg", {-3.0}), "variable 'neg' (upper): value -3 at index 1 is on the upper bound -3"},
      {with(interior(), "o", {0.5, 0.5}),
       "variable 'o' (ordered): values at index 1 and 2 are equal (0.5), not strictly increasing"},
      {with(interior(), "po", {0.0, 1.0}), "variable 'po' (positive_ordered): value 0 at index 1 is on the lower bound 0"},
      {with(interior(), "theta", {0.0, 0.5, 0.5}),
       "variable 'theta' (simplex): element 0 at index 1 is on the simplex's edge"},
  };
  for (const auto& [values, what] : cases) {
    EXPECT_EQ(refusal_of_sample(program, values), "bad initial values: " + what + inside);
    EXPECT_EQ(refusal_of_initial_point(program, values), "initialisation: bad initial values: " + what + inside);
  }
}

TEST(ConstraintEdges, InitialValuesWithinAnUlpOfTheirBoundAreAccepted) {
  const auto program = bounded_kinds();
  const double tiny = std::nextafter(0.0, 1.0);  // 4.9e-324
  Values close = interior();
  close = with(close, "sigma", {tiny});
  close = with(close, "p", {std::nextafter(1.0, 2.0)});
  close = with(close, "neg", {std::nextafter(-3.0, -4.0)});
  close = with(close, "o", {0.5, std::nextafter(0.5, 1.0)});
  close = with(close, "po", {tiny, 1.0});
  EXPECT_EQ(refusal_of_sample(program, close), "(accepted)");
  EXPECT_EQ(refusal_of_initial_point(program, close), "(accepted)");
  const auto row = start_of_sample(program, close);
  ASSERT_EQ(row.size(), 10u);
  EXPECT_GT(row[0], 0.0);  // exp(-700): below the clamp's floor a start is at the floor
  EXPECT_LT(row[0], 1e-300);
  EXPECT_EQ(row[1], std::nextafter(1.0, 2.0));
  EXPECT_EQ(row[2], std::nextafter(-3.0, -4.0));
  // A fitted draw printed with few digits (sigma = 0) still reads back: only initial values
  // must be inside.
  const auto density = program.compile();
  std::vector<double> x(density->dim());
  std::string error;
  EXPECT_TRUE(density->unconstrain(with(interior(), "sigma", {0.0}), x.data(), &error)) << error;
}

// A multiplier from data that is 0 or negative (or an offset that is not finite) is refused
// naming the variable and the element, as Stan refuses it; it was floored to 1e-30 and the
// variable sampled as its offset, silently.
TEST(ConstraintEdges, AMultiplierFromDataThatIsNotPositiveIsRefused) {
  const std::string code = R"(
    data { real m; vector[2] mv; real o; }
    parameters { real<offset=o, multiplier=m> x; vector<multiplier=mv>[2] y; }
    model { x ~ normal(1, 2); y ~ normal(0, 1); }
  )";
  auto error_of = [&](const std::string& data) -> std::string {
    try {
      Program::from_source(code, "multipliers", data).compile();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_EQ(error_of(R"({"m": 2, "mv": [1, 3], "o": 1})"), "(accepted)");
  EXPECT_EQ(error_of(R"({"m": 0, "mv": [1, 3], "o": 1})"),
            "variable 'x': its multiplier is 0; it must be positive and finite");
  EXPECT_EQ(error_of(R"({"m": 2, "mv": [1, -2], "o": 1})"),
            "variable 'y': its multiplier is -2; it must be positive and finite (element 2)");
  EXPECT_EQ(error_of(R"({"m": 2, "mv": [1, 3], "o": "inf"})"), "variable 'x': its offset is inf; it must be finite");
}

}  // namespace
}  // namespace exmc::services
