// Golden tests: R-hat, ESS, MCSE and summary statistics against posterior 1.4.0.
#include <cstdio>
#include <set>

#include <gtest/gtest.h>

#include "exmc/analysis/analysis.hpp"
#include "exmc/analysis/summary.hpp"
#include "exmc/core/rng.hpp"
#include "golden.hpp"

namespace exmc::analysis {
namespace {

using testing::expect_rel;
using testing::read_table;

// draws_<case>.csv: chain,draw,var... with rows chain after chain.
Draws read_draws(const std::string& cas) {
  const testing::Table t = read_table("draws_" + cas + ".csv");
  std::set<std::string> chains;
  for (const auto& r : t.rows) chains.insert(r[0]);
  const size_t nchains = chains.size(), ndraws = t.rows.size() / nchains;
  Draws d(nchains, ndraws, std::vector<std::string>(t.header.begin() + 2, t.header.end()));
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const size_t c = std::stoul(t.rows[i][0]) - 1, s = std::stoul(t.rows[i][1]) - 1;
    for (size_t v = 0; v < d.num_variables(); ++v) d.at(v, c, s) = testing::to_num(t.rows[i][v + 2]);
  }
  return d;
}

class ConvergenceGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvergenceGolden, MatchesPosterior) {
  const std::string cas = GetParam();
  const Draws d = read_draws(cas);
  const testing::Table g = read_table("summary_golden.csv");
  size_t checked = 0;
  for (const auto& row : g.rows) {
    if (row[0] != cas) continue;
    const size_t v = d.index_of(row[1]);
    const ChainView x{d.variable(v), d.num_draws, d.num_chains};
    const SummaryRow s = summarise_variable(d, v);
    auto gv = [&](const char* c) { return testing::to_num(row[g.col(c)]); };
    const std::string w = cas + "/" + row[1] + " ";
    expect_rel(s.mean, gv("mean"), w + "mean");
    expect_rel(s.median, gv("median"), w + "median");
    expect_rel(s.sd, gv("sd"), w + "sd");
    expect_rel(s.mad, gv("mad"), w + "mad");
    expect_rel(s.q5, gv("q5"), w + "q5");
    expect_rel(s.q95, gv("q95"), w + "q95");
    expect_rel(s.rhat, gv("rhat"), w + "rhat");
    expect_rel(s.ess_bulk, gv("ess_bulk"), w + "ess_bulk");
    expect_rel(s.ess_tail, gv("ess_tail"), w + "ess_tail");
    expect_rel(s.mcse_mean, gv("mcse_mean"), w + "mcse_mean");
    expect_rel(s.mcse_median, gv("mcse_median"), w + "mcse_median");
    expect_rel(s.mcse_sd, gv("mcse_sd"), w + "mcse_sd");
    expect_rel(s.mcse_q5, gv("mcse_q5"), w + "mcse_q5");
    expect_rel(s.mcse_q95, gv("mcse_q95"), w + "mcse_q95");
    expect_rel(ess_mean(x), gv("ess_mean"), w + "ess_mean");
    expect_rel(ess_median(x), gv("ess_median"), w + "ess_median");
    expect_rel(rhat_basic(x), gv("rhat_basic"), w + "rhat_basic");
    expect_rel(ess_basic(x), gv("ess_basic"), w + "ess_basic");
    ++checked;
  }
  EXPECT_GT(checked, 0u) << "no golden rows for " << cas;
}

INSTANTIATE_TEST_SUITE_P(Cases, ConvergenceGolden,
                         ::testing::Values("well_mixed", "ar1", "trend", "constant", "cauchy",
                                           "odd", "one_chain", "one_chain_odd"));

TEST(Convergence, TrendIsFlaggedAndWellMixedIsNot) {
  const Draws trend = read_draws("trend");
  const Draws mixed = read_draws("well_mixed");
  EXPECT_GT(rhat({trend.variable(0), trend.num_draws, trend.num_chains}), 1.01);
  EXPECT_LT(rhat({mixed.variable(0), mixed.num_draws, mixed.num_chains}), 1.01);
}

TEST(Convergence, AutocovarianceMatchesDirectSum) {
  const double x[] = {1.0, 3.0, -2.0, 0.5, 4.0, 2.0, -1.0};
  const size_t n = 7;
  const std::vector<double> ac = detail::autocovariance(x, n);
  double m = 0;
  for (double v : x) m += v / n;
  for (size_t t = 0; t < n; ++t) {
    double s = 0;
    for (size_t i = 0; i + t < n; ++i) s += (x[i] - m) * (x[i + t] - m);
    EXPECT_NEAR(ac[t], s / n, 1e-13) << "lag " << t;
  }
}

