// Hand-run (not a test): exmc's windowed warmup on two benchmark models over many seeds, printed
// in the format of tests/nuts/warmup_vs_stan.R so the adapted step size, tree lengths, ESS per
// gradient and inverse metric can be compared with Stan's as distributions, not single runs.
// Usage: nuts_warmup_vs_stan FIRST_SEED LAST_SEED [model ...]
//        nuts_warmup_vs_stan fixed MODEL EPS   (no adaptation: the transition alone)
// (stress, eight_schools_noncentered, eight_schools_centered; default the first two)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_models.hpp"
#include "exmc/analysis/convergence.hpp"
#include "exmc/nuts/chain_sampler.hpp"

using exmc::LogDensity;
using namespace exmc::testing;

namespace {

std::unique_ptr<LogDensity> make_model(const std::string& m) {
  const char* shared_env = std::getenv("EXMC_SHARED_DIR");
  const std::string shared = shared_env ? shared_env : EXMC_SHARED_DIR;
  if (m == "stress") return std::make_unique<Stress>(shared + "/bench/data/stress.json");
  if (m == "eight_schools_noncentered") return std::make_unique<EightNoncentered>();
  if (m == "eight_schools_centered") return std::make_unique<EightCentered>();
  throw std::runtime_error("unknown model " + m);
}

// `fixed MODEL EPS`: no adaptation, unit metric, 4 chains x 10000 draws after 200 burn-in;
// means of accept_stat, n_leapfrog and treedepth with their MCSEs. Separates the transition
// itself from warmup when the two samplers' adapted runs differ.
int fixed_step(int argc, char** argv) {
  if (argc < 4) throw std::runtime_error("usage: fixed MODEL EPS");
  auto ld = make_model(argv[2]);
  exmc::nuts::SamplerConfig cfg;
  cfg.adapt = false;
  cfg.init_step_size = std::atof(argv[3]);
  cfg.num_warmup = 200;
  cfg.num_samples = 10000;
  const unsigned chains = 4;
  std::vector<double> acc, nl, depth;
  for (unsigned c = 0; c < chains; ++c) {
    exmc::nuts::ChainSampler s(*ld, cfg, 1, c);
    s.initialize();
    for (unsigned it = 0; it < cfg.num_warmup + cfg.num_samples; ++it) {
      const auto st = s.iterate();
      if (it < cfg.num_warmup) continue;
      acc.push_back(st.accept_stat);
      nl.push_back(st.n_leapfrog);
      depth.push_back(st.tree_depth);
    }
  }
  for (auto [name, v] : {std::pair{"accept_stat", &acc}, {"n_leapfrog", &nl}, {"treedepth", &depth}}) {
    const exmc::analysis::ChainView x{v->data(), cfg.num_samples, chains};
    std::printf("%s %s eps=%s %s %.5f mcse %.5f\n", "exmc", argv[2], argv[3], name,
                exmc::analysis::mean(v->data(), v->size()), exmc::analysis::mcse_mean(x));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FIRST_SEED LAST_SEED [model ...]\n", argv[0]);
    return 2;
  }
  if (std::string(argv[1]) == "fixed") return fixed_step(argc, argv);
  const int first = std::atoi(argv[1]), last = std::atoi(argv[2]);
  std::vector<std::string> models;
  for (int i = 3; i < argc; ++i) models.push_back(argv[i]);
  if (models.empty()) models = {"stress", "eight_schools_noncentered"};
  for (const std::string& m : models) {
    std::unique_ptr<LogDensity> ld = make_model(m);
    check_gradient(*ld);
    const size_t d = ld->dim();
    for (int seed = first; seed <= last; ++seed) {
      exmc::nuts::SamplerConfig cfg;  // Stan's defaults: 1000 + 1000, delta 0.8, depth 10
      exmc::nuts::ChainSampler s(*ld, cfg, uint64_t(seed), 0);
      s.initialize();
      std::vector<double> draws(d * cfg.num_samples);  // [param][draw]
      long total_leapfrog = 0;
      double sum_leapfrog = 0, sum_accept = 0, eps = 0;
      for (unsigned it = 0; it < cfg.num_warmup + cfg.num_samples; ++it) {
        const auto st = s.iterate();
        total_leapfrog += st.n_leapfrog;
        if (it < cfg.num_warmup) continue;
        const unsigned k = it - cfg.num_warmup;
        if (k == 0) eps = st.step_size;
        sum_leapfrog += st.n_leapfrog;
        sum_accept += st.accept_stat;
        for (size_t i = 0; i < d; ++i) draws[i * cfg.num_samples + k] = s.state().q[i];
      }
      // Stan's ESS is over the constrained parameters; exp() is monotone and ess_bulk is
      // rank-based, so the unconstrained draws give the same value.
      double min_ess = INFINITY;
      for (size_t i = 0; i < d; ++i)
        min_ess = std::min(min_ess, exmc::analysis::ess_bulk({&draws[i * cfg.num_samples],
                                                               cfg.num_samples, 1}));
      std::printf("%s %d %.6g %.4f %ld %.2f %.4f ", m.c_str(), seed, eps,
                  sum_leapfrog / cfg.num_samples, total_leapfrog, min_ess,
                  sum_accept / cfg.num_samples);
      const auto a = s.adaptation();
      for (size_t i = 0; i < d; ++i) std::printf("%s%.6g", i ? "," : "", a.inv_metric[i]);
      std::printf("\n");
      std::fflush(stdout);
    }
  }
}
