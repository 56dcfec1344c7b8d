// exmc-dist-bench: the registry's likelihood kernels (include/exmc/dist/kernel.hpp) timed one call
// at a time, on the shapes the programs of ../shared/posteriordb* give them (bench/README.md,
// "Likelihood kernels": which programs spend their time where). Each case is one logp_grad's worth
// of work for one `~` or one `_lpmf` call: the partials wanted for the parameter arguments, the
// data fixed. Run with --benchmark_repetitions=N and compare medians between builds.
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "exmc/core/rng.hpp"
#include "exmc/dist/kernel.hpp"

namespace {

using exmc::dist::Arg;

// One kernel call's arguments; values are kept alive with the case.
struct Call {
  const exmc::dist::DistInfo* dist = nullptr;
  std::vector<std::vector<double>> vals, grads;
  std::vector<Arg<double>> args;
  bool propto = true;

  Call(const char* name, std::vector<std::vector<double>> v, std::vector<bool> param, bool pt)
      : dist(exmc::dist::find_dist(name)), vals(std::move(v)), grads(vals.size()), args(vals.size()), propto(pt) {
    for (size_t k = 0; k < vals.size(); ++k) {
      args[k].val = vals[k].data();
      args[k].size = args[k].rows = vals[k].size();
      args[k].is_param = param[k];
      if (param[k]) {
        grads[k].assign(vals[k].size(), 0.0);
        args[k].grad = grads[k].data();
      }
    }
  }
  double run() { return dist->lpdf_f64(args.data(), propto); }
};

void run_case(benchmark::State& st, Call c) {
  if (!c.dist) {
    st.SkipWithError("unknown distribution");
    return;
  }
  const double first = c.run();
  if (!std::isfinite(first)) {
    st.SkipWithError("the case's density is not finite");
    return;
  }
  for (auto _ : st) benchmark::DoNotOptimize(c.run());
  const size_t n = c.vals[0].size();
  st.SetItemsProcessed(int64_t(st.iterations()) * int64_t(n));
}

std::vector<double> counts(exmc::Rng& r, size_t n, double hi) {
  std::vector<double> y(n);
  for (auto& v : y) v = std::floor(r.uniform(0, hi));
  return y;
}
std::vector<double> uniform(exmc::Rng& r, size_t n, double lo, double hi) {
  std::vector<double> x(n);
  for (auto& v : x) v = r.uniform(lo, hi);
  return x;
}

// bernoulli_logit over a vector of logits (wells_dist: 3,020 outcomes; lsat, irt_2pl, sat's
// hier_2pl, election88: a few thousand, each a gather of person and item parameters).
void BM_BernoulliLogit(benchmark::State& st) {
  exmc::Rng r(1, 0);
  const size_t n = size_t(st.range(0));
  std::vector<double> y(n);
  for (auto& v : y) v = r.uniform() < 0.5 ? 1.0 : 0.0;
  run_case(st, Call("bernoulli_logit", {y, uniform(r, n, -4, 4)}, {false, true}, true));
}
BENCHMARK(BM_BernoulliLogit)->Arg(100)->Arg(1000)->Arg(3020);

// poisson_log over a vector of log rates (bym2: 1,921 counts; propto drops lgamma(y + 1), the
// _lpmf form keeps it).
void BM_PoissonLog(benchmark::State& st) {
  exmc::Rng r(2, 0);
  const size_t n = size_t(st.range(0));
  run_case(st, Call("poisson_log", {counts(r, n, 60), uniform(r, n, 0, 4)}, {false, true}, st.range(1) != 0));
}
BENCHMARK(BM_PoissonLog)->Args({1921, 1})->Args({1921, 0});

// binomial_lpmf(k | n, theta) with five counts, one N and one theta, not propto (Survey: 500 such
// calls per gradient, one per candidate n), and one count per call (Mh, butterfly's loops).
void BM_Binomial(benchmark::State& st) {
  exmc::Rng r(3, 0);
  const size_t n = size_t(st.range(0));
  std::vector<double> k = {16, 18, 22, 25, 27};
  k.resize(n, 20.0);
  run_case(st, Call("binomial", {k, {250}, {0.08}}, {false, false, true}, false));
}
BENCHMARK(BM_Binomial)->Arg(1)->Arg(5)->Arg(1000);

void BM_BinomialLogit(benchmark::State& st) {
  exmc::Rng r(4, 0);
  const size_t n = size_t(st.range(0));
  run_case(st, Call("binomial_logit", {counts(r, n, 5), std::vector<double>(n, 5.0), uniform(r, n, -3, 1)},
                    {false, false, true}, st.range(1) != 0));
}
BENCHMARK(BM_BinomialLogit)->Args({1, 0})->Args({1000, 0})->Args({1000, 1});

void BM_Poisson(benchmark::State& st) {
  exmc::Rng r(5, 0);
  const size_t n = size_t(st.range(0));
  run_case(st, Call("poisson", {counts(r, n, 60), uniform(r, n, 1, 50)}, {false, true}, st.range(1) != 0));
}
BENCHMARK(BM_Poisson)->Args({1000, 1})->Args({1000, 0});

// neg_binomial_2(_log) with a vector mean and one overdispersion, both parameters.
void BM_NegBinomial2Log(benchmark::State& st) {
  exmc::Rng r(6, 0);
  const size_t n = size_t(st.range(0));
  run_case(st, Call("neg_binomial_2_log", {counts(r, n, 60), uniform(r, n, 0, 4), {3.5}}, {false, true, true},
                    st.range(1) != 0));
}
BENCHMARK(BM_NegBinomial2Log)->Args({1000, 1})->Args({1000, 0});

void BM_NegBinomial2(benchmark::State& st) {
  exmc::Rng r(7, 0);
  const size_t n = size_t(st.range(0));
  run_case(st, Call("neg_binomial_2", {counts(r, n, 60), uniform(r, n, 1, 50), {3.5}}, {false, true, true},
                    st.range(1) != 0));
}
BENCHMARK(BM_NegBinomial2)->Args({1000, 1})->Args({1000, 0});

// One-element normal and lognormal calls (the interpreter's mixtures: log_sum_exp of
// normal_lpdf per element) and a vector lognormal likelihood.
void BM_NormalOne(benchmark::State& st) {
  run_case(st, Call("normal", {{0.3}, {-0.2}, {1.5}}, {false, true, true}, false));
}
BENCHMARK(BM_NormalOne);

void BM_Lognormal(benchmark::State& st) {
  exmc::Rng r(8, 0);
  const size_t n = size_t(st.range(0));
  run_case(st, Call("lognormal", {uniform(r, n, 0.5, 20), uniform(r, n, 0, 3), {0.7}}, {false, true, true}, true));
}
BENCHMARK(BM_Lognormal)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
