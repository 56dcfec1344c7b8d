// The `exmc` command end to end, in-process: files written, numbers sane, errors for people.
#include <gtest/gtest.h>

#include <cstdlib>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_test_support.hpp"
#include "exmc/analysis/cmdstan.hpp"
#include "exmc/analysis/convergence.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::cli {
namespace {

TEST_F(CliTest, SampleWritesOneCmdStanCsvPerChainThatSummaryReads) {
  const auto r = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                       "--chains", "2", "--warmup", "300", "--draws", "400", "--seed", "7", "--output",
                       path("out.csv"), "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("model ready in"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("first warmup iteration"), std::string::npos) << r.err;
  ASSERT_TRUE(fs::exists(path("out_1.csv")));
  ASSERT_TRUE(fs::exists(path("out_2.csv")));
  for (const auto& e : fs::directory_iterator(dir))  // no temporary left behind
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();

  const auto run = analysis::read_cmdstan_run({path("out_1.csv"), path("out_2.csv")});
  EXPECT_EQ(run.draws.num_chains, 2u);
  EXPECT_EQ(run.draws.num_draws, 400u);
  // Parameters then transformed parameters, CmdStan's names.
  for (const char* n : {"lp__", "mu", "tau", "theta_tilde.1", "theta.8"}) EXPECT_NO_THROW(run.draws.index_of(n)) << n;
  // theta = mu + tau * theta_tilde holds in every written row (6 significant digits).
  const size_t mu = run.draws.index_of("mu"), tau = run.draws.index_of("tau");
  const size_t tt = run.draws.index_of("theta_tilde.3"), th = run.draws.index_of("theta.3");
  for (size_t c = 0; c < 2; ++c)
    for (size_t d = 0; d < 400; ++d) {
      const double want = run.draws.at(mu, c, d) + run.draws.at(tau, c, d) * run.draws.at(tt, c, d);
      ASSERT_NEAR(run.draws.at(th, c, d), want, 1e-4 * (1 + std::fabs(want)));
    }
  // The posterior mean of mu: posteriordb's gold standard (same model) is 4.410 with its own
  // MCSE 0.033; ours must lie within 5 combined MCSE.
  const double* m = run.draws.variable(mu);
  double mean = 0;
  for (size_t i = 0; i < 800; ++i) mean += m[i] / 800;
  const double mcse = analysis::mcse_mean(analysis::ChainView{m, 400, 2});
  EXPECT_LT(std::fabs(mean - 4.410), 5 * std::hypot(mcse, 0.033)) << "mean " << mean << " mcse " << mcse;

  // Generated quantities follow, evaluated on the written draw: log_lik[3] is the normal log
  // density of y[3] = -3 with sd 16 at theta[3]; y_rep are predictive draws around theta.
  const size_t ll = run.draws.index_of("log_lik.3");
  EXPECT_NO_THROW(run.draws.index_of("y_rep.8"));
  for (size_t d = 0; d < 400; ++d) {
    const double z = (-3 - run.draws.at(th, 0, d)) / 16;
    const double want = -0.5 * z * z - std::log(16.0) - 0.5 * std::log(2 * M_PI);
    ASSERT_NEAR(run.draws.at(ll, 0, d), want, 1e-4 * std::fabs(want));
  }
  const auto l = exmc({"loo", path("out_1.csv"), path("out_2.csv")});
  ASSERT_EQ(l.code, 0) << l.err;
  EXPECT_NE(l.out.find("elpd_loo"), std::string::npos) << l.out;

  const auto s = exmc({"summary", path("out_1.csv"), path("out_2.csv")});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("ess_bulk"), std::string::npos);
  EXPECT_NE(s.out.find("theta.8"), std::string::npos);
  const auto csv = exmc({"summary", "--format", "csv", path("out_1.csv"), path("out_2.csv")});
  ASSERT_EQ(csv.code, 0);
  EXPECT_EQ(csv.out.rfind("variable,", 0), 0u) << csv.out.substr(0, 80);
  const auto d = exmc({"diagnose", path("out_1.csv"), path("out_2.csv")});
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_FALSE(d.out.empty());
}

