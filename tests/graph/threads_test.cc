// Four threads hammering one compiled density give bit-identical results to one thread.
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <thread>

#include "models.hpp"

namespace exmc::graph {
namespace {

using namespace testing;

template <class T>
void hammer(const Graph& g, Expr t, size_t dim) {
  auto d = compile<T>(g, t);
  const int kPoints = 64;
  std::vector<std::vector<double>> xs, ref_g(kPoints, std::vector<double>(dim));
  std::vector<double> ref_v(kPoints);
  for (int p = 0; p < kPoints; ++p) xs.push_back(random_point(dim, 100 + unsigned(p), 0.4));
  for (int p = 0; p < kPoints; ++p) ref_v[p] = d->logp_grad(xs[p].data(), ref_g[p].data());
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      std::vector<double> gr(dim);
      for (int rep = 0; rep < 25; ++rep)
        for (int q = 0; q < kPoints; ++q) {
          const int p = (q * 7 + th * 13 + rep) % kPoints;  // threads visit points in different orders
          const double v = d->logp_grad(xs[p].data(), gr.data());
          if (std::memcmp(&v, &ref_v[p], sizeof v) != 0 ||
              std::memcmp(gr.data(), ref_g[p].data(), dim * sizeof(double)) != 0)
            ++mismatches[th];
          if (d->logp(xs[p].data()) != ref_v[p]) ++mismatches[th];
        }
    });
  }
  for (auto& t : threads) t.join();
  for (int th = 0; th < 4; ++th) EXPECT_EQ(mismatches[th], 0) << "thread " << th;
}

TEST(Threads, FourThreadsBitIdenticalDouble) {
  Graph g;
  Expr t = hier_model(g, 20, 200);
  hammer<double>(g, t, 22);
}

TEST(Threads, FourThreadsBitIdenticalFloat) {
  Graph g;
  Expr t = hier_model(g, 20, 200);
  hammer<float>(g, t, 22);
}

TEST(Threads, FourThreadsBitIdenticalLinearAlgebra) {
  Graph g;
  Expr t = linalg_model(g, 6);
  hammer<double>(g, t, 42);
}

// A thread keeps its workspace until it exits; then the next thread takes the slot over. Far
// more short-lived threads than there are slots (kMaxWorkspaces), in waves of four running at
// once, all get the single-thread result.
TEST(Threads, ShortLivedThreadsReuseWorkspaces) {
  Graph g;
  Expr t = hier_model(g, 20, 200);
  auto d = compile<double>(g, t);
  const std::vector<double> x = random_point(22, 7, 0.4);
  std::vector<double> ref_g(22);
  const double ref_v = d->logp_grad(x.data(), ref_g.data());
  int mismatches = 0;
  std::mutex mu;
  for (size_t wave = 0; wave < 3 * kMaxWorkspaces; ++wave) {
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th)
      threads.emplace_back([&] {
        std::vector<double> gr(22);
        const double v = d->logp_grad(x.data(), gr.data());
        std::lock_guard<std::mutex> lock(mu);
        if (v != ref_v || gr != ref_g) ++mismatches;
      });
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace exmc::graph
