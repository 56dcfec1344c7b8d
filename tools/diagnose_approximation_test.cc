// exmc diagnose on the files of variational, laplace, pathfinder and optimize: the approximation's
// Pareto k, not R-hat and ESS of draws that are independent by construction. And what summary,
// diagnose and loo say of the files themselves (one named twice, one cut short).
#include <string>

#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

TEST_F(CliTest, DiagnoseChecksAnApproximationByItsParetoK) {
  // A normal posterior: its Laplace approximation is exact. Two coordinates correlated 0.999:
  // mean-field ADVI makes q 0.002 times as wide as p along the diagonal (k near 1 in theory),
  // and diagnose says so where R-hat and ESS of the draws said "no problems".
  const auto normal = write("normal.stan", "parameters { real mu; }\nmodel { mu ~ normal(1, 2); }\n");
  ASSERT_EQ(exmc({"optimize", normal, "--jacobian", "--output", path("mode.csv"), "--seed", "1"}).code, 0);
  ASSERT_EQ(exmc({"laplace", normal, "--mode", path("mode.csv"), "--output", path("laplace.csv"), "--seed", "1"}).code,
            0);
  const auto exact = exmc({"diagnose", path("laplace.csv")});
  ASSERT_EQ(exact.code, 0) << exact.err;
  EXPECT_NE(exact.out.find("draws of an approximation (method = laplace)"), std::string::npos) << exact.out;
  EXPECT_NE(exact.out.find("equal within the rounding of the numbers written"), std::string::npos) << exact.out;
  EXPECT_NE(exact.out.find("no problems detected"), std::string::npos) << exact.out;

  const auto corr = write("corr.stan", "data { matrix[2, 2] S; }\nparameters { vector[2] x; }\n"
                                       "model { x ~ multi_normal(rep_vector(0, 2), S); }\n");
  const auto data = write("corr.json", R"({"S": [[1, 0.999], [0.999, 1]]})");
  const auto vb = exmc({"variational", corr, "--data", data, "--output", path("vb.csv"), "--seed", "1", "--draws",
                        "4000"});
  ASSERT_EQ(vb.code, 0) << vb.err;
  const auto poor = exmc({"diagnose", path("vb.csv")});
  ASSERT_EQ(poor.code, 0) << poor.err;
  EXPECT_NE(poor.out.find("is above 0.7: the approximation is poor"), std::string::npos) << poor.out;
  EXPECT_EQ(poor.out.find("no problems detected"), std::string::npos) << poor.out;
  // summary leaves out variational's lp__, 0 in every row.
  const auto s = exmc({"summary", path("vb.csv")});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out.find("lp__"), std::string::npos) << s.out;

  const auto opt = exmc({"diagnose", path("mode.csv")});
  EXPECT_EQ(opt.code, 1);
  EXPECT_NE(opt.err.find("mode.csv: method = optimize: one point (the mode), not draws"), std::string::npos)
      << opt.err;
  // log_prob's points with their gradients are no draws either: diagnose printed R-hat and ESS of
  // the g_ columns and "the chains have not mixed", exit 0.
  ASSERT_EQ(exmc({"log_prob", normal, "--constrained-params", path("laplace.csv"), "--output", path("lp.csv")}).code,
            0);
  const auto lp = exmc({"diagnose", path("lp.csv")});
  EXPECT_EQ(lp.code, 1);
  EXPECT_EQ(lp.out, "");
  EXPECT_NE(lp.err.find("lp.csv: method = log_prob: the log density and its gradient at given points, not draws"),
            std::string::npos)
      << lp.err;
}

// The analysis commands print read_cmdstan_run's warnings and refuse a file named twice.
TEST_F(CliTest, AnalysisCommandsWarnOfAFileCutShortAndRefuseAFileGivenTwice) {
  std::string text = "# method = sample (Default)\n#   sample\n#     num_samples = 50\n"
                     "lp__,accept_stat__,log_lik.1,log_lik.2\n";
  for (int i = 0; i < 12; ++i) text += "-1,0.9," + std::to_string(-1 - 0.1 * (i % 5)) + ",-2\n";
  const auto cut = write("cut.csv", text);
  const std::string warning = ": warning: " + cut + ": 12 draws, but its header says num_samples = 50, so 50 were "
                              "to come: the file looks cut short (a run still writing it, or a copy stopped "
                              "part-way); only the 12 draws it has are used\n";
  for (const char* command : {"summary", "diagnose", "loo"}) {
    const auto r = exmc({command, cut});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.rfind(std::string("exmc ") + command + warning, 0), 0u) << r.err;
  }
  const auto twice = exmc({"summary", cut, cut});
  EXPECT_EQ(twice.code, 1);
  EXPECT_EQ(twice.err, "exmc summary: error: " + cut + " is given twice (files 1 and 2); each file is one chain, "
                       "and a chain read twice makes R-hat and the effective sample size look better than they are\n");
}

