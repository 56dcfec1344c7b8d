// CmdStan CSV -> summary and sampler statistics, against posterior 1.4.0 and R's E-BFMI formula.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "exmc/analysis/cmdstan.hpp"
#include "exmc/analysis/convergence.hpp"
#include "exmc/analysis/diagnose.hpp"
#include "exmc/core/stuck_chain.hpp"
#include "golden.hpp"

namespace exmc::analysis {
namespace {

using testing::expect_rel;
using testing::golden_path;
using testing::read_table;
using testing::to_num;

std::vector<std::string> chain_paths() {
  std::vector<std::string> p;
  for (int c = 1; c <= 4; ++c) p.push_back(golden_path("cmdstan_chain_" + std::to_string(c) + ".csv"));
  return p;
}

TEST(CmdStan, SummaryMatchesPosterior) {
  const CmdStanRun run = read_cmdstan_run(chain_paths());
  ASSERT_EQ(run.draws.num_chains, 4u);
  ASSERT_EQ(run.draws.num_draws, 300u);
  EXPECT_EQ(run.draws.names, (std::vector<std::string>{"lp__", "mu", "theta.1", "theta.2"}));
  const Summary s = summarise(run.draws);
  const testing::Table g = read_table("cmdstan_summary_golden.csv");
  ASSERT_EQ(g.rows.size(), s.rows.size());
  for (size_t i = 0; i < g.rows.size(); ++i) {
    const SummaryRow& r = s.rows[i];
    ASSERT_EQ(r.variable, g.rows[i][0]);
    auto gv = [&](const char* c) { return to_num(g.rows[i][g.col(c)]); };
    const std::string w = r.variable + " ";
    expect_rel(r.mean, gv("mean"), w + "mean");
    expect_rel(r.median, gv("median"), w + "median");
    expect_rel(r.sd, gv("sd"), w + "sd");
    expect_rel(r.mad, gv("mad"), w + "mad");
    expect_rel(r.q5, gv("q5"), w + "q5");
    expect_rel(r.q95, gv("q95"), w + "q95");
    expect_rel(r.rhat, gv("rhat"), w + "rhat");
    expect_rel(r.ess_bulk, gv("ess_bulk"), w + "ess_bulk");
    expect_rel(r.ess_tail, gv("ess_tail"), w + "ess_tail");
    expect_rel(r.mcse_mean, gv("mcse_mean"), w + "mcse_mean");
    expect_rel(r.mcse_median, gv("mcse_median"), w + "mcse_median");
    expect_rel(r.mcse_sd, gv("mcse_sd"), w + "mcse_sd");
    expect_rel(r.mcse_q5, gv("mcse_q5"), w + "mcse_q5");
    expect_rel(r.mcse_q95, gv("mcse_q95"), w + "mcse_q95");
  }
}

TEST(CmdStan, SamplerStatsMatchR) {
  const CmdStanRun run = read_cmdstan_run(chain_paths());
  EXPECT_EQ(run.stats.max_depth, 4);
  const testing::Table g = read_table("cmdstan_stats_golden.csv");
  ASSERT_EQ(run.stats.chains.size(), g.rows.size());
  for (size_t c = 0; c < g.rows.size(); ++c) {
    const ChainStats& cs = run.stats.chains[c];
    const auto& row = g.rows[c];
    const std::string w = "chain " + row[0] + " ";
    EXPECT_EQ(cs.draws, 300u);
    EXPECT_EQ(static_cast<double>(cs.divergent), to_num(row[1])) << w;
    EXPECT_EQ(static_cast<double>(cs.treedepth_hits), to_num(row[2])) << w;
    expect_rel(cs.ebfmi, to_num(row[3]), w + "ebfmi");
    expect_rel(cs.mean_accept_stat, to_num(row[4]), w + "accept");
    expect_rel(cs.step_size, to_num(row[5]), w + "step size");
    EXPECT_EQ(cs.gradient_evals, to_num(row[6])) << w;
  }
  // Adaptation comments: step size and the diagonal inverse metric.
  EXPECT_TRUE(run.chains[1].has_adaptation);
  EXPECT_FALSE(run.chains[1].dense_metric);
  ASSERT_EQ(run.chains[1].inv_metric.size(), 3u);
  expect_rel(run.chains[1].inv_metric[2], 0.09 * 2, "inv_metric");
}

TEST(CmdStan, FormatsCarryEveryColumn) {
  const CmdStanRun run = read_cmdstan_run(chain_paths());
  const Summary s = summarise(run.draws);
  const std::string csv = format_summary(s, Format::Csv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "variable,mean,median,sd,mad,q5,q95,rhat,ess_bulk,ess_tail,mcse_mean,mcse_median,"
            "mcse_sd,mcse_q5,mcse_q95");
  // 17 significant digits round-trip the value exactly.
  const std::string mu_line = csv.substr(csv.find("\nmu,") + 4);
  EXPECT_EQ(std::stod(mu_line.substr(0, mu_line.find(','))), s.rows[1].mean);
  const std::string json = format_summary(s, Format::Json);
  EXPECT_NE(json.find("\"variable\": \"theta.2\""), std::string::npos);
  EXPECT_NE(json.find("\"ess_tail\": "), std::string::npos);
  const std::string table = format_summary(s, Format::Table);
  EXPECT_NE(table.find("theta.1"), std::string::npos);
  EXPECT_NE(table.find("ess_bulk"), std::string::npos);
  EXPECT_EQ(parse_format("json"), Format::Json);
  EXPECT_THROW(parse_format("xml"), std::invalid_argument);
  EXPECT_NE(format_sampler_stats(run.stats, Format::Table).find("max tree depth 4"), std::string::npos);
  EXPECT_NE(format_sampler_stats(run.stats, Format::Csv).find("gradient_evals"), std::string::npos);
}

TEST(CmdStan, MismatchedChainsAreNamed) {
  std::vector<io::CmdStanCsv> chains{io::parse_cmdstan_csv("a,b\n1,2\n3,4\n", "one.csv"),
                                     io::parse_cmdstan_csv("a,b\n1,2\n", "two.csv")};
  try {
    draws_from_cmdstan(chains);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("two.csv: 1 draws, but one.csv has 2"), std::string::npos)
        << e.what();
  }
  chains[1] = io::parse_cmdstan_csv("a,c\n1,2\n3,4\n", "three.csv");
  EXPECT_THROW(draws_from_cmdstan(chains), std::runtime_error);
}

TEST(CmdStan, AFileOfSeveralChainsIsSplitByItsChainColumn) {
  // cmdstanpy's draws_pd() saved with to_csv: every chain in one table. Read as one chain, its
  // R-hat could not see the chains disagree.
  std::string table = "chain__,iter__,draw__,lp__,mu\n", one = "lp__,mu\n", two = "lp__,mu\n";
  for (int c = 1; c <= 2; ++c)
    for (int i = 1; i <= 12; ++i) {
      const std::string row = fmt::format("{},{}", -i * 0.5, c == 1 ? i * 0.1 : 3 + i * 0.2);
      table += fmt::format("{},{},{},{}\n", c, i, (c - 1) * 12 + i, row);
      (c == 1 ? one : two) += row + "\n";
    }
  const auto split = split_chains(io::parse_cmdstan_csv(table, "draws.csv"));
  ASSERT_EQ(split.size(), 2u);
  EXPECT_EQ(split[1].path, "draws.csv (chain__ 2)");
  const auto from_table = summarise(draws_from_cmdstan(split));
  const auto from_files = summarise(draws_from_cmdstan(
      {io::parse_cmdstan_csv(one, "one.csv"), io::parse_cmdstan_csv(two, "two.csv")}));
  ASSERT_EQ(from_table.rows.size(), 2u);  // lp__ and mu: chain__, iter__ and draw__ are not variables
  for (size_t v = 0; v < 2; ++v) {
    EXPECT_EQ(from_table.rows[v].variable, from_files.rows[v].variable);
    EXPECT_EQ(from_table.rows[v].rhat, from_files.rows[v].rhat);
    EXPECT_EQ(from_table.rows[v].ess_bulk, from_files.rows[v].ess_bulk);
  }
  EXPECT_GT(from_table.rows[1].rhat, 1.5);  // the chains disagree, and it shows
  // One chain__ value: the file is that chain.
  EXPECT_EQ(split_chains(io::parse_cmdstan_csv("chain__,x\n1,1\n1,2\n", "c.csv")).size(), 1u);
}

TEST(CmdStan, AMaxDepthThatIsNotANumberIsNamed) {
  // A hand-edited header made summary and diagnose fail with the one word "stoi".
  const std::vector<io::CmdStanCsv> chains{
      io::parse_cmdstan_csv("# max_depth = ten\nlp__,treedepth__\n1,2\n3,4\n", "edited.csv")};
  try {
    sampler_stats_from_cmdstan(chains);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("edited.csv: max_depth = 'ten'"), std::string::npos) << e.what();
  }
  const std::vector<io::CmdStanCsv> ok{
      io::parse_cmdstan_csv("# max_depth = 7 (Default)\nlp__,treedepth__\n1,2\n3,4\n", "ok.csv")};
  EXPECT_EQ(sampler_stats_from_cmdstan(ok).max_depth, 7);
}

