// End to end: run_chains streaming into CmdStan CSV files, read back and compared.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../nuts/test_util.hpp"
#include "exmc/io/cmdstan_csv_sink.hpp"

namespace exmc::runtime {
namespace {

struct Csv {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
  double step_size = 0;
  std::vector<double> inv_metric;
};

Csv read_csv(const std::string& path) {
  Csv out;
  std::ifstream f(path);
  bool in_adapt = false;
  for (std::string l; std::getline(f, l);) {
    if (l.rfind("# Step size = ", 0) == 0) out.step_size = std::stod(l.substr(14));
    if (l == "# Diagonal elements of inverse mass matrix:") {
      in_adapt = true;
      continue;
    }
    if (in_adapt) {
      std::stringstream ss(l.substr(2));
      for (std::string t; std::getline(ss, t, ',');) out.inv_metric.push_back(std::stod(t));
      in_adapt = false;
      continue;
    }
    if (l.empty() || l[0] == '#') continue;
    std::stringstream ss(l);
    std::vector<std::string> cells;
    for (std::string t; std::getline(ss, t, ',');) cells.push_back(t);
    if (out.columns.empty()) {
      out.columns = cells;
    } else {
      std::vector<double> r;
      for (auto& c : cells) r.push_back(std::stod(c));
      out.rows.push_back(r);
    }
  }
  return out;
}

class Positive final : public LogDensity {  // sigma ~ exponential(1), via log transform
 public:
  size_t dim() const override { return 2; }
  double logp_grad(const double* x, double* g) const override {
    g[0] = 1 - std::exp(x[0]);
    g[1] = -x[1];
    return x[0] - std::exp(x[0]) - 0.5 * x[1] * x[1];
  }
  std::vector<VarInfo> output_vars() const override {
    return {VarInfo{"sigma", {}}, VarInfo{"z", {1}}};
  }
  void constrain(const double* x, double* out) const override {
    out[0] = std::exp(x[0]);
    out[1] = x[1];
  }
};

TEST(CsvStreaming, EachChainFileMatchesTheResult) {
  Positive ld;
  RunConfig cfg;
  cfg.sampler.num_warmup = 200;
  cfg.sampler.num_samples = 300;
  cfg.num_chains = 2;
  cfg.seed = 4;
  const std::string dir = ::testing::TempDir();
  auto path_for = [&](unsigned c) { return dir + "exmc_stream_" + std::to_string(c + 1) + ".csv"; };
  io::CmdStanCsvHeader base;
  base.model = "positive";
  io::CmdStanCsvSink sink(path_for, base, flat_names(ld.output_vars()), cfg);
  // While sampling, only temporary files exist.
  Callbacks cb = sink.callbacks();
  auto on_draw = cb.on_draw;
  bool checked = false;
  cb.on_draw = [&](const DrawEvent& e) {
    if (e.chain == 0 && e.iteration == 250) {
      EXPECT_FALSE(std::filesystem::exists(path_for(0)));
      checked = true;
    }
    on_draw(e);
  };
  const RunResult r = run_chains(ld, cfg, cb);
  sink.finish(r);
  EXPECT_TRUE(checked);
  for (unsigned c = 0; c < 2; ++c) {
    const Csv csv = read_csv(path_for(c));
    ASSERT_EQ(csv.columns.size(), 9u);
    EXPECT_EQ(csv.columns[0], "lp__");
    EXPECT_EQ(csv.columns[6], "energy__");
    EXPECT_EQ(csv.columns[7], "sigma");
    EXPECT_EQ(csv.columns[8], "z.1");
    ASSERT_EQ(csv.rows.size(), 300u);
    const auto& ch = r.chains[c];
    EXPECT_NEAR(csv.step_size, ch.adaptation.step_size, 1e-5 * ch.adaptation.step_size);
    ASSERT_EQ(csv.inv_metric.size(), 2u);
    for (size_t i = 0; i < 300; ++i) {
      EXPECT_NEAR(csv.rows[i][7], ch.draw(i)[0], 1e-5 * std::fabs(ch.draw(i)[0]));
      EXPECT_GT(csv.rows[i][7], 0);  // constrained scale
      EXPECT_NEAR(csv.rows[i][0], ch.stats[i].lp, 1e-5 * std::fabs(ch.stats[i].lp) + 1e-12);
      EXPECT_EQ(csv.rows[i][4], ch.stats[i].n_leapfrog);
    }
    std::filesystem::remove(path_for(c));
  }
}

TEST(CsvStreaming, CancelledRunLeavesOnlyTheTemporaryFile) {
  Positive ld;
  RunConfig cfg;
  cfg.sampler.num_warmup = 100;
  cfg.sampler.num_samples = 1000;
  cfg.num_chains = 1;
  CancelToken token;
  cfg.cancel = &token;
  const std::string path = ::testing::TempDir() + "exmc_cancelled.csv";
  io::CmdStanCsvSink sink([&](unsigned) { return path; }, {}, flat_names(ld.output_vars()), cfg);
  Callbacks cb = sink.callbacks();
  auto on_draw = cb.on_draw;
  cb.on_draw = [&](const DrawEvent& e) {
    on_draw(e);
    if (e.iteration == 500) token.cancel();
  };
  const RunResult r = run_chains(ld, cfg, cb);
  sink.finish(r);
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(std::filesystem::exists(sink.writer(0).temp_path()));
  EXPECT_EQ(read_csv(sink.writer(0).temp_path()).rows.size(), r.chains[0].num_draws());
  std::filesystem::remove(sink.writer(0).temp_path());
}

}  // namespace
}  // namespace exmc::runtime
