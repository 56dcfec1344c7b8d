// Prints tree statistics at a fixed step size (no adaptation) for comparison with Stan's NUTS
// on the same Gaussians (tests/nuts/stan_compare.R runs the Stan side). Not a test.
#include <cstdio>
#include <vector>

#include "exmc/nuts/chain_sampler.hpp"
#include "test_util.hpp"

int main() {
  struct Case {
    std::vector<double> s;
    double eps;
  };
  const std::vector<Case> cases = {{std::vector<double>(10, 1.0), 0.5},
                                   {std::vector<double>(10, 1.0), 1.2},
                                   {{1, 2, 4, 8, 16}, 0.8},
                                   {{1, 1}, 1.9}};
  for (const Case& c : cases) {
    auto ld = exmc::testing::scaled_normal(c.s.size(), c.s);
    exmc::nuts::SamplerConfig cfg;
    cfg.adapt = false;
    cfg.init_step_size = c.eps;
    cfg.num_warmup = 100;
    cfg.num_samples = 40000;
    exmc::nuts::ChainSampler s(*ld, cfg, 1, 0);
    s.initialize();
    char name[64];
    std::snprintf(name, sizeof name, "exmc_d%zu_eps%.2f.csv", c.s.size(), c.eps);
    FILE* f = std::fopen(name, "w");
    std::fprintf(f, "accept_stat__,treedepth__,n_leapfrog__,divergent__,energy__,x1\n");
    for (unsigned i = 0; i < cfg.num_warmup + cfg.num_samples; ++i) {
      const auto st = s.iterate();
      if (i < cfg.num_warmup) continue;
      std::fprintf(f, "%.17g,%d,%d,%d,%.17g,%.17g\n", st.accept_stat, st.tree_depth, st.n_leapfrog,
                   int(st.divergent), st.energy, s.state().q[0]);
    }
    std::fclose(f);
  }
}
