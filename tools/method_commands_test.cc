// exmc optimize | laplace | pathfinder | variational | smc end to end: analytic answers through the
// command, CmdStan's columns, generated quantities, and `exmc summary` on the files.
#include <gtest/gtest.h>

#include "../tests/support/prerequisite.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "cli_test_support.hpp"
#include "exmc/analysis/cmdstan.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::cli {
namespace {

// Normal data with an unknown mean and scale and no priors: the penalised MLE (no Jacobian) is
// mean(y), sqrt(S / N); with the Jacobian of sigma's log transform the mode is sqrt(S / (N - 1)).
const char* kNormalProgram = R"(data {
  int<lower=1> N;
  vector[N] y;
}
parameters {
  real mu;
  real<lower=0> sigma;
}
model {
  y ~ normal(mu, sigma);
}
generated quantities {
  real z = (y[1] - mu) / sigma;
}
)";
const std::vector<double> kY = {1.2, -0.3, 2.5, 0.8, 1.9, 0.1, 1.4, 2.2};
const char* kNormalData = R"({"N": 8, "y": [1.2, -0.3, 2.5, 0.8, 1.9, 0.1, 1.4, 2.2]})";

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }
double sd_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}
std::vector<double> column(const io::CmdStanCsv& c, const std::string& name) {
  const long j = c.column(name);
  EXPECT_GE(j, 0) << name;
  std::vector<double> v;
  for (size_t r = 0; j >= 0 && r < c.num_rows; ++r) v.push_back(c.at(r, size_t(j)));
  return v;
}

struct Moments {
  double ybar = 0, s = 0;  // mean and sum of squared deviations of kY
  Moments() {
    ybar = mean_of(kY);
    for (double y : kY) s += (y - ybar) * (y - ybar);
  }
};

TEST_F(CliTest, OptimizeFindsThePenalisedMleAndWithJacobianTheMap) {
  const auto model = write("normal.stan", kNormalProgram);
  const auto data = write("normal.json", kNormalData);
  const Moments m;
  const double n = double(kY.size());
  for (const bool jacobian : {false, true}) {
    for (const char* algorithm : {"lbfgs", "newton"}) {
      // Stan's default relative-gradient test (g' H^-1 g < 1e7 eps |lp|, |lp| ~ 11, curvature ~ 8)
      // stops within ~5e-5 of the mode; 100 eps brings that under 1e-6.
      std::vector<std::string> args = {"optimize", model, "--data", data, "--seed", "4", "--algorithm", algorithm,
                                       "--tol-rel-grad", "100", "--tol-rel-obj", "1",
                                       "--sig-figs", "12", "--output", path("mode.csv")};
      if (jacobian) args.push_back("--jacobian");
      const auto r = exmc(args);
      ASSERT_EQ(r.code, 0) << r.err;
      const auto c = io::read_cmdstan_csv(path("mode.csv"));
      ASSERT_EQ(c.num_rows, 1u);
      EXPECT_EQ(c.config.at("method"), "optimize");
      EXPECT_EQ(c.config.at("jacobian"), jacobian ? "1" : "0");
      const double sigma = std::sqrt(m.s / (jacobian ? n - 1 : n));
      EXPECT_NEAR(c.at(0, size_t(c.column("mu"))), m.ybar, 1e-6) << algorithm;
      EXPECT_NEAR(c.at(0, size_t(c.column("sigma"))), sigma, 1e-6) << algorithm;
      // lp__ keeps every constant: the normal log likelihood at the mode (+ log sigma with the Jacobian).
      double lp = -0.5 * n * std::log(2 * M_PI) - n * std::log(sigma) - m.s / (2 * sigma * sigma);
      if (jacobian) lp += std::log(sigma);
      EXPECT_NEAR(c.at(0, size_t(c.column("lp__"))), lp, 1e-8) << algorithm;
      // Generated quantities are evaluated at the mode.
      EXPECT_NEAR(c.at(0, size_t(c.column("z"))), (kY[0] - m.ybar) / sigma, 1e-6);
    }
  }
}