TEST(Diagnose, FlagsEachProblemInWords) {
  const CmdStanRun run = read_cmdstan_run(chain_paths());
  const Summary s = summarise(run.draws);
  const DiagnoseResult d = diagnose(s, run.stats, run.draws.num_chains);
  // Expected counts come from the R-computed golden statistics of the same files.
  const testing::Table g = read_table("cmdstan_stats_golden.csv");
  size_t div = 0, low_bfmi = 0;
  for (const auto& row : g.rows) {
    div += static_cast<size_t>(to_num(row[1]));
    const double e = to_num(row[3]);
    const std::string line = "Chain " + row[0] + ": E-BFMI = ";
    if (e < 0.3) {
      ++low_bfmi;
      EXPECT_NE(d.report.find(line), std::string::npos) << d.report;
    } else {
      EXPECT_EQ(d.report.find(line), std::string::npos) << d.report;
    }
  }
  ASSERT_GT(div, 0u);        // the golden chains were made with divergences,
  ASSERT_GT(low_bfmi, 0u);   // one chain with a low E-BFMI,
  EXPECT_TRUE(d.divergences);
  EXPECT_TRUE(d.treedepth);  // and max_depth = 4 with tree depths up to 5
  EXPECT_TRUE(d.ebfmi);
  EXPECT_NE(d.report.find(std::to_string(div) + " of 1200 ("), std::string::npos) << d.report;
  EXPECT_NE(d.report.find("adapt delta"), std::string::npos);
  EXPECT_NE(d.report.find("max_depth"), std::string::npos);
}

