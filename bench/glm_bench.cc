// exmc-glm-bench: the fused bernoulli_logit_glm kernel (src/model/glm.cc) on the benchmark shapes
// (logistic: N = 500, K = 20; logistic_big: 5000 x 100), whole and by part (the two products of X
// and the link rows), for each instruction set this CPU has. Numbers: bench/README.md, "GLM
// gradients at the machine's limit".
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "../src/model/glm.hpp"
#include "exmc/core/rng.hpp"

namespace {

using exmc::dist::Arg;
using exmc::dist::detail::RowsIsa;

template <class T> struct Problem {
  size_t N, K;
  std::vector<T> X, y, alpha, beta, ga, gb, eta, term, w;
  Problem(size_t n, size_t k) : N(n), K(k), X(n * k), y(n), alpha(1), beta(k), ga(1), gb(k), eta(n), term(n), w(n) {
    exmc::Rng r(7, 0);
    for (auto& v : X) v = T(r.normal());
    for (auto& v : y) v = T(r.uniform() < 0.5);
    alpha[0] = T(0.3);
    for (auto& v : beta) v = T(r.uniform(-1, 1) / std::sqrt(double(k)));
  }
  double lpdf() {
    Arg<T> a[4];
    a[0] = {y.data(), N, N, 1, false, nullptr};
    a[1] = {X.data(), N * K, N, K, false, nullptr};
    a[2] = {alpha.data(), 1, 1, 1, true, ga.data()};
    a[3] = {beta.data(), K, K, 1, true, gb.data()};
    const auto& d = exmc::model::detail::bernoulli_logit_glm();
    if constexpr (sizeof(T) == sizeof(double))
      return d.lpdf_f64(a, true);
    else
      return d.lpdf_f32(a, true);
  }
};

bool have(RowsIsa isa) {
  return isa == RowsIsa::kBaseline || (isa == RowsIsa::kAvx2 && exmc::dist::detail::cpu_has_avx2()) ||
         (isa == RowsIsa::kAvx512 && exmc::dist::detail::cpu_has_avx512());
}

// One gradient's kernel call (the best instruction set), per row of X.
template <class T> void BM_Glm(benchmark::State& st) {
  Problem<T> p(size_t(st.range(0)), size_t(st.range(1)));
  for (auto _ : st) benchmark::DoNotOptimize(p.lpdf());
  st.SetItemsProcessed(int64_t(st.iterations()) * int64_t(p.N));
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(p.N * p.K * sizeof(T)));
}
BENCHMARK(BM_Glm<double>)->Args({500, 20})->Args({5000, 100});
BENCHMARK(BM_Glm<float>)->Args({500, 20})->Args({5000, 100});

// The parts over all N rows, in blocks of 256 as the kernel takes them; range(2) is the RowsIsa.
template <class T> void BM_Eta(benchmark::State& st) {
  Problem<T> p(size_t(st.range(0)), size_t(st.range(1)));
  const auto isa = RowsIsa(st.range(2));
  if (!have(isa)) return st.SkipWithError("not on this CPU");
  for (auto _ : st) {
    for (size_t i0 = 0; i0 < p.N; i0 += 256)
      exmc::model::detail::glm_eta(p.X.data() + i0, p.N, std::min<size_t>(256, p.N - i0), p.beta.data(), p.K,
                                   p.eta.data() + i0, isa);
    benchmark::ClobberMemory();
  }
}
template <class T> void BM_Back(benchmark::State& st) {
  Problem<T> p(size_t(st.range(0)), size_t(st.range(1)));
  const auto isa = RowsIsa(st.range(2));
  if (!have(isa)) return st.SkipWithError("not on this CPU");
  for (auto& v : p.w) v = T(0.01);
  for (auto _ : st) {
    for (size_t i0 = 0; i0 < p.N; i0 += 256)
      exmc::model::detail::glm_back(p.X.data() + i0, p.N, std::min<size_t>(256, p.N - i0), p.w.data() + i0, p.K,
                                    p.gb.data(), isa);
    benchmark::ClobberMemory();
  }
}
template <class T> void BM_Rows(benchmark::State& st) {
  Problem<T> p(size_t(st.range(0)), 1);
  const auto isa = RowsIsa(st.range(2));
  if (!have(isa)) return st.SkipWithError("not on this CPU");
  for (size_t i = 0; i < p.N; ++i) p.eta[i] = p.X[i] * T(2);
  for (auto _ : st) {
    exmc::dist::detail::bernoulli_logit_rows(p.eta.data(), p.y.data(), p.term.data(), p.w.data(), p.N, isa);
    benchmark::ClobberMemory();
  }
}
#define EXMC_PARTS(F) \
  BENCHMARK(F)->ArgsProduct({{500}, {20}, {0, 1, 2}}); \
  BENCHMARK(F)->ArgsProduct({{5000}, {100}, {0, 1, 2}});
EXMC_PARTS(BM_Eta<double>)
EXMC_PARTS(BM_Eta<float>)
EXMC_PARTS(BM_Back<double>)
EXMC_PARTS(BM_Back<float>)
BENCHMARK(BM_Rows<double>)->ArgsProduct({{500}, {1}, {0, 1, 2}});
BENCHMARK(BM_Rows<float>)->ArgsProduct({{500}, {1}, {0, 1, 2}});

}  // namespace

BENCHMARK_MAIN();