// An unbounded density (target += x): L-BFGS "converged" at x = 3.3e32 by its relative tests and
// optimize exited 0 with that as the mode; pathfinder's draws all sat there, their importance
// ratios equal (k = -inf), and diagnose said "the approximation is close to the posterior ...
// no problems detected". Each method now warns, and diagnose checks the scale of the draws.
TEST_F(CliTest, AnUnboundedDensityIsWarnedOfByTheMethodsAndByDiagnose) {
  const auto model = write("unbounded.stan", "parameters {\n  real x;\n}\nmodel {\n  target += x;\n}\n");
  for (const char* method : {"optimize", "pathfinder", "variational"}) {
    const auto r = exmc({method, model, "--seed", "1", "--output", path(std::string(method) + ".csv")});
    ASSERT_EQ(r.code, 0) << method << ": " << r.err;
    const size_t at = r.err.find(std::string("exmc ") + method + ": warning: x (");
    ASSERT_NE(at, std::string::npos) << r.err;
    EXPECT_NE(r.err.find(") reaches beyond 1e+30 in magnitude, toward the floating-point range: the density is "
                         "probably unbounded (an improper posterior: a parameter without a proper prior that the "
                         "data do not identify), and these values describe no mode or distribution. Give every "
                         "parameter a proper prior (or constrain it)\n",
                         at),
              std::string::npos)
        << r.err;
  }
  const auto d = exmc({"diagnose", path("pathfinder.csv")});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("Checking the scale of the draws.\nThese quantities have draws beyond 1e+30 in magnitude, "
                       "toward the floating-point range:\n  x: largest magnitude "),
            std::string::npos)
      << d.out;
  EXPECT_NE(d.out.find("say nothing of the approximation far out in an unbounded density.\n"), std::string::npos)
      << d.out;
  EXPECT_EQ(d.out.find("close to the posterior"), std::string::npos) << d.out;
  EXPECT_EQ(d.out.find("no problems detected"), std::string::npos) << d.out;
  // A proper posterior: no such warning.
  const auto normal = write("normal.stan", "parameters { real mu; }\nmodel { mu ~ normal(1, 2); }\n");
  const auto ok = exmc({"pathfinder", normal, "--seed", "1", "--output", path("ok.csv")});
  EXPECT_EQ(ok.err.find("floating-point range"), std::string::npos) << ok.err;
}

