// A Stan program run from C++: read, checked and lowered once (services::Program), sampled by
// the same job `exmc sample` runs (services::SampleJob), every kept draw handed to an observer.
// docs/cpp.md walks through it.
//   build/examples/cpp/stan_program
// The model is conjugate (a normal mean with known sd), so it checks itself: the posterior mean
// and sd of mu against their closed forms within four Monte Carlo standard errors.
#include <cmath>
#include <cstdio>
#include <mutex>

#include "exmc/analysis/draws.hpp"
#include "exmc/analysis/summary.hpp"
#include "exmc/services/program.hpp"
#include "exmc/services/sample.hpp"

namespace {

const char* kProgram = R"(
data {
  int<lower=0> N;
  vector[N] y;
  real<lower=0> sigma;
}
parameters {
  real mu;
}
model {
  mu ~ normal(0, 10);
  y ~ normal(mu, sigma);
}
generated quantities {
  real y_new = normal_rng(mu, sigma);
}
)";
const char* kData = R"({"N": 5, "y": [1.2, 0.4, 2.9, 1.7, 2.2], "sigma": 1.5})";

}  // namespace

int main() {
  using namespace exmc;
  // Program::load(model_path, data_path) does the same from files. Errors in the program throw
  // with its name, line and column.
  const auto program = services::Program::from_source(kProgram, "normal_mean.stan", kData);

  services::SampleSettings settings;  // exmc sample's defaults: 4 chains, 1000 + 1000
  settings.chains = 4;
  services::SampleJob job(program, settings, /*seed=*/11);

  // The observer is called from several threads (one chain's calls in order): each chain writes
  // only its own slice of the draws, so no lock is needed for them.
  analysis::Draws draws(settings.chains, settings.draws, job.names());
  std::vector<size_t> kept(settings.chains, 0);
  services::SampleObserver observer;
  observer.on_draw = [&](const services::SampleDraw& d) {
    if (d.warmup) return;
    const size_t i = kept[d.chain]++;
    for (size_t v = 0; v < d.row_size; ++v) draws.at(v, d.chain, i) = d.row[v];
  };
  const auto run = job.run(observer);
  if (!run.ok()) {
    std::fprintf(stderr, "sampling failed\n");
    return 1;
  }
  const auto summary = analysis::summarise(draws);
  std::fputs(analysis::format_summary(summary, analysis::Format::Table).c_str(), stdout);

  // Closed form: precision 1/10^2 + N/sigma^2, mean sum(y)/sigma^2 over the precision.
  const double sum_y = 1.2 + 0.4 + 2.9 + 1.7 + 2.2, n = 5, sigma = 1.5;
  const double precision = 1.0 / 100 + n / (sigma * sigma);
  const double mean = sum_y / (sigma * sigma) / precision, sd = 1 / std::sqrt(precision);
  const auto& mu = summary.rows[draws.index_of("mu")];
  const double z_mean = (mu.mean - mean) / mu.mcse_mean, z_sd = (mu.sd - sd) / mu.mcse_sd;
  std::printf("mu: mean %.4f (exact %.4f, %+.1f se), sd %.4f (exact %.4f, %+.1f se)\n", mu.mean, mean, z_mean,
              mu.sd, sd, z_sd);
  return std::abs(z_mean) < 4 && std::abs(z_sd) < 4 ? 0 : 1;
}
