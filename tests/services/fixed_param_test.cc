// The fixed_param sampler through SampleJob: chains that stay at their initial values and draw
// only the generated quantities, chosen by itself for a program without parameters (CmdStan's
// behaviour), its two sampler statistics, no adaptation, and checkpoints that resume exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/services/program.hpp"
#include "exmc/services/sample.hpp"

namespace exmc::services {
namespace {

Program no_parameters() {
  return Program::from_source(R"(
    data { real mu; real<lower=0> s; }
    generated quantities { real y = normal_rng(mu, s); }
  )", "simulate", R"({"mu": 3.0, "s": 2.0})");
}

Program with_parameters() {
  return Program::from_source(R"(
    data { int N; vector[N] y; }
    parameters { real mu; real<lower=0> sigma; }
    model { mu ~ normal(0, 5); sigma ~ exponential(1); y ~ normal(mu, sigma); }
    generated quantities { real y_rep = normal_rng(mu, sigma); }
  )", "gq_model", R"({"N": 4, "y": [0.3, -1.2, 2.0, 0.8]})");
}

struct Collected {
  std::vector<std::vector<std::vector<double>>> rows;  // [chain][draw][value]
  std::vector<unsigned> iterations;                    // of chain 0
  std::vector<std::string> states;                     // chain 0's checkpoints, by draws done
  size_t adaptations = 0, warmup_draws = 0, nonzero_stats = 0;
  SampleRun run;
};

Collected collect(SampleJob& job, unsigned chains) {
  Collected c;
  c.rows.resize(chains);
  const size_t n_stats = job.stat_names().size();
  SampleObserver obs;
  obs.on_draw = [&](const SampleDraw& d) {
    if (d.warmup) ++c.warmup_draws;
    for (size_t i = 0; i < n_stats; ++i) c.nonzero_stats += d.stats[i] != 0;
    c.rows[d.chain].emplace_back(d.row, d.row + d.row_size);
    if (d.chain == 0) c.iterations.push_back(d.iteration);
  };
  obs.on_adaptation = [&](unsigned, const nuts::AdaptationState&) { ++c.adaptations; };
  obs.on_checkpoint = [&](unsigned chain, unsigned, const std::string& state) {
    if (chain == 0) c.states.push_back(state);
  };
  c.run = job.run(obs);
  return c;
}

// Mean and sample standard deviation of one column over every chain's draws.
std::pair<double, double> moments(const Collected& c, size_t column) {
  double n = 0, sum = 0, sum2 = 0;
  for (const auto& chain : c.rows)
    for (const auto& row : chain) {
      n += 1;
      sum += row[column];
      sum2 += row[column] * row[column];
    }
  const double mean = sum / n;
  return {mean, std::sqrt((sum2 - n * mean * mean) / (n - 1))};
}

TEST(FixedParam, AProgramWithoutParametersGetsItAndItsDrawsAreTheGeneratedQuantities) {
  const auto program = no_parameters();
  SampleSettings s;
  s.chains = 4;
  s.warmup = 500;  // nothing to adapt: no warmup runs, none is saved
  s.draws = 2000;
  s.save_warmup = true;
  SampleJob job(program, s, 11);
  EXPECT_TRUE(job.fixed_param());
  EXPECT_EQ(job.stat_names(), (std::vector<std::string>{"lp__", "accept_stat__"}));
  ASSERT_EQ(job.notes().size(), 1u);
  EXPECT_NE(job.notes()[0].find("no parameters"), std::string::npos) << job.notes()[0];
  EXPECT_EQ(job.config().sampler.num_warmup, 0u);
  const auto c = collect(job, s.chains);
  ASSERT_TRUE(c.run.ok());
  EXPECT_EQ(c.adaptations, 0u);
  EXPECT_EQ(c.warmup_draws, 0u);
  EXPECT_EQ(c.nonzero_stats, 0u);  // CmdStan's fixed_param rows: lp__ 0, accept_stat__ 0
  ASSERT_EQ(c.iterations.size(), 2000u);
  for (unsigned i = 0; i < 2000; ++i) ASSERT_EQ(c.iterations[i], i);
  EXPECT_TRUE(c.run.stuck.empty());  // every draw "rejected" is what fixed_param means, not a stuck chain
  // y ~ normal(3, 2), 8000 independent draws: the mean's standard error is 2 / sqrt(8000) =
  // 0.022, the sd's about 2 / sqrt(2 * 8000) = 0.016; four of each.
  const auto [mean, sd] = moments(c, 0);
  EXPECT_NEAR(mean, 3.0, 4 * 2.0 / std::sqrt(8000.0));
  EXPECT_NEAR(sd, 2.0, 4 * 2.0 / std::sqrt(2 * 8000.0));
}

TEST(FixedParam, ParametersStayAtTheirInitialValues) {
  const auto program = with_parameters();
  SampleSettings s;
  s.chains = 2;
  s.draws = 3000;
  s.fixed_param = true;
  s.init_values = {{"mu", {1.5}}, {"sigma", {0.7}}};
  SampleJob job(program, s, 5);
  EXPECT_TRUE(job.fixed_param());
  EXPECT_TRUE(job.notes().empty());
  const auto c = collect(job, s.chains);
  ASSERT_TRUE(c.run.ok());
  EXPECT_EQ(c.adaptations, 0u);
  for (const auto& chain : c.rows)
    for (const auto& row : chain) {
      ASSERT_DOUBLE_EQ(row[0], 1.5);
      ASSERT_DOUBLE_EQ(row[1], 0.7);
    }
  // y_rep ~ normal(1.5, 0.7) at the fixed point: 6000 draws.
  const auto [mean, sd] = moments(c, 2);
  EXPECT_NEAR(mean, 1.5, 4 * 0.7 / std::sqrt(6000.0));
  EXPECT_NEAR(sd, 0.7, 4 * 0.7 / std::sqrt(2 * 6000.0));
  EXPECT_EQ(c.run.result.chains[0].grad_evals, 1u);  // the initial point's check, nothing after
}

TEST(FixedParam, RandomInitialValuesDifferByChainAndStay) {
  const auto program = with_parameters();
  SampleSettings s;
  s.chains = 3;
  s.draws = 50;
  s.fixed_param = true;
  SampleJob job(program, s, 9);
  const auto c = collect(job, s.chains);
  ASSERT_TRUE(c.run.ok());
  for (const auto& chain : c.rows)
    for (const auto& row : chain) ASSERT_EQ(row[0], chain[0][0]);
  EXPECT_NE(c.rows[0][0][0], c.rows[1][0][0]);
  EXPECT_NE(c.rows[1][0][0], c.rows[2][0][0]);
  EXPECT_GT(c.rows[0][0][1], 0.0);  // sigma's constraint holds at the random point
}

TEST(FixedParam, AResumedChainDrawsWhatTheUninterruptedOneDrew) {
  const auto program = no_parameters();
  SampleSettings s;
  s.chains = 1;
  s.draws = 60;
  s.checkpoint_every = 20;
  SampleJob whole_job(program, s, 3);
  const auto whole = collect(whole_job, 1);
  ASSERT_TRUE(whole.run.ok());
  ASSERT_EQ(whole.states.size(), 3u);  // after 20, 40 and 60
  s.resume_states = {whole.states[0]};
  SampleJob resumed_job(program, s, 3);
  const auto resumed = collect(resumed_job, 1);
  ASSERT_TRUE(resumed.run.ok());
  ASSERT_EQ(resumed.rows[0].size(), 40u);
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(resumed.rows[0][i], whole.rows[0][20 + i]) << i;
  // A NUTS chain's state is not a fixed_param chain's.
  s.fixed_param = false;
  const auto nuts_program = with_parameters();
  SampleSettings n = s;
  n.warmup = 20;
  n.draws = 40;
  n.resume_states.clear();
  SampleJob nuts_job(nuts_program, n, 3);
  const auto nuts = collect(nuts_job, 1);
  ASSERT_EQ(nuts.states.size(), 3u);
  n.fixed_param = true;
  n.resume_states = {nuts.states[0]};
  SampleJob mismatched(nuts_program, n, 3);
  const auto bad = collect(mismatched, 1);
  EXPECT_NE(bad.run.result.chains[0].error.find("differs"), std::string::npos) << bad.run.result.chains[0].error;
}

TEST(FixedParam, ASavedMetricIsRefused) {
  const auto program = with_parameters();
  SampleSettings s;
  s.fixed_param = true;
  s.warm_start = nuts::AdaptationState{};
  s.warm_start->dim = 2;
  s.warm_start->step_size = 0.5;
  s.warm_start->inv_metric = {1.0, 1.0};
  s.warm_start_file = "metric.json";
  try {
    SampleJob job(program, s, 1);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "metric.json: the fixed_param sampler (fixed_param chosen) uses no metric");
  }
}

}  // namespace
}  // namespace exmc::services