TEST_F(CliTest, SameSeedSameDrawsWhateverTheThreads) {
  const std::vector<std::string> base = {"sample", example("eight_schools.stan"), "--data",
                                         example("eight_schools.data.json"), "--chains", "2", "--warmup",
                                         "100", "--draws", "100", "--seed", "11", "--no-progress"};
  auto a = base, b = base;
  a.insert(a.end(), {"--threads", "1", "--output", path("a.csv")});
  b.insert(b.end(), {"--threads", "2", "--output", path("b.csv")});
  ASSERT_EQ(exmc(a).code, 0);
  ASSERT_EQ(exmc(b).code, 0);
  EXPECT_EQ(data_lines(path("a_2.csv")), data_lines(path("b_2.csv")));
  EXPECT_NE(data_lines(path("a_1.csv")), data_lines(path("a_2.csv")));
}

TEST_F(CliTest, ThinAndSaveWarmupCountRows) {
  const auto r = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                       "--chains", "1", "--warmup", "60", "--draws", "100", "--thin", "4", "--save-warmup",
                       "--seed", "3", "--output", path("t.csv"), "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto csv = io::read_cmdstan_csv(path("t.csv"));
  EXPECT_EQ(csv.num_warmup_rows, 15u);
  EXPECT_EQ(csv.num_rows, 25u);
  EXPECT_EQ(csv.config.at("thin"), "4");
  EXPECT_NE(r.err.find("exmc: 1 chain x (60 warmup + 100 draws), seed 3"), std::string::npos) << r.err;
  // One of each is said in the singular ("1 chains x", "1 variables (1 unconstrained dimensions)").
  const auto one = write("one.stan", "parameters { real mu; }\nmodel { mu ~ normal(0, 1); }\n");
  const auto o = exmc({"sample", one, "--chains", "1", "--draws", "10", "--seed", "1", "--output", path("o.csv"),
                       "--no-progress"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.err.find("exmc: 1 variable (1 unconstrained dimension), 1 instruction per gradient;"),
            std::string::npos)
      << o.err;
}

TEST_F(CliTest, HelpAndMalformedCommandLines) {
  EXPECT_EQ(exmc({"--help"}).code, 0);
  const auto h = exmc({"sample", "--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--adapt-delta"), std::string::npos);
  EXPECT_EQ(exmc({}).code, 2);
  EXPECT_EQ(exmc({"sample"}).code, 2);
  const auto m = exmc({"sample", "x.stan", "--metric", "euclid"});
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("--metric"), std::string::npos) << m.err;
  EXPECT_EQ(exmc({"sample", "x.stan", "--chains", "zero"}).code, 2);
  EXPECT_EQ(exmc({"frobnicate"}).code, 2);
  const auto v = exmc({"--version"});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_EQ(v.out.rfind("exmc " EXMC_VERSION "\n  backend: ", 0), 0u) << v.out;
  EXPECT_NE(v.out.find("dashboard (exmc sample --serve): "), std::string::npos) << v.out;
}

