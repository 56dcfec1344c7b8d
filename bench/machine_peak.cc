// exmc-machine-peak: this CPU's limits for the GLM gradients (bench/README.md, "GLM gradients at
// the machine's limit"): 512-bit multiply-add throughput (12 independent chains, with FMA and with
// separate multiplies and adds as the kernels use them) and read bandwidth over buffers from L1 to
// memory sizes. AVX-512F only; prints a line and exits 0 elsewhere.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace {
using Clock = std::chrono::steady_clock;

[[gnu::target("avx512f,fma"), gnu::noinline]] double fma_loop(long iters) {
  __m512d a[12];
  for (int k = 0; k < 12; ++k) a[k] = _mm512_set1_pd(1.0 + k * 1e-3);
  const __m512d m = _mm512_set1_pd(0.9999999), c = _mm512_set1_pd(1e-7);
  for (long i = 0; i < iters; ++i)
#pragma GCC unroll 12
    for (int k = 0; k < 12; ++k) a[k] = _mm512_fmadd_pd(a[k], m, c);
  __m512d s = a[0];
  for (int k = 1; k < 12; ++k) s = _mm512_add_pd(s, a[k]);
  return _mm512_reduce_add_pd(s);
}

[[gnu::target("avx512f"), gnu::noinline]] double mul_add_loop(long iters) {
  __m512d a[12], b[12];
  for (int k = 0; k < 12; ++k) a[k] = b[k] = _mm512_set1_pd(1.0 + k * 1e-3);
  const __m512d m = _mm512_set1_pd(0.9999999), c = _mm512_set1_pd(1e-7);
  for (long i = 0; i < iters; ++i)
#pragma GCC unroll 12
    for (int k = 0; k < 12; ++k) {
      a[k] = _mm512_add_pd(a[k], c);
      b[k] = _mm512_mul_pd(b[k], m);
    }
  __m512d s = a[0];
  for (int k = 1; k < 12; ++k) s = _mm512_add_pd(s, _mm512_add_pd(a[k], b[k]));
  return _mm512_reduce_add_pd(s);
}

[[gnu::target("avx512f"), gnu::noinline]] double read_loop(const double* x, long n, int reps) {
  __m512d s[8];
  for (int k = 0; k < 8; ++k) s[k] = _mm512_setzero_pd();
  for (int r = 0; r < reps; ++r)
    for (long i = 0; i < n; i += 64)
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) s[k] = _mm512_add_pd(s[k], _mm512_loadu_pd(x + i + 8 * k));
  for (int k = 1; k < 8; ++k) s[0] = _mm512_add_pd(s[0], s[k]);
  return _mm512_reduce_add_pd(s[0]);
}

template <class F> double median_seconds(F f, int n) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) {
    const auto a = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[size_t(n) / 2];
}
}  // namespace

int main() {
  if (!__builtin_cpu_supports("avx512f")) {
    std::puts("exmc-machine-peak: this CPU has no AVX-512F");
    return 0;
  }
  volatile double sink = 0;
  const long iters = 20000000;
  double t = median_seconds([&] { sink = fma_loop(iters); }, 9);
  std::printf("f64 FMA (512-bit):               %6.1f GFLOP/s\n", double(iters) * 12 * 16 / t / 1e9);
  t = median_seconds([&] { sink = mul_add_loop(iters); }, 9);
  std::printf("f64 multiply + add, not fused:   %6.1f GFLOP/s\n", double(iters) * 24 * 8 / t / 1e9);
  for (long kb : {16L, 32L, 80L, 256L, 512L, 800L, 2048L, 4096L, 8192L, 65536L}) {
    const long n = kb * 1024 / 8;
    std::vector<double> x(size_t(n), 1.0);
    const int reps = int(std::max(1L, 400000000L / (n * 8)));
    t = median_seconds([&] { sink = read_loop(x.data(), n, reps); }, 5);
    std::printf("read %6ld KB:                  %6.1f GB/s\n", kb, double(n) * 8 * reps / t / 1e9);
  }
  (void)sink;
}
#else
int main() {
  std::puts("exmc-machine-peak: x86-64 only");
  return 0;
}
#endif