TEST(Diagnose, RhatAndEssFromSummary) {
  Summary s;
  SummaryRow good{"good", 0, 0, 1, 1, -1.6, 1.6, 1.001, 3000, 2800, 0.02, 0.02, 0.01, 0.03, 0.03};
  SummaryRow bad = good;
  bad.variable = "stuck";
  bad.rhat = 1.2;
  bad.ess_bulk = 12;
  s.rows = {good, bad};
  SamplerStats none;  // no sampler columns: only R-hat and ESS are checked
  const DiagnoseResult d = diagnose(s, none, 4);
  EXPECT_TRUE(d.rhat);
  EXPECT_TRUE(d.ess);
  EXPECT_FALSE(d.divergences);
  EXPECT_NE(d.report.find("stuck: R-hat = 1.200"), std::string::npos) << d.report;
  EXPECT_NE(d.report.find("stuck: ess_bulk = 12"), std::string::npos) << d.report;
  EXPECT_EQ(d.report.find("good:"), std::string::npos) << d.report;
  s.rows = {good};
  const DiagnoseResult ok = diagnose(s, none, 4);
  EXPECT_TRUE(ok.ok());
  EXPECT_NE(ok.report.find("no problems detected"), std::string::npos);
}

TEST(Diagnose, DrawsRunningOffTowardTheFloatRangeAreAnImproperPosterior) {
  Summary s;
  SummaryRow good{"a", 0, 0, 1, 1, -1.6, 1.6, 1.001, 3000, 2800, 0.02, 0.02, 0.01, 0.03, 0.03};
  SummaryRow drift = good;
  drift.variable = "s";
  drift.mean = 7.2e86;
  drift.q5 = 1e40;
  drift.q95 = 3e87;
  s.rows = {good, drift};
  const DiagnoseResult d = diagnose(s, SamplerStats{}, 4);
  EXPECT_TRUE(d.runaway);
  EXPECT_FALSE(d.ok());
  EXPECT_NE(d.report.find("s: mean = 7.2e+86"), std::string::npos) << d.report;
  EXPECT_NE(d.report.find("improper"), std::string::npos) << d.report;
  EXPECT_EQ(d.report.find("  a: mean"), std::string::npos) << d.report;
  // Large but real scales (1e20) are not flagged.
  drift.mean = drift.q95 = 1e20;
  drift.q5 = -1e20;
  s.rows = {good, drift};
  EXPECT_FALSE(diagnose(s, SamplerStats{}, 4).runaway);
}

