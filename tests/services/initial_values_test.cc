// Initial values that name some parameters only: the others start at random, as CmdStan's init
// files do (every method shares nuts::initialize_point). The fixed_param sampler keeps each
// chain at its initial point, so its draws show where the chains started.
#include <gtest/gtest.h>

#include <cmath>

#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/nuts/chain_sampler.hpp"
#include "exmc/nuts/initializer.hpp"
#include "exmc/services/program.hpp"
#include "exmc/services/sample.hpp"

namespace exmc::services {
namespace {

Program bounded_by_a_parameter() {
  return Program::from_source(R"(
    parameters { real mu; real<lower=0> s; vector<lower=mu>[2] v; }
    model { mu ~ normal(0, 1); s ~ exponential(1); v ~ normal(mu, 1); }
  )", "partial", "");
}

// Each chain's first row: mu, s, v[1], v[2].
std::vector<std::vector<double>> starts(const Program& program, SampleSettings s, uint64_t seed) {
  s.fixed_param = true;
  s.draws = 1;
  SampleJob job(program, s, seed);
  std::vector<std::vector<double>> rows(s.chains);
  SampleObserver obs;
  obs.on_draw = [&](const SampleDraw& d) { rows[d.chain].assign(d.row, d.row + d.row_size); };
  const auto run = job.run(obs);
  run.result.throw_if_failed();
  return rows;
}

TEST(InitialValues, ParametersLeftOutStartAtRandomWithinTheirConstraints) {
  const auto program = bounded_by_a_parameter();
  SampleSettings s;
  s.chains = 4;
  s.init_values = {{"mu", {1.5}}};
  const auto rows = starts(program, s, 3);
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0], 1.5);
    EXPECT_GT(r[1], 0.0);
    EXPECT_GT(r[2], 1.5);  // v's lower bound is the given mu, not a random one
    EXPECT_GT(r[3], 1.5);
  }
  EXPECT_NE(rows[0][1], rows[1][1]);  // each chain its own draw
  // A pure function of the seed.
  EXPECT_EQ(rows, starts(program, s, 3));
  // Given values are kept exactly, missing ones drawn around them.
  s.init_values = {{"mu", {0.0}}, {"v", {0.5, 0.25}}};
  for (const auto& r : starts(program, s, 4)) {
    EXPECT_EQ(r[0], 0.0);
    EXPECT_DOUBLE_EQ(r[2], 0.5);
    EXPECT_DOUBLE_EQ(r[3], 0.25);
  }
}

TEST(InitialValues, AGivenValueOutsideItsSupportIsNamedNotRetried) {
  const auto program = bounded_by_a_parameter();
  SampleSettings s;
  s.chains = 1;
  s.init_values = {{"mu", {1.5}}, {"v", {1.0, 2.0}}};  // v[1] below mu
  // Refused by the job, before any chain runs (each chain failed with it).
  try {
    starts(program, s, 1);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "bad initial values: variable 'v' (lower): value 1 at index 1 is not above the lower bound 1.5");
  }
}

TEST(InitialValues, BadGivenValuesAreRefusedBeforeAnyChainRunsAndUnknownNamesIgnored) {
  const auto program = bounded_by_a_parameter();
  SampleSettings s;
  s.chains = 2;
  const auto error_of = [&](std::vector<std::pair<std::string, std::vector<double>>> values) -> std::string {
    s.init_values = std::move(values);
    try {
      SampleJob job(program, s, 1);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  // s is left out: no draw of it mends a given value.
  EXPECT_EQ(error_of({{"s", {-1.0}}}),
            "bad initial values: variable 's' (lower): value -1 at index 1 is not above the lower bound 0");
  EXPECT_EQ(error_of({{"mu", {0.0}}, {"v", {1.0}}}),
            "bad initial values: variable 'v': value has 1 elements; expected 2");
  EXPECT_EQ(error_of({{"mu", {std::nan("")}}}),
            "bad initial values: variable 'mu' (identity): value at index 1 is not finite");
  // A name that is no parameter: ignored with a warning, as an --init file's (it failed each chain
  // with "unknown variable 'nope' in the initial values").
  s.init_values = {{"mu", {0.5}}, {"nope", {1.0}}, {"gq", {2.0}}};
  SampleJob job(program, s, 1);
  ASSERT_EQ(job.warnings().size(), 1u);
  EXPECT_EQ(job.warnings()[0], "the initial values: 'nope', 'gq' match no parameter of the model; ignored");
  s.fixed_param = true;
  s.draws = 1;
  for (const auto& r : starts(program, s, 1)) EXPECT_EQ(r[0], 0.5);
}

TEST(InitialValues, AGivenValueWhoseBoundDependsOnALeftOutOneWaitsForADrawThatFits) {
  // b = -1 is inside its support when the drawn a is below -1; the first draw that put a above
  // it failed the chain with "bad initial values: variable 'b'".
  const auto program = Program::from_source(R"(
    parameters { real a; real<lower=a> b; }
    model { a ~ normal(0, 1); b ~ normal(a, 1); }
  )", "dependent", "");
  SampleSettings s;
  s.chains = 8;
  s.init_values = {{"b", {-1.0}}};
  for (uint64_t seed = 1; seed <= 3; ++seed)
    for (const auto& r : starts(program, s, seed)) {
      EXPECT_EQ(r[1], -1.0);
      EXPECT_LT(r[0], -1.0);
    }
}

// The pre-check SampleJob runs before any chain and each chain's completion of left-out
// variables are one definition (nuts::InitCompletion): a value refused in every completion is
// the given values' fault, and the chain says the same of them.
TEST(InitialValues, ThePreCheckAndTheChainsJudgeGivenValuesAlike) {
  const auto density = bounded_by_a_parameter().compile();
  Rng rng(7, 0);
  const std::string fault = nuts::given_init_values_fault(*density, {{"s", {-1.0}}}, 2.0, 5, rng);
  EXPECT_NE(fault.find("'s'"), std::string::npos) << fault;
  EXPECT_EQ(nuts::given_init_values_fault(*density, {{"s", {1.0}}}, 2.0, 5, rng), "");
  EXPECT_EQ(nuts::given_init_values_fault(*density, {}, 2.0, 5, rng), "");
  // v's bound is the drawn mu: v = (-1, -1) fits some draws, so the chains decide.
  EXPECT_EQ(nuts::given_init_values_fault(*density, {{"v", {-1.0, -1.0}}}, 2.0, 100, rng), "");
  // Nothing left out: one try decides, and no draw is made.
  Rng fresh(7, 0), used(7, 0);
  const nuts::InitValues all = {{"mu", {0.0}}, {"s", {-1.0}}, {"v", {1.0, 2.0}}};
  EXPECT_EQ(nuts::given_init_values_fault(*density, all, 2.0, 5, used), fault);
  EXPECT_EQ(used.uniform(0, 1), fresh.uniform(0, 1));

  nuts::SamplerConfig cfg;
  cfg.init_values = {{"s", {-1.0}}};
  const nuts::Metric m = nuts::Metric::unit(nuts::MetricKind::Diag, density->dim());
  nuts::Leapfrog integ(*density, m);
  nuts::PhasePoint z(density->dim());
  Rng chain_rng(3, 0);
  try {
    nuts::initialize_point(integ, cfg, chain_rng, z);
    FAIL() << "expected an InitError";
  } catch (const nuts::InitError& e) {
    EXPECT_EQ(std::string(e.what()), "bad initial values: " + fault);
  }
}

}  // namespace
}  // namespace exmc::services
