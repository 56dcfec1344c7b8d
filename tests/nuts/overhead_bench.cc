// Measures sampler overhead per leapfrog step on small Gaussians (not a test; prints numbers).
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "exmc/nuts/chain_sampler.hpp"

namespace {

struct Gauss final : exmc::LogDensity {
  size_t d;
  explicit Gauss(size_t d) : d(d) {}
  size_t dim() const override { return d; }
  double logp_grad(const double* x, double* g) const override {
    double lp = 0;
    for (size_t i = 0; i < d; ++i) lp -= 0.5 * x[i] * x[i], g[i] = -x[i];
    return lp;
  }
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned draws = argc > 1 ? std::atoi(argv[1]) : 200000;
  std::vector<size_t> dims = {2, 10, 100};
  if (argc > 2) dims = {size_t(std::atoi(argv[2]))};
  const bool only_diag = argc > 3;
  for (size_t d : dims) {
    Gauss ld(d);
    // Cost of the gradient alone.
    std::vector<double> x(d, 0.3), g(d);
    const int reps = 2000000 / int(d);
    double t = now(), sink = 0;
    for (int i = 0; i < reps; ++i) {
      x[0] += 1e-9;
      sink += ld.logp_grad(x.data(), g.data());
    }
    const double grad_ns = (now() - t) / reps * 1e9;

    for (auto kind : {exmc::nuts::MetricKind::Diag, exmc::nuts::MetricKind::Dense}) {
      if (only_diag && kind == exmc::nuts::MetricKind::Dense) continue;
      exmc::nuts::SamplerConfig cfg;
      cfg.num_warmup = 1000;
      cfg.num_samples = draws;
      cfg.metric = kind;
      exmc::nuts::ChainSampler s(ld, cfg, 1, 0);
      s.initialize();
      for (unsigned i = 0; i < cfg.num_warmup; ++i) s.iterate();
      const uint64_t g0 = s.grad_evals();
      t = now();
      double lp = 0;
      for (unsigned i = 0; i < draws; ++i) lp += s.iterate().lp;
      const double el = now() - t;
      const double n = double(s.grad_evals() - g0);
      std::printf(
          "d=%3zu %-5s: %.1f leapfrog/draw, %.1f ns per leapfrog total, gradient %.1f ns, "
          "overhead %.1f ns per leapfrog (%.2f us per draw)\n",
          d, kind == exmc::nuts::MetricKind::Diag ? "diag" : "dense", n / draws, el / n * 1e9,
          grad_ns, el / n * 1e9 - grad_ns, el / draws * 1e6);
      sink += lp;
    }
    if (sink == 42) std::puts("");
  }
}