// A run of draws at one point with every proposal rejected is a stuck chain from
// kStuckDraws repeats on; repeats with a normal acceptance statistic (NUTS may draw the starting
// point of a trajectory) or a shorter run are not.
TEST(Diagnose, FlagsAChainStuckAtOnePoint) {
  auto chain = [](size_t repeats, double accept) {
    io::CmdStanCsv c;
    c.path = "chain.csv";
    c.columns = {"lp__", "accept_stat__", "stepsize__", "x"};
    auto row = [&](double lp, double acc, double x) { c.values.insert(c.values.end(), {lp, acc, 0.3, x}); };
    for (int i = 0; i < 10; ++i) row(-1.0 - 0.1 * i, 0.8, double(i));
    row(-7.5, 0.6, 42.0);                                          // the point it stays at
    for (size_t i = 0; i < repeats; ++i) row(-7.5, accept, 42.0);  // repeats of it
    for (int i = 0; i < 5; ++i) row(-2.0 - 0.1 * i, 0.9, double(-i));
    c.num_rows = c.values.size() / c.columns.size();
    return c;
  };
  const SamplerStats stuck = sampler_stats_from_cmdstan({chain(kStuckDraws, 1e-30)});
  EXPECT_EQ(stuck.chains[0].stuck.longest, kStuckDraws);
  EXPECT_EQ(stuck.chains[0].stuck.longest_end, 10 + kStuckDraws);
  const DiagnoseResult d = diagnose(Summary{}, stuck, 1);
  EXPECT_TRUE(d.stuck);
  EXPECT_FALSE(d.ok());
  EXPECT_NE(d.report.find("Chain 1: 21 draws in a row at one point (draws 11-31)"), std::string::npos) << d.report;

  EXPECT_FALSE(diagnose(Summary{}, sampler_stats_from_cmdstan({chain(kStuckDraws - 1, 1e-30)}), 1).stuck);
  EXPECT_FALSE(diagnose(Summary{}, sampler_stats_from_cmdstan({chain(200, 0.5)}), 1).stuck);
  EXPECT_EQ(sampler_stats_from_cmdstan({chain(200, 0.5)}).chains[0].stuck.longest, 0u);
}

