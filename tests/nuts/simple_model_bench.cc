// The benchmark's "simple" model (d=2) written by hand as a LogDensity, run with the benchmark
// protocol (1 chain, 1000 + 1000, seeds 1-5). Not a test: prints timings and ESS.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "exmc/nuts/chain_sampler.hpp"
#include "test_util.hpp"

namespace {

// mu ~ normal(0, 10); sigma ~ exponential(1); y ~ normal(mu, sigma); x = (mu, log sigma).
struct Simple final : exmc::LogDensity {
  std::vector<double> y;
  double sum = 0, sum_sq = 0;
  size_t dim() const override { return 2; }
  double logp_grad(const double* x, double* g) const override {
    const double mu = x[0], s = std::exp(x[1]), n = double(y.size());
    // sum (y - mu)^2 from sufficient statistics keeps the gradient O(1) like a fused kernel.
    const double ss = sum_sq - 2 * mu * sum + n * mu * mu;
    const double inv_s2 = 1.0 / (s * s);
    g[0] = -mu / 100.0 + (sum - n * mu) * inv_s2;
    g[1] = -s + 1.0 - n + ss * inv_s2;
    return -0.5 * mu * mu / 100.0 - s + x[1] - n * x[1] - 0.5 * ss * inv_s2;
  }
  std::vector<exmc::VarInfo> output_vars() const override {
    return {{"mu", {}}, {"sigma", {}}};
  }
  void constrain(const double* x, double* out) const override {
    out[0] = x[0];
    out[1] = std::exp(x[1]);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "/work/shared/bench/data/simple.json";
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  const auto j = nlohmann::json::parse(f);
  Simple ld;
  ld.y = j["y"].get<std::vector<double>>();
  for (double v : ld.y) ld.sum += v, ld.sum_sq += v * v;
  for (auto adapt : {exmc::nuts::MetricAdaptation::Windowed, exmc::nuts::MetricAdaptation::Gradient,
                     exmc::nuts::MetricAdaptation::LowRank}) {
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      exmc::nuts::SamplerConfig cfg;
      cfg.metric_adaptation = adapt;
      exmc::nuts::ChainSampler s(ld, cfg, seed, 0);
      s.initialize();
      for (unsigned i = 0; i < 1000; ++i) s.iterate();
      const uint64_t g0 = s.grad_evals();
      std::vector<double> mu, sigma;
      double out[2];
      const auto t0 = std::chrono::steady_clock::now();
      int div = 0;
      for (unsigned i = 0; i < 1000; ++i) {
        div += s.iterate().divergent;
        ld.constrain(s.state().q.data(), out);
        mu.push_back(out[0]);
        sigma.push_back(out[1]);
      }
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double ess = std::min(exmc::testing::ess_geyer(mu), exmc::testing::ess_geyer(sigma));
      const double grads = double(s.grad_evals() - g0);
      std::printf("%-8s seed %llu: sampling %.5f s, %6.0f grads, %.0f ns/leapfrog, min ESS %4.0f, "
                  "ESS/s %8.0f, ESS/grad %.3f, divergences %d, step %.3f\n",
                  adapt == exmc::nuts::MetricAdaptation::Windowed   ? "stan"
                  : adapt == exmc::nuts::MetricAdaptation::Gradient ? "gradient"
                                                                    : "lowrank",
                  (unsigned long long)seed, sec, grads, sec / grads * 1e9, ess, ess / sec,
                  ess / grads, div, s.step_size());
    }
  }
}