TEST_F(CliTest, BadProgramsAndDataNameTheProblem) {
  auto r = exmc({"sample", path("missing.stan"), "--no-progress"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.stan"), std::string::npos) << r.err;

  const auto bad = write("bad.stan", "parameters {\n  real mu\n}\nmodel {\n  mu ~ normal(0, 1);\n}\n");
  r = exmc({"sample", bad, "--no-progress"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.stan:3:1"), std::string::npos) << r.err;

  const auto data = write("d.json", R"({"J": 8, "y": [1, 2, 3], "sigma": [1,1,1,1,1,1,1,1]})");
  r = exmc({"sample", example("eight_schools.stan"), "--data", data, "--no-progress", "--output", path("o.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("'y'"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(dir / "") || !fs::exists(path("o_1.csv")));

  const auto neg = write("n.json", R"({"J": 8, "y": [1,2,3,4,5,6,7,8], "sigma": [1,1,1,-1,1,1,1,1]})");
  r = exmc({"sample", example("eight_schools.stan"), "--data", neg, "--no-progress"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("sigma"), std::string::npos) << r.err;

  r = exmc({"summary", path("nothing.csv")});
  EXPECT_NE(r.code, 0);
}

TEST_F(CliTest, InitFileValuesOutsideTheSupportNameTheVariable) {
  const auto init = write("init.json", R"({"mu": 0, "tau": -1, "theta_tilde": [0,0,0,0,0,0,0,0]})");
  const auto r = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                       "--chains", "1", "--init", init, "--no-progress", "--output", path("i.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("tau"), std::string::npos) << r.err;
  // Refused once, before any chain runs (each chain failed with it, as "  chain 1: bad initial
  // values"; before that "chain 1: chain 0: bad initial values").
  EXPECT_NE(r.err.find("exmc sample: error: bad initial values: variable 'tau' (lower): value -1 at index 1 is not "
                       "above the lower bound 0"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("chain "), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("i.csv")));
  // Nor a temporary holding only the header: each failed try left one behind, unnamed.
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_NE(e.path().extension(), ".tmp") << e.path();
}

TEST_F(CliTest, SavedMetricRestartsWithoutAdaptation) {
  const std::vector<std::string> base = {"sample", example("eight_schools.stan"), "--data",
                                         example("eight_schools.data.json"), "--chains", "1", "--draws",
                                         "50", "--seed", "5", "--no-progress"};
  auto a = base;
  a.insert(a.end(), {"--warmup", "200", "--save-metric", path("m.json"), "--output", path("a.csv")});
  ASSERT_EQ(exmc(a).code, 0);
  ASSERT_TRUE(fs::exists(path("m.json")));
  auto b = base;
  b.insert(b.end(), {"--warmup", "0", "--load-metric", path("m.json"), "--output", path("b.csv")});
  const auto r = exmc(b);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto csv = io::read_cmdstan_csv(path("b.csv"));
  EXPECT_EQ(csv.num_rows, 50u);
}

TEST_F(CliTest, LoadedMetricFollowsTheMetricOptionOrIsRefused) {
  // The chains took the file's kind whatever --metric said, while the header said otherwise:
  // --metric dense with a diagonal file ran diagonal; a dense file under the default ran dense.
  const std::vector<std::string> base = {"sample", example("eight_schools.stan"), "--data",
                                         example("eight_schools.data.json"), "--chains", "1", "--warmup",
                                         "100", "--draws", "20", "--seed", "5", "--no-progress"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return exmc(a);
  };
  ASSERT_EQ(with({"--save-metric", path("diag.json"), "--output", path("a.csv")}).code, 0);
  ASSERT_EQ(with({"--metric", "dense", "--save-metric", path("dense.json"), "--output", path("b.csv")}).code, 0);

  auto r = with({"--load-metric", path("diag.json"), "--metric", "dense", "--output", path("c.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto c = slurp(path("c.csv"));
  EXPECT_NE(c.find("metric = dense_e\n"), std::string::npos) << c.substr(0, 1500);
  EXPECT_NE(c.find("metric_file = " + path("diag.json") + "\n"), std::string::npos);
  EXPECT_TRUE(io::read_cmdstan_csv(path("c.csv")).dense_metric);

  r = with({"--load-metric", path("dense.json"), "--output", path("d.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path("dense.json") + ": a dense metric, but metric diag"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--metric dense"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("d.csv")));
  r = with({"--load-metric", path("dense.json"), "--metric", "dense", "--output", path("d.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(path("d.csv")).find("metric = dense_e\n"), std::string::npos);

  const auto two = write("two.stan", "parameters { real x; real y; } model { x ~ normal(0, 1); y ~ normal(0, 1); }");
  r = exmc({"sample", two, "--chains", "1", "--no-progress", "--load-metric", path("diag.json"), "--output",
            path("e.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path("diag.json") + ": the metric has dimension 10, the model 2"), std::string::npos) << r.err;
}

TEST_F(CliTest, BatchOptionsEveryFitWouldRefuseAreCommandLineErrors) {
  // They were found by each fit: every item failed --max-attempts times and the batch said
  // "0 of N done, N failed" with exit 1, after creating its output folder.
  const auto manifest = write("fits.txt", example("eight_schools.stan") + " " + example("eight_schools.data.json") + "\n");
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--adapt-delta", "1.5"},
                                              {"--sig-figs", "99"},
                                              {"--heartbeat-timeout", "-1"}}) {
    std::vector<std::string> args = {"batch", "--manifest", manifest, "--output", path("runs"), "--warmup", "20",
                                     "--draws", "10", "--seed", "1"};
    args.insert(args.end(), bad.begin(), bad.end());
    const auto r = exmc(args);
    EXPECT_EQ(r.code, 2) << bad[0] << ": " << r.err;
    EXPECT_NE(r.err.find(bad[0]), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(path("runs"))) << bad[0];
  }
}

// CLI11's NonNegativeNumber / PositiveNumber wrote the largest double in 309 digits ("Value -1
// not in range 0.000000 to 179769...") and let NaN through (--serve-linger nan then lingered NaN s).
TEST_F(CliTest, SecondsOptionsOutOfRangeNameTheOptionAndWhatIsExpected) {
  const auto manifest = write("fits.txt", example("eight_schools.stan") + " " + example("eight_schools.data.json") + "\n");
  const std::vector<std::vector<std::string>> cases = {
      {"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"), "--serve-linger", "-1"},
      {"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"), "--serve-linger", "nan"},
      {"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"), "--serve-linger", "inf"},
      {"batch", "--manifest", manifest, "--output", path("runs"), "--heartbeat-timeout", "-1"},
      {"batch", "--manifest", manifest, "--output", path("runs"), "--heartbeat-timeout", "0"}};
  for (const auto& args : cases) {
    const auto r = exmc(args);
    const std::string& option = args[args.size() - 2];
    EXPECT_EQ(r.code, 2) << option << " " << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(option + ": must be a finite number"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("got " + args.back()), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("1797693134862315"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(path("runs")));
}

// An empty value ("--serve $PORT" with PORT unset) was taken for the option left out: no
// dashboard, no metric saved or loaded, and the run went on and exited 0 without a word.
TEST_F(CliTest, SampleOptionsGivenAnEmptyValueAreRefused) {
  for (const std::string option : {"--serve", "--save-metric", "--load-metric"}) {
    const auto r = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                         "--chains", "1", "--warmup", "20", "--draws", "10", "--no-progress", "--output",
                         path("o.csv"), option, ""});
    EXPECT_EQ(r.code, 2) << option << ": " << r.err;
    EXPECT_NE(r.err.find(option + ": empty; give a value, or leave the option out"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(path("o.csv"))) << option;
  }
  // laplace --mode "" optimised first without a word, as if the option were left out.
  const auto r = exmc({"laplace", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                       "--mode", "", "--output", path("l.csv")});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--mode: empty; give a value, or leave the option out"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("l.csv")));
}

// Stan names elements from 1, and so do exmc's data messages; the transforms' and the
// distributions' messages said "at index 1" for v[2] and "(0, 1)" for a matrix's [1,2].
TEST_F(CliTest, InitAndDataElementsAreNamedFromOne) {
  const auto model = write("v.stan", "data { vector[3] y; } parameters { vector<lower=0>[3] v; matrix<lower=0>[2, 2] m; } "
                                     "model { v ~ exponential(1); to_vector(m) ~ exponential(1); y ~ normal(0, 1); }");
  const auto data = write("d.json", R"({"y": [1, 2, 3]})");
  auto r = exmc({"sample", model, "--data", data, "--chains", "1", "--no-progress", "--output", path("o.csv"),
                 "--init", write("i.json", R"({"v": [1, -1, 2], "m": [[1, 2], [3, 4]]})")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("variable 'v' (lower): value -1 at index 2 is not above the lower bound 0"), std::string::npos)
      << r.err;
  r = exmc({"sample", model, "--data", data, "--chains", "1", "--no-progress", "--output", path("o.csv"),
            "--init", write("i2.json", R"({"v": [1, 1, 2], "m": [[1, 2], [-3, 4]]})")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("variable 'm' (lower): value -3 at index [2,1] is not above"), std::string::npos) << r.err;
  r = exmc({"sample", model, "--data", write("d2.json", R"({"y": [1, 2, Infinity]})"), "--chains", "1",
            "--no-progress", "--output", path("o.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("found inf at index 3"), std::string::npos) << r.err;
}

// An init file's value of the wrong shape but the right number of elements was taken as the
// flat values: a 2x2 matrix given transposed as [[a, b], [c, d]] for matrix[2, 2] is fine, but
// [[1, 2, 3, 4]] for it, or [[..4..], [..4..]] for vector[8], or 0.5 for vector[1] passed, while
// the same in --data is refused. Refused now, naming the file, the variable and both shapes.
TEST_F(CliTest, InitValuesOfAnotherShapeAreRefusedAsDataAre) {
  const auto model = write("v.stan", "parameters { vector[4] v; matrix[2, 2] m; real s; } "
                                     "model { v ~ normal(0, 1); to_vector(m) ~ normal(0, 1); s ~ normal(0, 1); }");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"v": [[1, 2], [3, 4]]})", "variable 'v': expected shape [4], found [2,2]"},
      {R"({"m": [[1, 2, 3, 4]]})", "variable 'm': expected shape [2,2], found [1,4]"},
      {R"({"s": [1]})", "variable 's': expected a single number, found shape [1]"},
      {R"({"v": 1})", "variable 'v': expected shape [4], found a single number"}};
  for (const auto& [init, message] : cases) {
    const auto file = write("i.json", init);
    const auto r = exmc({"sample", model, "--chains", "1", "--warmup", "20", "--draws", "10", "--no-progress",
                         "--output", path("o.csv"), "--init", file});
    EXPECT_EQ(r.code, 1) << init << ": " << r.err;
    EXPECT_NE(r.err.find(file + ": " + message), std::string::npos) << init << ": " << r.err;
    EXPECT_FALSE(fs::exists(path("o.csv"))) << init;
  }
  const auto r = exmc({"sample", model, "--chains", "1", "--warmup", "20", "--draws", "10", "--no-progress", "--output",
                       path("o.csv"), "--init", write("ok.json", R"({"v": [1, 2, 3, 4], "m": [[1, 2], [3, 4]], "s": 1})")});
  EXPECT_EQ(r.code, 0) << r.err;
}

// exmc loo --log-lik NAME took any column: lp__ or a parameter gave an estimate table (with nan
// standard errors for a scalar) and exit 0, as if it were a log-likelihood.
TEST_F(CliTest, LooSaysWhenTheQuantityIsNoPointwiseLogLikelihood) {
  ASSERT_EQ(exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"), "--chains",
                  "2", "--warmup", "200", "--draws", "200", "--seed", "3", "--output", path("o.csv"), "--no-progress"})
                .code,
            0);
  const std::vector<std::string> files = {path("o_1.csv"), path("o_2.csv")};
  auto loo = [&](const std::string& name) { return exmc({"loo", files[0], files[1], "--log-lik", name}); };
  auto r = loo("log_lik");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  for (const char* sampler : {"lp__", "accept_stat__"}) {
    r = loo(sampler);
    EXPECT_EQ(r.code, 1) << sampler;
    EXPECT_NE(r.err.find(std::string("'") + sampler + "' is a column of the sampler, not a pointwise log-likelihood"),
              std::string::npos)
        << r.err;
  }
  r = loo("mu");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 'mu' is one number per draw"), std::string::npos) << r.err;
  r = loo("theta");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("exceeds the number of observations (8): 'theta' looks unlike a pointwise log-likelihood"),
            std::string::npos)
      << r.err;
}

// --adapt-delta 1 (or 0) passed the command line and was refused by the sampler after the model
// loaded, naming its field (delta (adapt_delta)) with exit 1.
TEST_F(CliTest, AdaptDeltaOutsideTheOpenIntervalIsACommandLineError) {
  for (const char* v : {"0", "1", "1.5", "-0.1"}) {
    const auto r = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                         "--adapt-delta", v, "--output", path("o.csv"), "--no-progress"});
    EXPECT_EQ(r.code, 2) << v << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("--adapt-delta: must be a number in (0, 1), 0 and 1 excluded, got ") + v),
              std::string::npos)
        << r.err;
  }
}

// Issue 13, class 4.2: a re-run with fewer chains used to leave out_3.csv beside the new
// out_1.csv, and `exmc summary out_*.csv` mixed the two runs without a word.
TEST_F(CliTest, SummaryDiagnoseAndLooRefuseChainsOfDifferentRuns) {
  const std::vector<std::string> base = {"sample", example("eight_schools.stan"), "--data",
                                         example("eight_schools.data.json"), "--chains", "2", "--warmup", "100",
                                         "--draws", "100", "--no-progress"};
  auto a = base, b = base;
  for (auto* v : {&a, &b}) v->insert(v->end(), {"--seed", v == &a ? "1" : "2", "--output"});
  a.push_back(path("a.csv"));
  b.push_back(path("b.csv"));
  ASSERT_EQ(exmc(a).code, 0);
  ASSERT_EQ(exmc(b).code, 0);
  EXPECT_NE(slurp(path("a_1.csv")).find("# exmc_run_id = "), std::string::npos);
  for (const char* cmd : {"summary", "diagnose", "loo"}) {
    const auto same = exmc({cmd, path("a_1.csv"), path("a_2.csv")});
    EXPECT_EQ(same.code, 0) << cmd << ": " << same.err;
    const auto mixed = exmc({cmd, path("a_1.csv"), path("b_2.csv")});
    EXPECT_EQ(mixed.code, 1) << cmd << ": " << mixed.out;
    EXPECT_NE(mixed.err.find(path("a_1.csv")), std::string::npos) << mixed.err;
    EXPECT_NE(mixed.err.find(path("b_2.csv")), std::string::npos) << mixed.err;
    const auto allowed = exmc({cmd, "--allow-mixed-runs", path("a_1.csv"), path("b_2.csv")});
    EXPECT_EQ(allowed.code, 0) << cmd << ": " << allowed.err;
  }
}

// Issue 13, class 4.4: --output could name the model or data file and overwrite it.
TEST_F(CliTest, OutputNamingAnInputIsRefusedAndTheInputKept) {
  const std::string model = write("m.stan", slurp(example("eight_schools.stan")));
  const std::string data = write("d.json", slurp(example("eight_schools.data.json")));
  const std::string data_text = slurp(data), model_text = slurp(model);
  fs::create_hard_link(data, path("also_d.json"));
  for (const auto& target : {data, model, path("also_d.json"), dir.string() + "/./d.json"}) {
    const auto r = exmc({"sample", model, "--data", data, "--chains", "1", "--warmup", "20", "--draws", "20",
                         "--no-progress", "--output", target});
    EXPECT_EQ(r.code, 1) << target;
    EXPECT_NE(r.err.find(target), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("refusing to overwrite"), std::string::npos) << r.err;
    const auto o = exmc({"optimize", model, "--data", data, "--output", target});
    EXPECT_EQ(o.code, 1) << target;
    EXPECT_NE(o.err.find("refusing to overwrite"), std::string::npos) << o.err;
  }
  EXPECT_EQ(slurp(data), data_text);
  EXPECT_EQ(slurp(model), model_text);
  const auto m = exmc({"sample", model, "--data", data, "--chains", "1", "--warmup", "20", "--draws", "20",
                       "--no-progress", "--save-metric", data});
  EXPECT_EQ(m.code, 1);
  EXPECT_NE(m.err.find("--save-metric"), std::string::npos) << m.err;
  EXPECT_EQ(slurp(data), data_text);
}

// Issue 13, class 4.4: an output that cannot be created (a directory) failed only after sampling.
TEST_F(CliTest, OutputThatCannotBeCreatedFailsBeforeAnythingRuns) {
  fs::create_directories(path("a_dir"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {path("a_dir"), "is a directory"}, {path("no_such_folder/out.csv"), "does not exist"}};
  for (const auto& [target, why] : cases) {
    // Several chains too: a folder as the stem wrote a_dir/_1, a_dir/_2 (or a_dir_1 ... beside it).
    for (const char* chains : {"1", "2"}) {
      for (const auto& t : {target, target + "/"}) {
        const auto r = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                             "--chains", chains, "--warmup", "20", "--draws", "20", "--no-progress", "--output", t});
        EXPECT_EQ(r.code, 1) << t << " " << chains;
        EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("model ready"), std::string::npos) << "sampled first:\n" << r.err;
      }
    }
    EXPECT_TRUE(fs::is_empty(path("a_dir")));
    EXPECT_FALSE(fs::exists(path("a_dir_1")));
    const auto o = exmc({"optimize", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                         "--output", target});
    EXPECT_EQ(o.code, 1) << target;
    EXPECT_NE(o.err.find(why), std::string::npos) << o.err;
  }
}

// Issue 13, class 4.3: a re-run removes the files under its own final names when it starts
// (CmdStan truncates its outputs then too) and says which older chain files it left alone.
TEST_F(CliTest, ReRunWithFewerChainsNamesTheStaleFiles) {
  const std::vector<std::string> base = {"sample", example("eight_schools.stan"), "--data",
                                         example("eight_schools.data.json"), "--warmup", "50",
                                         "--draws", "50", "--no-progress", "--seed", "3", "--output",
                                         path("out.csv"), "--chains"};
  auto three = base, two = base;
  three.push_back("3");
  two.push_back("2");
  ASSERT_EQ(exmc(three).code, 0);
  const auto r = exmc(two);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: " + path("out_3.csv") + " (from an earlier run"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(path("out_3.csv")));
  const auto s = exmc({"summary", path("out_1.csv"), path("out_2.csv"), path("out_3.csv")});
  EXPECT_EQ(s.code, 1);
}

// Issue 13, class 5: a --seed outside CmdStan's 0..4294967295 used to wrap silently.
TEST_F(CliTest, SampleSeedOutsideItsRangeIsAnError) {
  for (const char* seed : {"4294967296", "18446744073709551615", "-1"}) {
    const auto r = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                         "--chains", "1", "--warmup", "10", "--draws", "10", "--no-progress", "--seed", seed,
                         "--output", path("out.csv")});
    EXPECT_EQ(r.code, 2) << seed << ": " << r.err;
    EXPECT_NE(r.err.find("--seed"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(path("out.csv")));
  }
  const auto ok = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                        "--chains", "1", "--warmup", "10", "--draws", "10", "--no-progress", "--seed",
                        "4294967295", "--output", path("out.csv")});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(slurp(path("out.csv")).find("seed = 4294967295"), std::string::npos);
}

// Issue 13, class 2: zero-size parameters (vector[0], or sizes from data that are 0) crashed
// (SIGSEGV) or failed with an internal "empty Expr". As in Stan they add nothing: no coordinates,
// no columns, no density term, no initial value needed; in every transform, both backends and
// both precisions.
TEST_F(CliTest, ZeroSizeParametersAddNothingInEveryTransformBackendAndPrecision) {
  const auto model = write("zero.stan", R"(data { int N; }
parameters {
  real x;
  vector[N] v; vector<lower=0>[N] vl; vector<lower=-1, upper=1>[N] vb; vector<offset=1, multiplier=2>[N] vo;
  ordered[N] o; positive_ordered[N] po; simplex[N + 1] s;
  cholesky_factor_corr[N] L; cholesky_factor_cov[N] Lc; corr_matrix[N] C; cov_matrix[N] S;
  matrix[N, 3] m; array[N] real a; array[N] vector[2] av; vector[0] literal;
}
model { x ~ normal(sum(v) + sum(vl), 1); v ~ normal(0, 1); vl ~ exponential(1); }
generated quantities { real t = sum(v) + x; }
)");
  const auto data = write("zero.json", R"({"N": 0})");
  const auto init = write("init.json", R"({"x": 0.5, "s": [1]})");
  const char* saved = std::getenv("EXMC_BACKEND");
  const std::string saved_backend = saved ? saved : "";
  for (const char* backend : {"", "interpreter"}) {
    ::setenv("EXMC_BACKEND", backend, 1);
    for (const char* precision : {"f64", "f32"}) {
      SCOPED_TRACE(std::string("backend '") + backend + "', " + precision);
      std::ostringstream out, err;
      ASSERT_EQ(run({"sample", model, "--data", data, "--chains", "1", "--seed", "3", "--warmup", "200", "--draws",
                     "200", "--precision", precision, "--init", init, "--no-progress", "--output", path("z.csv")},
                    out, err),
                0)
          << err.str();
      const auto csv = io::parse_cmdstan_csv(slurp(path("z.csv")), "z.csv");
      std::vector<std::string> values(csv.columns.begin() + 7, csv.columns.end());
      EXPECT_EQ(values, (std::vector<std::string>{"x", "s.1", "t"}));
      ASSERT_EQ(csv.num_rows, 200u);
      // x ~ normal(0, 1) alone: its draws have mean 0 and sd 1 (200 draws: MCSE of the mean about
      // 0.1 for ESS near 100; 0.5 is five of those).
      double mean = 0;
      for (size_t r = 0; r < csv.num_rows; ++r) mean += csv.at(r, 7);
      EXPECT_NEAR(mean / double(csv.num_rows), 0.0, 0.5);
    }
  }
  if (saved) ::setenv("EXMC_BACKEND", saved_backend.c_str(), 1);
  else ::unsetenv("EXMC_BACKEND");
}

// Issue 13, class 3: bounds that leave no room (lower above upper, or equal; literals or data)
// sampled a constant and exited 0. Now an error naming the variable and its bounds, before
// anything runs; bounds that depend on parameters stay a matter for the sampler.
TEST_F(CliTest, ImpossibleBoundsAreAnErrorNamingTheVariableAndBounds) {
  struct Case {
    std::string program, data, message;
  };
  const std::vector<Case> cases = {
      {"parameters { real<lower=1, upper=0> x; }\nmodel { }\n", "", "variable 'x': its lower bound 1 is not below its upper bound 0"},
      {"parameters { real<lower=1, upper=1> x; }\nmodel { }\n", "", "variable 'x': its lower bound 1 is not below its upper bound 1"},
      {"data { real L; real U; }\nparameters { real<lower=L, upper=U> x; }\nmodel { }\n", R"({"L": 2, "U": -1})",
       "variable 'x': its lower bound 2 is not below its upper bound -1"},
      {"data { vector[3] L; }\nparameters { vector<lower=L, upper=1>[3] z; }\nmodel { }\n", R"({"L": [0, 0.5, 1]})",
       "variable 'z': its lower bound 1 is not below its upper bound 1 (element 3)"},
  };
  for (const auto& c : cases) {
    const auto model = write("b.stan", c.program);
    std::vector<std::string> args = {"sample", model, "--no-progress", "--output", path("b.csv")};
    if (!c.data.empty()) args.insert(args.end(), {"--data", write("b.json", c.data)});
    std::ostringstream out, err;
    EXPECT_EQ(run(args, out, err), 1) << c.program;
    EXPECT_NE(err.str().find(c.message), std::string::npos) << err.str();
    EXPECT_FALSE(fs::exists(path("b_1.csv")));
  }
  // Room everywhere, and a bound on a parameter: it samples.
  const auto ok = write("ok.stan", "data { vector[3] L; }\nparameters { vector<lower=L, upper=1>[3] z; real<lower=0> s;"
                                   " real<lower=s, upper=s + 1> y; }\nmodel { s ~ exponential(1); }\n");
  std::ostringstream out, err;
  EXPECT_EQ(run({"sample", ok, "--data", write("ok.json", R"({"L": [0, 0.5, 0.9]})"), "--no-progress", "--output",
                 path("ok.csv")},
                out, err),
            0)
      << err.str();
}

// Issue 13, class 5: a size of 2e9 from data is refused before anything is allocated, naming
// the variable and the memory it would take.
TEST_F(CliTest, ParameterSizeBeyondTheMachinesMemoryIsRefusedBeforeAllocating) {
  const auto model = write("big.stan", "data { int N; }\nparameters { vector[N] v; }\nmodel { v ~ normal(0, 1); }\n");
  std::ostringstream out, err;
  EXPECT_EQ(run({"sample", model, "--data", write("big.json", R"({"N": 2000000000})"), "--no-progress", "--output",
                 path("big.csv")},
                out, err),
            1);
  EXPECT_NE(err.str().find("variable 'v': 2000000000 elements"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("GB of memory; check the sizes in the data"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace exmc::cli