TEST_F(CliTest, OptimizeWithStansDefaultTolerancesStopsWithinTheirReach) {
  const auto model = write("normal.stan", kNormalProgram);
  const auto data = write("normal.json", kNormalData);
  const auto r = exmc({"optimize", model, "--data", data, "--jacobian", "--seed", "4", "--sig-figs", "12",
                       "--output", path("mode.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("Convergence detected"), std::string::npos) << r.err;
  const Moments m;
  const auto c = io::read_cmdstan_csv(path("mode.csv"));
  // sqrt(1e7 eps |lp| / smallest curvature) = sqrt(2.2e-9 * 11 / 8) ~ 5.5e-5.
  EXPECT_NEAR(c.at(0, size_t(c.column("mu"))), m.ybar, 1e-4);
  EXPECT_NEAR(c.at(0, size_t(c.column("sigma"))), std::sqrt(m.s / double(kY.size() - 1)), 1e-4);
}

// The tolerance flags reach Newton as well as L-BFGS: an absolute tolerance no change can beat
// stops either after its first step, with that test's message.
TEST_F(CliTest, OptimizeToleranceFlagsReachBothAlgorithms) {
  const auto model = write("normal.stan", kNormalProgram);
  const auto data = write("normal.json", kNormalData);
  for (const char* algorithm : {"lbfgs", "newton"}) {
    const auto r = exmc({"optimize", model, "--data", data, "--seed", "4", "--algorithm", algorithm, "--tol-obj",
                         "1e300", "--output", path("mode.csv")});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("absolute change in objective function was below tolerance (1 iterations"),
              std::string::npos)
        << algorithm << ": " << r.err;
  }
}

TEST_F(CliTest, LaplaceOfAGaussianIsExactAndItsDrawsHaveTheRightMoments) {
  const auto model = write("g.stan", kGaussianProgram);
  const auto r = exmc({"laplace", model, "--seed", "9", "--draws", "4000", "--output", path("l.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto c = io::read_cmdstan_csv(path("l.csv"));
  ASSERT_EQ(c.num_rows, 4000u);
  EXPECT_EQ(c.config.at("method"), "laplace");
  const auto lp = column(c, "log_p__"), lg = column(c, "log_g__"), mu = column(c, "mu");
  // The target is itself normalised and normal: both log densities agree at every draw (to the
  // six significant digits written).
  for (size_t i = 0; i < lp.size(); ++i) ASSERT_NEAR(lp[i], lg[i], 1e-5 * std::fabs(lp[i]) + 1e-6);
  EXPECT_NEAR(mean_of(mu), 1.0, 4 * 2.0 / std::sqrt(4000.0));
  EXPECT_NEAR(sd_of(mu), 2.0, 4 * 2.0 / std::sqrt(2 * 4000.0));
  const auto s = exmc({"summary", path("l.csv")});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("mu"), std::string::npos);
}

TEST_F(CliTest, LaplaceAroundAGivenModeFile) {
  const auto model = write("normal.stan", kNormalProgram);
  const auto data = write("normal.json", kNormalData);
  ASSERT_EQ(exmc({"optimize", model, "--data", data, "--jacobian", "--seed", "2", "--output", path("m.csv")}).code, 0);
  const auto r = exmc({"laplace", model, "--data", data, "--mode", path("m.csv"), "--seed", "2", "--draws", "200",
                       "--output", path("l.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto c = io::read_cmdstan_csv(path("l.csv"));
  EXPECT_EQ(c.num_rows, 200u);
  EXPECT_EQ(c.config.at("mode"), path("m.csv"));
  for (double s : column(c, "sigma")) ASSERT_GT(s, 0);
}

// A CSV that is no mode of laplace's density is refused, naming why: it read the first row of
// any CmdStan CSV (a NUTS draw) and the penalised MLE of a plain `exmc optimize` run (laplace
// keeps the Jacobian, optimize leaves it out by default) as the mode, and exited 0.
TEST_F(CliTest, LaplaceRefusesAModeFileThatIsNotItsMode) {
  const auto model = write("normal.stan", kNormalProgram);
  const auto data = write("normal.json", kNormalData);
  auto laplace = [&](const std::string& mode, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"laplace", model, "--data", data, "--mode", mode, "--seed", "2",
                                      "--draws", "20", "--output", path("l.csv")};
    args.insert(args.end(), extra.begin(), extra.end());
    return exmc(args);
  };
  ASSERT_EQ(exmc({"sample", model, "--data", data, "--chains", "1", "--warmup", "20", "--draws", "5", "--seed", "2",
                  "--no-progress", "--output", path("s.csv")}).code, 0);
  auto r = laplace(path("s.csv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("the output of method sample, not of optimize"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("l.csv")));

  ASSERT_EQ(exmc({"optimize", model, "--data", data, "--seed", "2", "--output", path("m.csv")}).code, 0);
  r = laplace(path("m.csv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("optimized with jacobian = 0, but laplace keeps the Jacobian"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("l.csv")));
  EXPECT_EQ(laplace(path("m.csv"), {"--no-jacobian"}).code, 0);  // the matching density

  write("rows.csv", "mu,sigma\n0.5,1\n0.7,2\n");
  r = laplace(path("rows.csv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("2 rows and no '# method = optimize' line"), std::string::npos) << r.err;
}

TEST_F(CliTest, PathfinderDrawsOfAGaussianHaveTheRightMoments) {
  const auto model = write("g.stan", kGaussianProgram);
  const auto r = exmc({"pathfinder", model, "--seed", "5", "--output", path("p.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto c = io::read_cmdstan_csv(path("p.csv"));
  EXPECT_EQ(c.config.at("method"), "pathfinder");
  ASSERT_EQ(c.num_rows, 1000u);
  ASSERT_EQ(c.columns[0], "lp_approx__");
  ASSERT_EQ(c.columns[1], "lp__");
  const auto mu = column(c, "mu");
  // Resampled with replacement from 4000 draws: duplicates make the effective size at most 1000.
  EXPECT_NEAR(mean_of(mu), 1.0, 4 * 2.0 / std::sqrt(1000.0 * 0.6));
  EXPECT_NEAR(sd_of(mu), 2.0, 4 * 2.0 / std::sqrt(2 * 1000.0 * 0.6));
}

TEST_F(CliTest, VariationalWritesTheMeanRowThenDraws) {
  const auto model = write("normal.stan", kNormalProgram);
  const auto data = write("normal.json", kNormalData);
  for (const char* algorithm : {"meanfield", "fullrank"}) {
    const auto r = exmc({"variational", model, "--data", data, "--algorithm", algorithm, "--seed", "3", "--output",
                         path("v.csv")});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto c = io::read_cmdstan_csv(path("v.csv"));
    EXPECT_EQ(c.config.at("method"), "variational");
    EXPECT_EQ(c.config.at("algorithm"), algorithm);
    ASSERT_EQ(c.num_rows, 1000u);
    ASSERT_EQ(c.approximation_mean.size(), c.columns.size());
    for (double v : column(c, "lp__")) ASSERT_EQ(v, 0.0);
    for (double v : column(c, "log_p__")) ASSERT_TRUE(std::isfinite(v));
    // The posterior of mu is centred at mean(y) with sd about sigma / sqrt(N) ~ 0.3; ADVI's mean
    // must be within one posterior sd of it.
    const Moments m;
    EXPECT_NEAR(c.approximation_mean[size_t(c.column("mu"))], m.ybar, 0.35) << algorithm;
  }
}

TEST_F(CliTest, SmcEstimatesTheLogEvidenceOfAConjugateModel) {
  // mu ~ normal(0, 2), y_i ~ normal(mu, 1): y ~ MVN(0, I + 4 11'), so
  // log Z = -N/2 log 2pi - 1/2 log(1 + 4N) - 1/2 (y'y - 4 (sum y)^2 / (1 + 4N)).
  const auto model = write("nn.stan",
                           "data {\n  int N;\n  vector[N] y;\n}\nparameters {\n  real mu;\n}\n"
                           "model {\n  mu ~ normal(0, 2);\n  y ~ normal(mu, 1);\n}\n");
  const auto data = write("normal.json", kNormalData);
  const auto r = exmc({"smc", model, "--data", data, "--seed", "8", "--runs", "4", "--particles", "1000",
                       "--output", path("s.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  const double n = double(kY.size());
  double yy = 0, sy = 0;
  for (double y : kY) yy += y * y, sy += y;
  const double truth = -0.5 * n * std::log(2 * M_PI) - 0.5 * std::log(1 + 4 * n) - 0.5 * (yy - 4 * sy * sy / (1 + 4 * n));
  const auto c = io::read_cmdstan_csv(path("s.csv"));
  EXPECT_EQ(c.config.at("method"), "smc");
  const double est = std::stod(c.config.at("exmc_log_marginal_likelihood"));
  const double se = std::stod(c.config.at("exmc_log_marginal_likelihood_se"));
  EXPECT_GT(se, 0);
  EXPECT_LT(std::fabs(est - truth), 4 * se + 1e-3) << "estimate " << est << " se " << se << " truth " << truth;
  EXPECT_NE(r.err.find("log marginal likelihood"), std::string::npos) << r.err;
  // A line per tempering stage, the last at beta 1; none with --no-progress.
  EXPECT_NE(r.err.find("exmc smc: stage 1: beta "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(": beta 1, "), std::string::npos) << r.err;
  const auto quiet = exmc({"smc", model, "--data", data, "--seed", "8", "--particles", "200", "--no-progress",
                           "--output", path("q.csv")});
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("stage 1:"), std::string::npos) << quiet.err;
  // Posterior of mu: normal with precision 1/4 + N, mean sum(y) / (1/4 + N).
  const double prec = 0.25 + n, post_mean = sy / prec, post_sd = 1 / std::sqrt(prec);
  const auto mu = column(c, "mu");
  EXPECT_NEAR(mean_of(mu), post_mean, 4 * post_sd / std::sqrt(1000.0 * 0.5));
}

TEST_F(CliTest, SampleInitPathfinderStartsChainsAtPathfinderDraws) {
  const auto r = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                       "--init", "pathfinder", "--chains", "2", "--warmup", "200", "--draws", "200", "--seed", "6",
                       "--output", path("s.csv"), "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("--init pathfinder: 4 paths"), std::string::npos) << r.err;
  const auto c = io::read_cmdstan_csv(path("s_1.csv"));
  EXPECT_EQ(c.config.at("init"), "pathfinder");
  EXPECT_EQ(c.num_rows, 200u);
  // Same seed, same run: Pathfinder is part of the run's pure function of the seed.
  const auto again = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                           "--init", "pathfinder", "--chains", "2", "--warmup", "200", "--draws", "200", "--seed",
                           "6", "--output", path("t.csv"), "--no-progress"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(data_lines(path("s_2.csv")), data_lines(path("t_2.csv")));
  const auto metric = write("m.json", R"({"stepsize": 0.5, "metric": "diag_e", "inv_metric": [1,1,1,1,1,1,1,1,1,1]})");
  const auto both = exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                          "--init", "pathfinder", "--load-metric", metric, "--no-progress", "--output", path("u.csv")});
  EXPECT_EQ(both.code, 1);
  EXPECT_NE(both.err.find("both set the initial metric"), std::string::npos) << both.err;
}

TEST_F(CliTest, InitFileNamesThatMatchNoParameterAreNamedInAWarning) {
  const auto model = write("normal.stan", kNormalProgram);
  const auto data = write("normal.json", kNormalData);
  const auto init = write("init.json", R"({"mu": 1, "sigma": 2, "sigmaa": 3})");
  auto r = exmc({"optimize", model, "--data", data, "--init", init, "--output", path("o.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: --init " + init + ": 'sigmaa' matches no parameter"), std::string::npos) << r.err;
  r = exmc({"sample", model, "--data", data, "--init", init, "--chains", "1", "--warmup", "20", "--draws", "20",
            "--no-progress", "--output", path("s.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("'sigmaa' matches no parameter"), std::string::npos) << r.err;
  const auto ok = write("ok.json", R"({"mu": 1, "sigma": 2})");
  r = exmc({"variational", model, "--data", data, "--init", ok, "--output", path("v.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("matches no parameter"), std::string::npos) << r.err;
}

// exmc plot hands its arguments to the Python package (python3 -m exmc plot) built beside it.
TEST_F(CliTest, PlotWritesAPngThroughThePythonPackage) {
  if (!fs::exists(std::string(EXMC_BINARY_DIR) + "/python/exmc/__main__.py")) {
    if (std::getenv("CI")) FAIL() << "the Python package was not built";
    EXMC_SKIP_UNLESS_CI() << "no Python package in the build";
  }
  ASSERT_EQ(exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"), "--chains",
                  "2", "--warmup", "100", "--draws", "100", "--seed", "3", "--output", path("s.csv"), "--no-progress"})
                .code,
            0);
  const auto r = exmc({"plot", path("s_1.csv"), path("s_2.csv"), "--kind", "rank", "--vars", "mu,tau", "-o",
                       path("rank.png")});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string png = slurp(path("rank.png"));
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(exmc({"plot", path("s_1.csv"), "--kind", "histogram", "-o", path("x.png")}).code, 0);
}

// Without the Python package built (scripts/example builds only the exmc target) the command
// says what to build, where Python said "No module named exmc".
TEST_F(CliTest, PlotWithoutThePythonPackageSaysWhatToBuild) {
  const auto empty = dir / "no_package";
  fs::create_directories(empty / "exmc");
  std::ofstream(empty / "exmc" / "__main__.py") << "";
  ::setenv("EXMC_PYTHON_DIR", empty.c_str(), 1);
  const auto r = exmc({"plot", path("none.csv"), "-o", path("x.png")});
  fs::remove(empty / "exmc" / "__main__.py");
  const auto r2 = exmc({"plot", path("none.csv"), "-o", path("x.png")});
  ::unsetenv("EXMC_PYTHON_DIR");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("lacks its compiled module (_exmc*.so): build it with `cmake --build build --target _exmc`"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r2.code, 1);
  EXPECT_NE(r2.err.find("exmc lacks its files"), std::string::npos) << r2.err;
  EXPECT_FALSE(fs::exists(path("x.png")));
}

TEST_F(CliTest, MethodCommandsReportBadInputLikeSample) {
  auto r = exmc({"optimize", path("missing.stan")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.stan"), std::string::npos) << r.err;
  EXPECT_EQ(exmc({"variational", "x.stan", "--algorithm", "exact"}).code, 2);
  EXPECT_EQ(exmc({"smc", "x.stan", "--kernel", "gibbs"}).code, 2);
  const auto model = write("g.stan", kGaussianProgram);
  r = exmc({"laplace", model, "--mode", path("nope.json"), "--output", path("l.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nope.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("l.csv")));
  // Out-of-range engine options are command-line errors naming the option typed, not the
  // engine's field ("AdviOptions.iter must be >= 1", "pathfinder option num_psis_draws = 0").
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"variational", "--iter", "0"}, {"variational", "--eta", "-1"},
        {"pathfinder", "--draws", "0"}, {"pathfinder", "--num-paths", "-1"}, {"smc", "--particles", "1"},
        {"smc", "--target-ess", "2"}, {"smc", "--reference-scale", "0"}, {"optimize", "--tol-rel-grad", "-1"},
        {"optimize", "--init-alpha", "0"}}) {
    r = exmc({bad[0], model, bad[1], bad[2], "--output", path("o.csv")});
    EXPECT_EQ(r.code, 2) << bad[0] << " " << bad[1] << ": " << r.err;
    EXPECT_NE(r.err.find(bad[1]), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(path("o.csv")));
  }
  const auto h = exmc({"pathfinder", "--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--num-paths"), std::string::npos);
}

// `laplace --mode m.csv --output m.csv` read the mode, then wrote its draws over it and exited 0:
// the mode file, an input like the model and the data, was gone.
TEST_F(CliTest, LaplaceRefusesAnOutputThatIsItsModeFile) {
  const auto model = write("g.stan", kGaussianProgram);
  ASSERT_EQ(exmc({"optimize", model, "--jacobian", "--seed", "1", "--output", path("m.csv")}).code, 0);
  const std::string before = slurp(path("m.csv"));
  const auto r = exmc({"laplace", model, "--mode", path("m.csv"), "--seed", "1", "--draws", "5", "--output",
                       path("m.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "exmc laplace: error: --output " + path("m.csv") + " is the mode file " + path("m.csv") +
                       ": refusing to overwrite an input\n");
  EXPECT_EQ(slurp(path("m.csv")), before);
}

// Counts past what fits in memory: `variational --draws -1` was read as 2^64 - 1 and ended in the
// standard library's "vector::reserve"; huge --draws, --particles and --num-paths compiled the model
// and then said "out of memory: a size in the program or its data may be larger than meant",
// blaming the program. Now they are command-line errors naming the option (exit 2, no file).
TEST_F(CliTest, MethodCountOptionsOutOfRangeAreCommandLineErrors) {
  const auto model = write("g.stan", kGaussianProgram);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"variational", "--draws", "-1"}, {"variational", "--draws", "99999999999"},
        {"pathfinder", "--draws", "1000000000"}, {"pathfinder", "--num-paths", "1000000000"},
        {"pathfinder", "--single-path-draws", "1000000000"}, {"pathfinder", "--elbo-draws", "1000000000"},
        {"smc", "--particles", "4294967295"}, {"laplace", "--draws", "1000000000"}}) {
    const auto r = exmc({bad[0], model, bad[1], bad[2], "--output", path("o.csv")});
    EXPECT_EQ(r.code, 2) << bad[0] << " " << bad[1] << " " << bad[2] << ": " << r.err;
    EXPECT_EQ(r.err.rfind(bad[1] + ": Value " + bad[2] + " not in range", 0), 0u) << r.err;
    EXPECT_FALSE(fs::exists(path("o.csv")));
  }
  // variational --draws 0 stays allowed (CmdStan's output_draws = 0: the mean row only).
  EXPECT_EQ(exmc({"variational", model, "--draws", "0", "--seed", "1", "--output", path("v.csv")}).code, 0);
}

// A program without parameters: laplace died of SIGFPE inside Eigen (a product of 0-wide
// matrices); pathfinder, variational and smc named their engines' internals ("advi: the log
// density has no parameters (dim() == 0)").
TEST_F(CliTest, ApproximationsOfAProgramWithoutParametersAreRefusedInWords) {
  const auto model = write("gq.stan", "generated quantities {\n  real y = normal_rng(0, 1);\n}\n");
  for (const char* method : {"laplace", "pathfinder", "variational", "smc"}) {
    const auto r = exmc({method, model, "--seed", "1", "--output", path("o.csv")});
    EXPECT_EQ(r.code, 1) << method;
    EXPECT_EQ(r.err, std::string("exmc ") + method +
                         ": error: gq has no parameters: there is nothing to approximate (its generated quantities "
                         "need no fit: sample runs them with the fixed_param sampler)\n");
    EXPECT_FALSE(fs::exists(path("o.csv")));
  }
}

// A program with data, run without --data: the message began "<json>: error:", naming an
// internal placeholder where the trouble was that no data file was given.
TEST_F(CliTest, AProgramWithDataRunWithoutDataSaysNoneWasGiven) {
  const auto model = write("normal.stan", kNormalProgram);
  for (const char* method : {"optimize", "pathfinder"}) {
    const auto r = exmc({method, model, "--output", path("o.csv")});
    EXPECT_EQ(r.code, 1) << method;
    EXPECT_EQ(r.err, "no data given: error: data variable 'N' (declared at " + model +
                         ":2:3) is missing from the data\n");
  }
}

// The Hessian's failures named the engine's functions ("hessian: the log density or its gradient is
// not finite at the given point", "laplace_approximation: the Hessian at the mode is not negative
// definite") and not the mode: the --mode file, or the optimum laplace found itself.
TEST_F(CliTest, LaplaceNamesTheModeItsHessianFailedAt) {
  const auto model = write("g.stan", kGaussianProgram);
  const auto far = write("far.json", R"({"mu": 1e308})");
  auto r = exmc({"laplace", model, "--mode", far, "--seed", "1", "--output", path("l.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "exmc laplace: error: --mode " + far + ": the log density or its gradient is not finite at the "
                                                          "point\n");
  const auto flat = write("flat.stan", "parameters {\n  real x;\n}\nmodel {\n  target += x;\n}\n");
  r = exmc({"laplace", flat, "--seed", "1", "--output", path("l.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("exmc laplace: error: the mode found by optimization: the Hessian at the mode is not negative "
                        "definite (coordinate 1 'x' dominates",
                        0),
            0u)
      << r.err;
  EXPECT_FALSE(fs::exists(path("l.csv")));
}

// A directory given as the model was read as an empty program: optimize wrote lp__ = 0 and
// exited 0.
TEST_F(CliTest, ADirectoryGivenAsTheModelIsRefused) {
  fs::create_directories(dir / "models");
  for (const char* method : {"optimize", "pathfinder"}) {
    const auto r = exmc({method, path("models"), "--output", path("o.csv")});
    EXPECT_EQ(r.code, 1) << method;
    EXPECT_EQ(r.err, path("models") + ": error: cannot read the model file (a directory, not a file)\n");
    EXPECT_FALSE(fs::exists(path("o.csv")));
  }
}

}  // namespace
}  // namespace exmc::cli