// Two draws per chain leave every split R-hat and ESS undefined: that is no converged run, and
// the report said "no problems detected" (an E-BFMI of 1 from 2 draws, NaN from 1, "satisfactory").
TEST(Diagnose, TooFewDrawsForRhatAndEssAreAProblem) {
  auto run = [](size_t draws) {
    std::vector<io::CmdStanCsv> chains;
    for (int c = 0; c < 4; ++c) {
      std::string text = "lp__,accept_stat__,treedepth__,n_leapfrog__,divergent__,energy__,x\n";
      for (size_t i = 0; i < draws; ++i)
        text += fmt::format("{},0.9,2,3,0,{},{}\n", -1.0 - 0.37 * double((i * 7 + c) % 11),
                            2.0 + 0.51 * double((i * 5 + c) % 13), 0.1 * double((i * 3 + c) % 17));
      chains.push_back(io::parse_cmdstan_csv(text, "c" + std::to_string(c) + ".csv"));
    }
    return diagnose(summarise(draws_from_cmdstan(chains)), sampler_stats_from_cmdstan(chains), 4);
  };
  for (size_t draws : {1, 2, 5}) {
    const DiagnoseResult d = run(draws);
    EXPECT_TRUE(d.too_few_draws) << draws;
    EXPECT_FALSE(d.ok()) << draws;
    EXPECT_EQ(d.report.find("no problems detected"), std::string::npos) << d.report;
    EXPECT_NE(d.report.find(std::to_string(draws) + " draws per chain are too few"), std::string::npos)
        << d.report;
    EXPECT_EQ(d.report.find("expected for a fixed quantity"), std::string::npos) << d.report;
    if (draws == 1) {
      EXPECT_EQ(d.report.find("E-BFMI satisfactory"), std::string::npos) << d.report;
      EXPECT_NE(d.report.find("E-BFMI is undefined"), std::string::npos) << d.report;
    }
  }
  EXPECT_FALSE(run(kMinDrawsPerChain).too_few_draws);
}

TEST(Summary, HugeAndTinyValuesPrintInScientificNotation) {
  Summary s;
  s.rows = {{"s", 7.22597e86, 1e-12, 1, 1, -1.6, 1.6, 1.001, 3000, 2800, 0.02, 0.02, 0.01, 0.03, 0.03}};
  const std::string table = format_summary(s, Format::Table);
  EXPECT_NE(table.find("7.23e+86"), std::string::npos) << table;
  EXPECT_NE(table.find("1e-12"), std::string::npos) << table;
  EXPECT_LT(table.size(), 400u) << table;
}

TEST(Summary, RowsComputedOnThreadsAreEachVariablesOwnInOrderAndEachValueItsFunctions) {
  // 300 variables (rows go to threads past 64), each with draws of its own: every row equals
  // summarise_variable of that variable, bit for bit, in the variables' order.
  const size_t nv = 300, chains = 2, draws = 100;
  std::vector<std::string> names;
  for (size_t v = 0; v < nv; ++v) names.push_back(fmt::format("x[{}]", v + 1));
  Draws d(chains, draws, names);
  for (size_t v = 0; v < nv; ++v)
    for (size_t c = 0; c < chains; ++c)
      for (size_t i = 0; i < draws; ++i)
        d.at(v, c, i) = std::sin(double(v) * 1.3 + double(c) * 0.7 + double(i) * 0.11) * double(v + 1);
  const Summary s = summarise(d);
  ASSERT_EQ(s.rows.size(), nv);
  for (size_t v = 0; v < nv; ++v) {
    const SummaryRow one = summarise_variable(d, v);
    EXPECT_EQ(s.rows[v].variable, names[v]);
    EXPECT_EQ(s.rows[v].mean, one.mean) << v;
    EXPECT_EQ(s.rows[v].sd, one.sd) << v;
    EXPECT_EQ(s.rows[v].rhat, one.rhat) << v;
    EXPECT_EQ(s.rows[v].ess_bulk, one.ess_bulk) << v;
    EXPECT_EQ(s.rows[v].ess_tail, one.ess_tail) << v;
    EXPECT_EQ(s.rows[v].mcse_q95, one.mcse_q95) << v;
    // And each value is its own function's, bit for bit, though a row shares their work.
    const ChainView x{d.variable(v), draws, chains};
    EXPECT_EQ(one.rhat, rhat(x)) << v;
    EXPECT_EQ(one.ess_bulk, ess_bulk(x)) << v;
    EXPECT_EQ(one.ess_tail, ess_tail(x)) << v;
    EXPECT_EQ(one.mcse_median, mcse_median(x)) << v;
    EXPECT_EQ(one.mcse_q5, mcse_quantile(x, 0.05)) << v;
    EXPECT_EQ(one.mcse_q95, mcse_quantile(x, 0.95)) << v;
  }
}

}  // namespace
}  // namespace exmc::analysis
