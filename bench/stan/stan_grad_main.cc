// Stan's own gradient cost, timed natively: the stanc-generated model (STAN_MODEL_HPP) through
// stan::model::log_prob_grad<propto=true, jacobian=true>, built with rstan's compiler flags.
// Usage: stan_grad DATA.R (rdump) DIM; prints the median ns per gradient over short batches.
#include STAN_MODEL_HPP

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stan/io/dump.hpp>
#include <stan/model/log_prob_grad.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA.R\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  stan::io::dump data(in);
  stan_model model(data, 0, nullptr);
  const size_t d = model.num_params_r();
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unif(-1.0, 1.0);
  std::vector<double> x(d), g(d);
  std::vector<int> xi;
  for (auto& v : x) v = unif(rng);
  double acc = 0;
  for (int i = 0; i < 10; ++i) acc += stan::model::log_prob_grad<true, true>(model, x, xi, g);
  using Clock = std::chrono::steady_clock;
  auto run = [&](long n) {
    auto t0 = Clock::now();
    for (long i = 0; i < n; ++i) acc += stan::model::log_prob_grad<true, true>(model, x, xi, g);
    return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / double(n);
  };
  long n = 1;
  while (run(n) * double(n) < 0.25e6 / 4 && n < (1L << 30)) n *= 4;
  n = std::max(1L, long(0.25e6 / run(n)));  // batches of about 0.25 ms, as exmc-bench grad
  std::vector<double> t(301);
  for (auto& v : t) v = run(n);
  std::nth_element(t.begin(), t.begin() + 150, t.end());
  std::printf("%zu\t%.1f\t%g\n", d, t[150], acc);
  return 0;
}
