// exmc generate_quantities: an earlier fit's draws in, a program's generated quantities out.
#include <sstream>
#include <string>

#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

constexpr const char* kNewQuantities = R"(data { int<lower=0> J; vector[J] y; vector<lower=0>[J] sigma; }
parameters { real mu; real<lower=0> tau; vector[J] theta_tilde; }
transformed parameters { vector[J] theta = mu + tau * theta_tilde; }
model { mu ~ normal(0, 5); tau ~ cauchy(0, 5); theta_tilde ~ std_normal(); y ~ normal(theta, sigma); }
generated quantities { real twice_mu = 2 * mu; real tau_sq = square(tau); }
)";

// The value in `column` of each data row of a CSV.
std::vector<std::string> column(const std::string& file, const std::string& name) {
  std::istringstream rows(data_lines(file));
  std::string line, cell;
  std::getline(rows, line);
  size_t k = 0;
  {
    std::istringstream h(line);
    while (std::getline(h, cell, ',') && cell != name) ++k;
  }
  std::vector<std::string> out;
  while (std::getline(rows, line)) {
    std::istringstream r(line);
    for (size_t i = 0; i <= k; ++i) std::getline(r, cell, ',');
    out.push_back(cell);
  }
  return out;
}

TEST_F(CliTest, GenerateQuantitiesWithTheFitsSeedRegeneratesItsFilesExactly) {
  const auto model = example("eight_schools.stan"), data = example("eight_schools.data.json");
  ASSERT_EQ(exmc({"sample", model, "--data", data, "--seed", "5", "--chains", "2", "--warmup", "200", "--draws", "60",
                  "--sig-figs", "17", "--output", path("fit.csv"), "--no-progress"})
                .code,
            0);
  const auto r = exmc({"generate_quantities", model, "--data", data, "--fitted-params", path("fit_1.csv"),
                       path("fit_2.csv"), "--seed", "5", "--sig-figs", "17", "--output", path("gq.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, path("gq_1.csv") + "\n" + path("gq_2.csv") + "\n");
  // The same streams as the sample's chains (y_rep), the same transformed parameters (theta):
  // every row as the sample wrote it, sampler columns included.
  EXPECT_EQ(data_lines(path("gq_1.csv")), data_lines(path("fit_1.csv")));
  EXPECT_EQ(data_lines(path("gq_2.csv")), data_lines(path("fit_2.csv")));
  EXPECT_NE(slurp(path("gq_1.csv")).find("# method = generate_quantities"), std::string::npos);
  // Its files are one run's: summary combines them.
  EXPECT_EQ(exmc({"summary", path("gq_1.csv"), path("gq_2.csv")}).code, 0);

  // New quantities for the same draws, without sampling again.
  const auto other = write("new.stan", kNewQuantities);
  const auto n = exmc({"generate_quantities", other, "--data", data, "--fitted-params", path("fit_1.csv"), "--seed",
                       "1", "--sig-figs", "17", "--output", path("new.csv")});
  ASSERT_EQ(n.code, 0) << n.err;
  const auto mu = column(path("fit_1.csv"), "mu"), twice = column(path("new.csv"), "twice_mu");
  ASSERT_EQ(mu.size(), 60u);
  ASSERT_EQ(twice.size(), 60u);
  for (size_t i = 0; i < mu.size(); ++i) EXPECT_EQ(std::stod(twice[i]), 2 * std::stod(mu[i])) << i;
  const auto header = data_lines(path("new.csv")).substr(0, data_lines(path("new.csv")).find('\n'));
  EXPECT_EQ(header.find("y_rep"), std::string::npos) << header;  // this program's quantities only
  EXPECT_NE(header.find(",theta.8,twice_mu,tau_sq"), std::string::npos) << header;
}

TEST_F(CliTest, GenerateQuantitiesSaysWhatItCannotUse) {
  const auto model = example("eight_schools.stan"), data = example("eight_schools.data.json");
  // A fit without tau's column.
  const auto fit = write("fit.csv", "lp__,mu,theta_tilde.1,theta_tilde.2,theta_tilde.3,theta_tilde.4,theta_tilde.5,"
                                    "theta_tilde.6,theta_tilde.7,theta_tilde.8\n-1,0,0,0,0,0,0,0,0,0\n");
  auto r = exmc({"generate_quantities", model, "--data", data, "--fitted-params", fit, "--output", path("o.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(fit + ", draw 1: variable 'tau': no value given"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("o.csv")));
  // A program without generated quantities.
  const auto plain = write("plain.stan", "parameters { real mu; }\nmodel { mu ~ normal(0, 1); }\n");
  const auto one = write("one.csv", "lp__,mu\n-1,0.5\n");
  r = exmc({"generate_quantities", plain, "--fitted-params", one, "--output", path("o.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("plain has no generated quantities: there is nothing to generate"), std::string::npos)
      << r.err;
  // The output may not be an input.
  r = exmc({"generate_quantities", model, "--data", data, "--fitted-params", fit, "--output", fit});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(slurp(fit).substr(0, 5), "lp__,");
}

// --fitted-params fit_1.csv fit_1.csv ran the file twice, as chain 1 both times (identical
// outputs); a file of warmup rows only said "no draws"; a file cut short went unremarked.
TEST_F(CliTest, GenerateQuantitiesChecksItsFittedParamsFiles) {
  const auto model = example("eight_schools.stan"), data = example("eight_schools.data.json");
  ASSERT_EQ(exmc({"sample", model, "--data", data, "--seed", "5", "--chains", "1", "--warmup", "30", "--draws", "0",
                  "--save-warmup", "--output", path("warm.csv"), "--no-progress"})
                .code,
            0);
  auto r = exmc({"generate_quantities", model, "--data", data, "--fitted-params", path("warm.csv"), "--output",
                 path("gq.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "exmc generate_quantities: error: " + path("warm.csv") +
                       ": no draws after warmup (its 30 warmup rows are not draws of the posterior)\n");
  ASSERT_EQ(exmc({"sample", model, "--data", data, "--seed", "5", "--chains", "1", "--warmup", "30", "--draws", "20",
                  "--output", path("fit.csv"), "--no-progress"})
                .code,
            0);
  r = exmc({"generate_quantities", model, "--data", data, "--fitted-params", path("fit.csv"), path("fit.csv"),
            "--output", path("gq.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "exmc generate_quantities: error: " + path("fit.csv") +
                       " is given twice (files 1 and 2); each file is one chain, and a chain read twice makes R-hat "
                       "and the effective sample size look better than they are\n");
  EXPECT_FALSE(fs::exists(path("gq_1.csv")));
  // The first 10 of its 20 draws (the comment lines kept): a warning, then the 10 are used.
  std::istringstream in(slurp(path("fit.csv")));
  std::string line, cut;
  for (int rows = 0; std::getline(in, line) && rows < 11;) {
    cut += line + "\n";
    if (!line.empty() && line[0] != '#') ++rows;
  }
  write("cut.csv", cut);
  r = exmc({"generate_quantities", model, "--data", data, "--fitted-params", path("cut.csv"), "--output",
            path("gq.csv")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.rfind("exmc generate_quantities: warning: " + path("cut.csv") +
                            ": 10 draws, but its header says num_samples = 20, so 20 were to come",
                        0),
            0u)
      << r.err;
}

// A fit of eight schools (J = 8) with data of seven schools: theta_tilde.8 was left out without
// a word and the first seven used, exit 0. The draws are of another shape; refused, naming the
// column, the variable's shape and that it comes with this data.
TEST_F(CliTest, GenerateQuantitiesRefusesAFitWithMoreElementsThanTheVariable) {
  const auto model = example("eight_schools.stan");
  ASSERT_EQ(exmc({"sample", model, "--data", example("eight_schools.data.json"), "--seed", "5", "--chains", "1",
                  "--warmup", "30", "--draws", "10", "--output", path("fit.csv"), "--no-progress"})
                .code,
            0);
  const auto seven = write("seven.json", R"({"J": 7, "y": [28, 8, -3, 7, -1, 1, 18], "sigma": [15, 10, 16, 11, 9, 11, 10]})");
  const auto r = exmc({"generate_quantities", model, "--data", seven, "--fitted-params", path("fit.csv"), "--output",
                       path("gq.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path("fit.csv") + ": has column theta_tilde.8, but 'theta_tilde' has shape [7] (with this "
                                         "data): the draws are of another shape"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(path("gq.csv")));
}

}  // namespace
}  // namespace exmc::cli
