// Golden tests: PSIS, PSIS-LOO, WAIC, relative_eff and loo_compare against loo 2.5.1.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

#include "exmc/analysis/psis.hpp"
#include "golden.hpp"

namespace exmc::analysis {
namespace {

using testing::expect_rel;
using testing::read_table;
using testing::to_num;

constexpr size_t kChains = 4;

LogLik read_loglik(const std::string& model) {
  const testing::Table t = read_table("loglik_" + model + ".csv");
  LogLik ll;
  ll.num_draws = t.rows.size();
  ll.num_obs = t.header.size() - 1;
  ll.values.resize(ll.num_draws * ll.num_obs);
  for (size_t s = 0; s < ll.num_draws; ++s)
    for (size_t j = 0; j < ll.num_obs; ++j) ll.values[j * ll.num_draws + s] = to_num(t.rows[s][j + 1]);
  return ll;
}

class LooGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(LooGolden, MatchesLoo) {
  const std::string model = GetParam();
  const LogLik ll = read_loglik(model);
  const testing::Table g = read_table("loo_" + model + "_golden.csv");
  const std::vector<double> r_eff = relative_eff(ll, kChains);
  const LooResult r = loo(ll, r_eff);
  const WaicResult w = waic(ll);
  ASSERT_EQ(r.elpd_loo.size(), g.rows.size());
  for (size_t i = 0; i < g.rows.size(); ++i) {
    const auto& row = g.rows[i];
    auto gv = [&](const char* c) { return to_num(row[g.col(c)]); };
    const std::string at = model + " obs " + std::to_string(i + 1) + " ";
    expect_rel(r_eff[i], gv("r_eff"), at + "r_eff");
    expect_rel(r.elpd_loo[i], gv("elpd_loo"), at + "elpd_loo");
    expect_rel(r.mcse_elpd_loo[i], gv("mcse_elpd_loo"), at + "mcse_elpd_loo");
    expect_rel(r.p_loo[i], gv("p_loo"), at + "p_loo");
    expect_rel(r.looic[i], gv("looic"), at + "looic");
    expect_rel(r.pareto_k[i], gv("pareto_k"), at + "pareto_k");
    expect_rel(r.n_eff[i], gv("n_eff"), at + "n_eff");
    expect_rel(w.elpd_waic[i], gv("elpd_waic"), at + "elpd_waic");
    expect_rel(w.p_waic[i], gv("p_waic"), at + "p_waic");
    expect_rel(w.waic[i], gv("waic"), at + "waic");
  }
  const auto& c = g.comments;
  expect_rel(r.elpd.estimate, c.at("elpd_loo"), model + " elpd_loo");
  expect_rel(r.p.estimate, c.at("p_loo"), model + " p_loo");
  expect_rel(r.ic.estimate, c.at("looic"), model + " looic");
  expect_rel(r.elpd.se, c.at("se_elpd_loo"), model + " se_elpd_loo");
  expect_rel(r.p.se, c.at("se_p_loo"), model + " se_p_loo");
  expect_rel(r.ic.se, c.at("se_looic"), model + " se_looic");
  expect_rel(w.elpd.estimate, c.at("elpd_waic"), model + " elpd_waic");
  expect_rel(w.p.estimate, c.at("p_waic"), model + " p_waic");
  expect_rel(w.ic.estimate, c.at("waic"), model + " waic");
  expect_rel(w.elpd.se, c.at("se_elpd_waic"), model + " se_elpd_waic");
  expect_rel(w.p.se, c.at("se_p_waic"), model + " se_p_waic");
  expect_rel(w.ic.se, c.at("se_waic"), model + " se_waic");
}

INSTANTIATE_TEST_SUITE_P(Models, LooGolden, ::testing::Values("normal", "narrow", "student"));

TEST(Loo, OutliersGiveHighParetoKAndWarnings) {
  const LogLik ll = read_loglik("normal");
  const LooResult r = loo(ll, relative_eff(ll, kChains));
  EXPECT_GT(r.count(ParetoLevel::Bad) + r.count(ParetoLevel::VeryBad), 0u);
  const std::string text = format_loo(r);
  EXPECT_NE(text.find("k > 0.7"), std::string::npos) << text;
  const std::string csv = format_loo(r, Format::Csv);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<long>(ll.num_obs) + 1);
  // 17 significant digits: the first observation's elpd_loo reads back exactly.
  const std::string first = csv.substr(csv.find('\n') + 3);
  EXPECT_EQ(std::stod(first.substr(0, first.find(','))), r.elpd_loo[0]);
  EXPECT_NE(format_loo(r, Format::Json).find("\"pareto_k\": ["), std::string::npos);
  const WaicResult w = waic(ll);
  EXPECT_NE(format_waic(w).find("p_waic estimates greater than 0.4"), std::string::npos)
      << format_waic(w);
  EXPECT_NE(format_waic(w, Format::Csv).find("observation,elpd_waic,p_waic,waic"), std::string::npos);
  EXPECT_EQ(pareto_level(0.5), ParetoLevel::Good);
  EXPECT_EQ(pareto_level(0.7), ParetoLevel::Ok);
  EXPECT_EQ(pareto_level(1.0), ParetoLevel::Bad);
  EXPECT_EQ(pareto_level(1.01), ParetoLevel::VeryBad);
}

TEST(Loo, CompareMatchesLooCompare) {
  const std::vector<std::string> names{"normal", "narrow", "student"};
  std::vector<LooResult> fits;
  for (const auto& n : names) {
    const LogLik ll = read_loglik(n);
    fits.push_back(loo(ll, relative_eff(ll, kChains)));
  }
  const std::vector<CompareRow> rows = loo_compare(names, fits);
  const testing::Table g = read_table("loo_compare_golden.csv");
  ASSERT_EQ(rows.size(), g.rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].model, g.rows[i][0]);
    expect_rel(rows[i].elpd_diff, to_num(g.rows[i][1]), rows[i].model + " elpd_diff");
    expect_rel(rows[i].se_diff, to_num(g.rows[i][2]), rows[i].model + " se_diff");
    expect_rel(rows[i].elpd_loo, to_num(g.rows[i][3]), rows[i].model + " elpd_loo");
  }
  EXPECT_NE(format_compare(rows).find("elpd_diff"), std::string::npos);
  const std::string csv = format_compare(rows, Format::Csv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "model,elpd_diff,se_diff,elpd_loo,se_elpd_loo,p_loo,looic");
  EXPECT_NE(csv.find("\nstudent,0,0,"), std::string::npos) << csv;
  EXPECT_NE(format_compare(rows, Format::Json).find("\"model\": \"narrow\""), std::string::npos);
  EXPECT_THROW(loo_compare({"a"}, {fits[0]}), std::invalid_argument);
}

