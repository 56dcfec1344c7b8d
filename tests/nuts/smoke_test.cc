// Temporary smoke test while building.
#include <gtest/gtest.h>

#include "exmc/nuts/chain_sampler.hpp"

TEST(Smoke, Runs) {
  auto ld = exmc::make_log_density(2, [](const double* x, double* g) {
    g[0] = -x[0]; g[1] = -x[1];
    return -0.5 * (x[0] * x[0] + x[1] * x[1]);
  });
  exmc::nuts::SamplerConfig cfg;
  exmc::nuts::ChainSampler s(*ld, cfg, 1, 0);
  s.initialize();
  double m = 0, v = 0;
  for (int i = 0; i < 2000; ++i) {
    auto st = s.iterate();
    if (i >= 1000) { m += s.state().q[0]; v += s.state().q[0] * s.state().q[0]; }
  }
  m /= 1000; v /= 1000;
  printf("mean %g var %g eps %g\n", m, v - m * m, s.step_size());
}