// A scale fitted to one observation with no prior: the likelihood grows without end as s -> 0,
// and L-BFGS stopped at s = 1.4e-87 (the log transform's clamp flattening the gradient), lp__
// 199, "converged", exit 0 without a word (helper 30's finding). The mode's coordinate pressed
// against its bound is warned of; a likelihood bounded at its bound (5 successes of 5: the MLE
// p = 1) and a location far from 0 (identity transform) are not.
TEST_F(CliTest, AModePressedAgainstABoundIsWarnedOf) {
  const auto model = write("scale.stan", "data { real y; }\nparameters { real mu; real<lower=0> s; }\n"
                                         "model { y ~ normal(mu, s); }\n");
  const auto data = write("scale.json", R"({"y": 1.5})");
  auto r = exmc({"optimize", model, "--data", data, "--seed", "1", "--output", path("scale.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("exmc optimize: warning: 's' = "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(") is pressed against its bound: the density keeps growing toward it (an improper or "
                       "degenerate posterior"),
            std::string::npos)
      << r.err;
  const auto binomial = write("bin.stan", "data { int n; int N; }\nparameters { real<lower=0, upper=1> p; }\n"
                                          "model { n ~ binomial(N, p); }\n");
  r = exmc({"optimize", binomial, "--data", write("bin.json", R"({"n": 5, "N": 5})"), "--seed", "1", "--output",
            path("bin.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("pressed against"), std::string::npos) << r.err;
  const auto far = write("far.stan", "parameters { real mu; }\nmodel { mu ~ normal(500, 1); }\n");
  r = exmc({"optimize", far, "--seed", "1", "--output", path("far.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("pressed against"), std::string::npos) << r.err;
  // A finite maximum on the boundary, which is the answer (posteriordb's Mtbh: sigma ~ uniform(0,
  // 3) ended at 3, unconstrained 219, and was called an improper posterior): exponential(1)'s
  // density (no Jacobian, optimize's default) is highest at s = 0, and finite there. Started at
  // s = 1e-60 (unconstrained -138), the ascent stops at once. Said as a note, not warned of.
  const auto expo = write("expo.stan", "parameters { real<lower=0> s; }\nmodel { s ~ exponential(1); }\n");
  r = exmc({"optimize", expo, "--init", write("expo_init.json", R"({"s": 1e-60})"), "--seed", "1", "--output",
            path("expo.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exmc optimize: 's' = 1e-60 (unconstrained -138.2) lies on its bound: the density is highest "
                       "at the edge of the support and finite there"),
            std::string::npos)
      << r.err;
}

// The centred eight schools has no mode: with every theta at mu, log p grows like -8 log tau as
// tau -> 0. L-BFGS stopped at tau = 1.2e-16 (unconstrained -36.6), lp__ 246, and said
// "Convergence detected" with no warning (helper 41's finding), because the theta directions'
// curvature 1/tau^2 shrank its steps below tol_obj. Seed 1 stops with log p still rising by 1.45
// per unit of log tau; seed 13 at the rounding floor, where that gradient entry is noise (+0.7)
// and the gradient's norm 2.2e16. Both now say "did not converge" instead. A mode far out that is
// a mode is not warned of: a scale of 4.4e-7 fitted to data in millionths (log s = -14.6), and a
// binomial's 50 of 50 with a flat prior (the MLE p = 1: bounded, its gradient fading like e^-x).
TEST_F(CliTest, OptimizeSaysItDidNotConvergeWhenAScaleRunsToItsBound) {
  const auto model = write("es.stan",
                           "data { int<lower=0> J; vector[J] y; vector<lower=0>[J] sigma; }\n"
                           "parameters { real mu; real<lower=0> tau; vector[J] theta; }\n"
                           "model { mu ~ normal(0, 5); tau ~ normal(0, 5); theta ~ normal(mu, tau);\n"
                           "  y ~ normal(theta, sigma); }\n");
  const auto data = write("es.json", R"({"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12],
                                         "sigma": [15, 10, 16, 11, 9, 11, 10, 18]})");
  for (const char* seed : {"1", "13"}) {
    const auto r = exmc({"optimize", model, "--data", data, "--seed", seed, "--output", path("es.csv")});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("exmc optimize: warning: did not converge: the optimizer stopped after "), std::string::npos)
        << seed << r.err;
    EXPECT_NE(r.err.find("with 'tau' = "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("still driven toward its bound: the log density grows without end there"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("exmc optimize: Convergence detected"), std::string::npos) << r.err;
  }
  const auto tiny = write("tiny.stan", "data { int N; vector[N] y; }\nparameters { real mu; real<lower=0> s; }\n"
                                       "model { y ~ normal(mu, s); }\n");
  const auto tiny_data = write("tiny.json", R"({"N": 5, "y": [1.0e-6, 2.0e-6, 1.5e-6, 0.7e-6, 1.2e-6]})");
  const auto binomial = write("bin.stan", "data { int n; int N; }\nparameters { real<lower=0, upper=1> p; }\n"
                                          "model { n ~ binomial(N, p); }\n");
  const auto all = write("bin.json", R"({"n": 50, "N": 50})");
  for (const auto& [program, json] : {std::pair{tiny, tiny_data}, std::pair{binomial, all}})
    for (const char* seed : {"1", "2"}) {
      const auto r = exmc({"optimize", program, "--data", json, "--seed", seed, "--output", path("ok.csv")});
      ASSERT_EQ(r.code, 0) << r.err;
      EXPECT_NE(r.err.find("exmc optimize: Convergence detected"), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
    }
}

// smc's particles: diagnose computed split R-hat and ESS along the particles' order and, for a
// run whose 100 particles sat at one point, told the user to "run longer warmup and sampling".
// It now counts the distinct particles and repeats the evidence; laplace's poor k no longer
// suggests --init pathfinder, which cannot use its draws.
TEST_F(CliTest, DiagnoseOfSmcParticlesCountsCopiesInsteadOfRhat) {
  const auto model = write("n.stan", "parameters { vector[3] x; } model { x ~ normal(0, 1); }\n");
  auto run = exmc({"smc", model, "--seed", "1", "--particles", "100", "--kernel", "hmc", "--reference-scale",
                   "1e-300", "--refit-passes", "0", "--no-progress", "--output", path("stuck.csv")});
  ASSERT_EQ(run.code, 0) << run.err;
  auto d = exmc({"diagnose", path("stuck.csv")});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("final particles of sequential Monte Carlo (method = smc)"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("particles is distinct: the mutations hardly moved them"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("The run recorded a log marginal likelihood of "), std::string::npos) << d.out;
  for (const char* mcmc : {"R-hat =", "R-hat values", "effective sample size", "Run longer"})
    EXPECT_EQ(d.out.find(mcmc), std::string::npos) << mcmc << " in\n" << d.out;

  run = exmc({"smc", model, "--seed", "1", "--particles", "200", "--no-progress", "--output", path("fine.csv")});
  ASSERT_EQ(run.code, 0) << run.err;
  d = exmc({"diagnose", path("fine.csv")});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("no problems detected"), std::string::npos) << d.out;

  const auto corr = write("corr.stan", "data { matrix[2, 2] S; }\nparameters { vector[2] x; }\n"
                                       "model { x ~ multi_normal(rep_vector(0, 2), S); }\n");
  const auto data = write("corr.json", R"({"S": [[1, 0.999], [0.999, 1]]})");
  ASSERT_EQ(exmc({"variational", corr, "--data", data, "--output", path("vb.csv"), "--seed", "1"}).code, 0);
  d = exmc({"diagnose", path("vb.csv")});
  EXPECT_NE(d.out.find("Use exmc sample for the posterior.\n"), std::string::npos) << d.out;
  EXPECT_EQ(d.out.find("--init pathfinder"), std::string::npos) << d.out;
}

}  // namespace
}  // namespace exmc::cli