// ESS takes the chains' autocovariances two at a time (one transform pair for two chains): the
// ESS does not depend on which chain is paired with which, nor on whether a chain is paired at
// all (three chains: the last one is alone), with chains of very different scales and means.
TEST(Convergence, EssOfPairedChainsDoesNotDependOnThePairing) {
  const size_t n = 500;
  Rng rng(21, 0);
  std::vector<std::vector<double>> chains(3, std::vector<double>(n));
  const double scale[3] = {1e-6, 1.0, 3.0}, phi[3] = {0.9, 0.3, -0.2};
  for (size_t c = 0; c < 3; ++c) {
    double v = 0;
    for (size_t i = 0; i < n; ++i) chains[c][i] = scale[c] * (v = phi[c] * v + rng.normal()) + 5.0 * scale[c];
  }
  auto ess_in_order = [&](std::initializer_list<size_t> order, bool loo) {
    std::vector<double> x;
    for (size_t c : order) x.insert(x.end(), chains[c].begin(), chains[c].end());
    return detail::ess_raw(ChainView{x.data(), n, 3}, loo);
  };
  for (bool loo : {false, true}) {
    const double narrow_alone = ess_in_order({1, 2, 0}, loo), narrow_paired = ess_in_order({0, 1, 2}, loo);
    EXPECT_NEAR(narrow_paired, narrow_alone, 1e-12 * narrow_alone) << "loo scaling " << loo;
    EXPECT_NEAR(ess_in_order({2, 0, 1}, loo), narrow_alone, 1e-12 * narrow_alone) << "loo scaling " << loo;
  }
}

TEST(Convergence, NonFiniteDrawsGiveNaN) {
  std::vector<double> x(40);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i % 7);
  x[5] = std::numeric_limits<double>::infinity();
  const ChainView v{x.data(), 20, 2};
  EXPECT_TRUE(std::isnan(rhat(v)));
  EXPECT_TRUE(std::isnan(ess_bulk(v)));
  EXPECT_TRUE(std::isnan(ess_tail(v)));
}

TEST(Convergence, NaNDrawGivesNaNSummary) {
  Draws d(2, 50, {"a"});
  for (size_t c = 0; c < 2; ++c)
    for (size_t s = 0; s < 50; ++s) d.at(0, c, s) = std::sin(static_cast<double>(s + 7 * c));
  d.at(0, 1, 10) = std::nan("");
  const SummaryRow r = summarise_variable(d, 0);
  for (double v : {r.mean, r.median, r.sd, r.mad, r.q5, r.q95, r.rhat, r.ess_bulk, r.ess_tail,
                   r.mcse_mean, r.mcse_median, r.mcse_sd, r.mcse_q5, r.mcse_q95})
    EXPECT_TRUE(std::isnan(v)) << v;
  EXPECT_NE(format_summary(Summary{{r}}, Format::Csv).find("a,NA,NA"), std::string::npos);
}

TEST(Convergence, TooFewDrawsGiveNaNEss) {
  const double x[] = {0.1, 0.7, -0.3, 1.2, 0.4, -0.8};
  const ChainView v{x, 3, 2};  // split chains have one draw each: posterior returns NA
  EXPECT_TRUE(std::isnan(ess_bulk(v)));
  EXPECT_TRUE(std::isnan(ess_mean(v)));
  EXPECT_FALSE(std::isnan(mean(x, 6)));
}

TEST(Convergence, SummariseRejectsInconsistentShape) {
  Draws d(2, 10, {"a"});
  d.values.resize(5);
  EXPECT_THROW(summarise(d), std::invalid_argument);
  EXPECT_THROW(d.index_of("b"), std::out_of_range);
}

TEST(Convergence, SummariseRejectsNoDraws) {
  // sample(draws=0) in Python: summarise divided by the empty half-chains and the process died.
  for (const auto& [chains, draws] : {std::pair<size_t, size_t>{2, 0}, {0, 10}}) {
    const Draws d(chains, draws, {"a"});
    try {
      summarise(d);
      FAIL() << chains << " chains x " << draws << " draws summarised";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("no draws"), std::string::npos) << e.what();
    }
  }
}

// Printed once so the report can quote the worst agreement with the goldens.
class MaxErrorPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    std::printf("[analysis] max relative error vs golden values: %.3g\n", testing::max_rel_error());
  }
};
const auto* const kPrinter = ::testing::AddGlobalTestEnvironment(new MaxErrorPrinter);

}  // namespace
}  // namespace exmc::analysis
