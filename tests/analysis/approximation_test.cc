// diagnose for approximations: the Pareto k of p/q from a method's CmdStan CSV. Draws from
// q = N(0, 1) against p = N(0, s^2) have importance ratios with a Pareto tail of k = 1 - 1/s^2
// (Vehtari et al., "Pareto smoothed importance sampling"), so the files below know their k.
#include "exmc/analysis/approximation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "exmc/core/rng.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::analysis {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;

// log_p__ of N(0, s2), log_g__ of N(0, 1), at n draws of q, written with 17 digits.
io::CmdStanCsv file(const std::string& method, double s2, size_t n, uint64_t seed, bool poison = false) {
  std::string text = "# method = " + method + "\n#   sig_figs = 17\nlog_p__,log_g__,x\n";
  if (method == "variational") text += "0,0,0\n";  // CmdStan's first row: the approximation's mean
  Rng rng(seed, 0);
  for (size_t i = 0; i < n; ++i) {
    const double x = rng.normal();
    const double lg = -0.5 * (x * x + kLog2Pi), lp = -0.5 * (x * x / s2 + std::log(s2) + kLog2Pi);
    text += fmt::format("{:.17g},{:.17g},{:.17g}\n", poison && i == 3 ? -INFINITY : lp, lg, x);
  }
  return io::parse_cmdstan_csv(text, method + ".csv");
}

TEST(Approximation, KOfAWideTargetIsAProblemAndOfANarrowOneIsNot) {
  // s^2 = 10: k = 0.9, poor; s^2 = 1.5: k = 1/3, close.
  const auto wide = diagnose_approximation({file("variational", 10, 4000, 1)});
  EXPECT_TRUE(wide.approximation);
  EXPECT_FALSE(wide.ok());
  EXPECT_NE(wide.report.find("is above 0.7: the approximation is poor"), std::string::npos) << wide.report;
  EXPECT_NE(wide.report.find("log_p__ - log_g__ of 4000 draws"), std::string::npos) << wide.report;
  const auto narrow = diagnose_approximation({file("laplace", 1.5, 4000, 2)});
  EXPECT_TRUE(narrow.ok()) << narrow.report;
  EXPECT_NE(narrow.report.find("the approximation is close to the posterior"), std::string::npos) << narrow.report;
  // Two files (chains) of one run: their draws together.
  const auto both = diagnose_approximation({file("laplace", 1.5, 1000, 3), file("laplace", 1.5, 1000, 4)});
  EXPECT_NE(both.report.find("of 2000 draws"), std::string::npos) << both.report;
}

TEST(Approximation, EqualRatiosMeanAnExactApproximation) {
  const auto exact = diagnose_approximation({file("laplace", 1.0, 500, 5)});
  EXPECT_TRUE(exact.ok()) << exact.report;
  EXPECT_NE(exact.report.find("equal within the rounding"), std::string::npos) << exact.report;
}

TEST(Approximation, ADrawWherePVanishesIsAProblem) {
  const auto r = diagnose_approximation({file("variational", 1.5, 500, 6, true)});
  EXPECT_TRUE(r.approximation);
  EXPECT_NE(r.report.find("1 of 500 draws have a log density (log_p__) of -inf or NaN"), std::string::npos)
      << r.report;
}

TEST(Approximation, PathfinderReportsTheKItRecorded) {
  const auto pf = io::parse_cmdstan_csv("# method = pathfinder\n# exmc_pareto_k = 0.63\nlp_approx__,lp__,x\n-1,-1,0\n",
                                        "pf.csv");
  const auto r = diagnose_approximation({pf});
  EXPECT_TRUE(r.ok());
  EXPECT_NE(r.report.find("Pareto k = 0.63 (recorded by exmc pathfinder before resampling) is between 0.5 and 0.7"),
            std::string::npos)
      << r.report;
  const auto bare = io::parse_cmdstan_csv("# method = pathfinder\nlp_approx__,lp__,x\n-1,-1,0\n", "cmdstan_pf.csv");
  EXPECT_THROW(diagnose_approximation({bare}), std::runtime_error);
}

TEST(Approximation, WhatItCannotCheckIsAnErrorNamingTheFile) {
  auto message = [](const std::vector<io::CmdStanCsv>& files) {
    try {
      diagnose_approximation(files);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto opt = io::parse_cmdstan_csv("# method = optimize\nlp__,x\n-1,0\n", "o.csv");
  EXPECT_EQ(message({opt}), "o.csv: method = optimize: one point (the mode), not draws; diagnose checks draws "
                            "(exmc sample, or the approximations of variational, laplace and pathfinder)");
  const auto no_columns = io::parse_cmdstan_csv("# method = laplace\nx\n0\n1\n", "l.csv");
  EXPECT_EQ(message({no_columns}), "l.csv: method = laplace without log_p__ and log_g__ columns: the approximation "
                                   "cannot be checked");
  EXPECT_EQ(message({file("laplace", 1.5, 10, 1), file("variational", 1.5, 10, 1)}),
            "variational.csv (method = variational) and laplace.csv (method = laplace) are outputs of different "
            "methods");
  EXPECT_EQ(cmdstan_method(io::parse_cmdstan_csv("lp__,x\n0,1\n", "old.csv")), "sample");
}

}  // namespace
}  // namespace exmc::analysis