TEST(Psis, SmoothedLogWeightsMatchLoo) {
  const testing::Table g = read_table("psis_golden.csv");
  std::vector<double> lr, lw;
  for (const auto& row : g.rows) {
    lr.push_back(to_num(row[0]));
    lw.push_back(to_num(row[1]));
  }
  const PsisResult p = psis(lr, 0.7);
  ASSERT_EQ(p.log_weights.size(), lw.size());
  for (size_t i = 0; i < lw.size(); ++i) expect_rel(p.log_weights[i], lw[i], "lw " + std::to_string(i));
  expect_rel(p.pareto_k, g.comments.at("pareto_k"), "pareto_k");
  expect_rel(p.n_eff, g.comments.at("n_eff"), "n_eff");
  EXPECT_EQ(p.tail_length, 161u);  // ceil(min(0.2 * 2000, 3 sqrt(2000 / 0.7)))
}

TEST(Loo, LogLikFromDrawsPicksIndexedColumns) {
  Draws d(2, 3, {"mu", "log_lik.1", "log_lik.2", "log_likx", "y_rep[1]"});
  for (size_t v = 0; v < 5; ++v)
    for (size_t c = 0; c < 2; ++c)
      for (size_t s = 0; s < 3; ++s) d.at(v, c, s) = static_cast<double>(100 * v + 10 * c + s);
  const LogLik ll = loglik_from_draws(d);
  ASSERT_EQ(ll.num_obs, 2u);
  ASSERT_EQ(ll.num_draws, 6u);
  EXPECT_EQ(ll.at(4, 1), 211.0);  // chain 2, draw 2 of log_lik.2
  EXPECT_THROW(loglik_from_draws(d, "ll"), std::invalid_argument);
}

TEST(Psis, RejectsNonFiniteInput) {
  LogLik ll;
  ll.num_draws = 3;
  ll.num_obs = 1;
  ll.values = {0.0, -1.0, std::nan("")};
  try {
    loo(ll);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("observation 1 at draw 3"), std::string::npos) << e.what();
  }
}

// `exmc loo` of two chains with -inf in log_lik.1 at chain 2's 5th draw said "log-likelihood of
// observation 1 at draw 205 is -inf": neither the column nor the chain, and a draw counted across
// chains.
TEST(Loo, LogLikFromDrawsNamesANonFiniteValuesColumnChainAndDraw) {
  Draws d(2, 6, {"mu", "log_lik.1", "log_lik.2"});
  d.at(1, 1, 4) = -std::numeric_limits<double>::infinity();
  try {
    loglik_from_draws(d);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "'log_lik.1' is -inf in chain 2, draw 5: PSIS-LOO needs a finite log-likelihood for every observation "
              "and draw (-inf: the observation is impossible at that draw; nan: its computation failed)");
  }
}

TEST(Loo, RejectsNoDraws) {
  // sample(draws=0).loo() in Python: relative_eff split empty chains and the process crashed.
  LogLik ll;
  ll.num_draws = 0;
  ll.num_obs = 3;
  for (auto call : {+[](const LogLik& l) { relative_eff(l, 2); }, +[](const LogLik& l) { loo(l); },
                    +[](const LogLik& l) { waic(l); }}) {
    try {
      call(ll);
      FAIL() << "expected an error";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("no draws"), std::string::npos) << e.what();
    }
  }
}

TEST(Psis, TooShortTailLeavesKInfinite) {
  // 20 draws: tail length ceil(min(4, ...)) = 4 < 5, so loo leaves the weights unsmoothed.
  std::vector<double> lr(20);
  for (size_t i = 0; i < lr.size(); ++i) lr[i] = std::sin(static_cast<double>(i));
  const PsisResult p = psis(lr, 1.0);
  EXPECT_TRUE(std::isinf(p.pareto_k));
  const double mx = *std::max_element(lr.begin(), lr.end());
  for (size_t i = 0; i < lr.size(); ++i) EXPECT_DOUBLE_EQ(p.log_weights[i], lr[i]) << i;
  EXPECT_EQ(mx, *std::max_element(p.log_weights.begin(), p.log_weights.end()));
}

}  // namespace
}  // namespace exmc::analysis
