// The NUTS tree: agreement with a naive Stan-shaped reference transition by transition (bit for
// bit), merge audit, regression guard.
#include "exmc/nuts/nuts_tree.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>

#include "reference_nuts.hpp"
#include "test_util.hpp"

namespace exmc::testing {
namespace {

using nuts::Leapfrog;
using nuts::Metric;
using nuts::NutsTree;
using nuts::PhasePoint;

PhasePoint start_point(Leapfrog& integ, std::vector<double> q) {
  PhasePoint z(q.size());
  z.q = std::move(q);
  integ.evaluate(z);
  return z;
}

struct Case {
  const char* name;
  std::vector<double> sd;
  Metric metric;
  double eps;
};

TEST(NutsTree, MatchesNaiveReferenceTransitionByTransition) {
  std::vector<double> dense(9, 0.0);
  dense[0] = 2.0, dense[4] = 1.0, dense[8] = 0.5, dense[1] = dense[3] = 0.3;
  std::vector<Case> cases = {
      {"unit diag", {1, 1, 1}, Metric::unit(nuts::MetricKind::Diag, 3), 0.9},
      {"scaled diag", {0.1, 1, 10}, Metric::diag({0.02, 1.5, 80}), 0.4},
      {"dense", {1, 2, 0.5}, Metric::dense(dense, 3), 0.7},
      {"divergent regime", {0.3, 1, 3}, Metric::unit(nuts::MetricKind::Diag, 3), 0.75},
      {"tiny steps hit max depth", {1, 1, 1}, Metric::unit(nuts::MetricKind::Diag, 3), 0.004},
  };
  // Wider ones too: vector loops with remainders, and copies above the small-vector cutoff.
  for (size_t d : {7u, 40u, 101u}) {
    std::vector<double> sd(d), inv(d);
    for (size_t i = 0; i < d; ++i) sd[i] = 0.2 + 0.05 * double(i % 13), inv[i] = sd[i] * sd[i] * 0.8;
    cases.push_back({d == 7 ? "7 dims" : d == 40 ? "40 dims" : "101 dims", sd, Metric::diag(inv), 0.5});
  }
  {  // dense at 12 dims: a tridiagonal, diagonally dominant (so positive definite) inverse metric
    const size_t d = 12;
    std::vector<double> sd(d), m(d * d, 0.0);
    for (size_t i = 0; i < d; ++i) {
      sd[i] = 0.3 + 0.1 * double(i % 5);
      m[i * d + i] = sd[i] * sd[i];
      if (i + 1 < d) m[i * d + i + 1] = m[(i + 1) * d + i] = 0.02;
    }
    cases.push_back({"dense 12 dims", sd, Metric::dense(m, d), 0.5});
  }
  for (const Case& c : cases) {
    const size_t d = c.sd.size();
    auto ld = scaled_normal(d, c.sd);
    Leapfrog integ_a(*ld, c.metric), integ_b(*ld, c.metric);
    Rng rng_a(77, 1), rng_b(77, 1);
    NutsTree tree(integ_a, rng_a, 10, 1000.0);
    ReferenceNuts ref(integ_b, rng_b, 10, 1000.0);
    std::vector<double> q0(d);
    for (size_t i = 0; i < d; ++i)
      q0[i] = (i % 3 == 0 ? 0.5 : i % 3 == 1 ? -1.0 : 2.0) * (d > 3 ? c.sd[i] : 1.0);
    PhasePoint za = start_point(integ_a, q0), zb = start_point(integ_b, q0);
    int divergent = 0, max_depth = 0;
    for (int t = 0; t < 300; ++t) {
      const auto a = tree.transition(za, c.eps);
      const auto b = ref.transition(zb, c.eps);
      ASSERT_EQ(za.q, zb.q) << c.name << " transition " << t;
      ASSERT_EQ(a.n_leapfrog, b.n_leapfrog) << c.name << " transition " << t;
      ASSERT_EQ(a.tree_depth, b.tree_depth) << c.name;
      ASSERT_EQ(a.divergent, b.divergent) << c.name;
      ASSERT_EQ(a.accept_stat, b.accept_stat) << c.name;
      ASSERT_EQ(a.energy, b.energy) << c.name;
      ASSERT_EQ(a.lp, za.logp);
      divergent += a.divergent;
      max_depth = std::max(max_depth, a.tree_depth);
    }
    if (std::string(c.name) == "divergent regime") EXPECT_GT(divergent, 10);
    if (std::string(c.name) == "tiny steps hit max depth") EXPECT_EQ(max_depth, 10);
  }
}

// Leaf weights exp(H0 - H) beyond the normal range of a double (energy drops or rises of more
// than 680): the tree keeps them as m * exp(e) and must still make Stan's decisions. A density
// whose gradient is zero but whose value grows along x[0] moves in straight lines (no U-turn),
// each step changing the energy by hundreds, so every merge weighs leaves far outside exp's range
// against each other.
TEST(NutsTree, MatchesReferenceWhenWeightsLeaveDoubleRange) {
  auto ld = make_log_density(3, [](const double* x, double* g) {
    g[0] = g[1] = g[2] = 0.0;
    return 300.0 * x[0];
  });
  const Metric metric = Metric::unit(nuts::MetricKind::Diag, 3);
  double drop = 0, rise = 0;
  int compared = 0;
  for (uint64_t chain = 0; chain < 20; ++chain) {
    Leapfrog integ_a(*ld, metric), integ_b(*ld, metric);
    Rng rng_a(5, chain), rng_b(5, chain);
    // A divergence limit far above 1000 keeps leaves whose energy rose by more than 680.
    NutsTree tree(integ_a, rng_a, 6, 1e9);
    ReferenceNuts ref(integ_b, rng_b, 6, 1e9);
    PhasePoint za = start_point(integ_a, {0.0, 0.0, 0.0});
    PhasePoint zb = start_point(integ_b, {0.0, 0.0, 0.0});
    for (int t = 0; t < 20; ++t) {
      const auto a = tree.transition(za, 1.0);
      const auto b = ref.transition(zb, 1.0);
      ASSERT_EQ(za.q, zb.q) << "chain " << chain << " transition " << t;
      ASSERT_EQ(a.n_leapfrog, b.n_leapfrog) << "chain " << chain << " transition " << t;
      ASSERT_EQ(a.accept_stat, b.accept_stat);
      ASSERT_EQ(a.energy, b.energy);
      ++compared;
    }
    drop = std::max(drop, ref.max_energy_drop);
    rise = std::max(rise, ref.max_energy_rise);
  }
  EXPECT_EQ(compared, 400);
  EXPECT_GT(drop, 5000.0) << "no leaf weight far above exp's range: the test does not reach that path";
  EXPECT_GT(rise, 5000.0) << "no leaf weight far below exp's range: the test does not reach that path";
}

TEST(NutsTree, MaxDepthCapsTrajectoryAt1023Leapfrogs) {
  auto ld = scaled_normal(2);
  const Metric m = Metric::unit(nuts::MetricKind::Diag, 2);
  Leapfrog integ(*ld, m);
  Rng rng(1, 0);
  NutsTree tree(integ, rng, 10, 1000.0);
  PhasePoint z = start_point(integ, {1, 1});
  const auto s = tree.transition(z, 1e-4);
  EXPECT_EQ(s.tree_depth, 10);
  EXPECT_EQ(s.n_leapfrog, 1023);
  EXPECT_FALSE(s.divergent);
  EXPECT_GT(s.accept_stat, 0.999);
}

// A cancel request set while a trajectory is built (here by the density at its k-th gradient, as
// another thread would set it) ends the transition within one more leapfrog: the tree reads the
// flag before each doubling and between the two halves of each subtree, never more than two
// leapfrogs apart. Without the flag the tiny step size runs every transition to 1023 leapfrogs
// (a dense metric at 10^4 dimensions ignored SIGTERM for over 30 s so).
TEST(NutsTree, ACancelRequestEndsTheTrajectoryWithinOneMoreLeapfrog) {
  std::atomic<bool> cancel{false};
  long calls = 0, cancel_at = -1;
  auto ld = make_log_density(4, [&](const double* x, double* g) {
    if (++calls == cancel_at) cancel.store(true);
    double lp = 0;
    for (int i = 0; i < 4; ++i) g[i] = -x[i], lp -= 0.5 * x[i] * x[i];
    return lp;
  });
  const Metric m = Metric::unit(nuts::MetricKind::Diag, 4);
  // One transition of a fresh tree (max depth 10, a step so small every doubling is taken) with
  // the flag set at leapfrog k (never for k = -1); whether the tree says it was interrupted.
  auto transition_cancelled_at = [&](long k, bool* interrupted) {
    Leapfrog integ(*ld, m);
    Rng rng(3, 0);
    NutsTree tree(integ, rng, 10, 1000.0);
    tree.set_cancel_flag(&cancel);
    PhasePoint z = start_point(integ, {0.5, -1, 2, 0.1});
    cancel = false;
    calls = 0;
    cancel_at = k;
    const auto s = tree.transition(z, 1e-4);
    *interrupted = tree.interrupted();
    return s;
  };
  for (long k : {1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 17L, 100L, 511L, 512L, 513L, 700L, 1021L}) {
    bool interrupted = false;
    const auto s = transition_cancelled_at(k, &interrupted);
    EXPECT_TRUE(interrupted) << k;
    EXPECT_GE(s.n_leapfrog, k);
    EXPECT_LE(s.n_leapfrog, k + 1) << "cancelled at leapfrog " << k;
  }
  // Set during the last pair of leaves (1022, 1023), or never: no check comes after it, and the
  // transition completes as it would have (the runner's check between iterations stops then).
  for (long k : {1022L, -1L}) {
    bool interrupted = true;
    EXPECT_EQ(transition_cancelled_at(k, &interrupted).n_leapfrog, 1023);
    EXPECT_FALSE(interrupted);
    EXPECT_EQ(cancel.load(), k > 0);
  }
}

// A flag that is never set changes nothing: the same draws, bit for bit.
TEST(NutsTree, AnUnsetCancelFlagLeavesTheDrawsAsTheyWere) {
  auto ld = scaled_normal(5, {0.3, 1, 2, 4, 1});
  const Metric m = Metric::unit(nuts::MetricKind::Diag, 5);
  Leapfrog integ_a(*ld, m), integ_b(*ld, m);
  Rng rng_a(9, 2), rng_b(9, 2);
  NutsTree a(integ_a, rng_a, 10, 1000.0), b(integ_b, rng_b, 10, 1000.0);
  std::atomic<bool> never{false};
  b.set_cancel_flag(&never);
  PhasePoint za = start_point(integ_a, {0.1, 0.2, -0.3, 1.0, 2.0});
  PhasePoint zb = za;
  for (int t = 0; t < 500; ++t) {
    const double eps = t % 3 == 0 ? 0.05 : 0.6;  // deep trees too
    const auto sa = a.transition(za, eps);
    const auto sb = b.transition(zb, eps);
    ASSERT_EQ(za.q, zb.q) << t;
    ASSERT_EQ(sa.n_leapfrog, sb.n_leapfrog) << t;
    ASSERT_EQ(sa.energy, sb.energy) << t;
    ASSERT_FALSE(b.interrupted());
  }
}

// Records every leaf and which top-level extensions were kept or thrown away.
struct MergeAudit : nuts::TreeObserver {
  std::vector<std::vector<double>> pending;
  std::set<std::vector<double>> kept, rejected;
  bool invalid_seen = false;
  int merges_after_invalid = 0, rejected_divergent = 0, rejected_uturn = 0;
  bool leaf_divergent = false;
  void on_leaf(const double* q, size_t d, bool divergent) override {
    pending.emplace_back(q, q + d);
    leaf_divergent = leaf_divergent || divergent;
  }
  void on_subtree(int, bool valid) override { invalid_seen = invalid_seen || !valid; }
  void on_merge(int) override { merges_after_invalid += invalid_seen; }
  void on_extension(int, bool valid) override {
    for (auto& q : pending) (valid ? kept : rejected).insert(q);
    if (!valid) (leaf_divergent ? rejected_divergent : rejected_uturn)++;
    pending.clear();
    invalid_seen = leaf_divergent = false;
  }
};

TEST(NutsTree, NeverMergesSubtreeThatFailedUturnOrDivergenceCheck) {
  auto ld = scaled_normal(4, {0.3, 1, 2, 4});
  const Metric m = Metric::unit(nuts::MetricKind::Diag, 4);
  Leapfrog integ(*ld, m);
  Rng rng(5, 0);
  NutsTree tree(integ, rng, 10, 1000.0);
  MergeAudit audit;
  tree.set_observer(&audit);
  PhasePoint z = start_point(integ, {0.1, 0.2, -0.3, 1.0});
  int moved = 0;
  for (int t = 0; t < 2000; ++t) {
    audit.kept.clear();
    audit.rejected.clear();
    audit.kept.insert(z.q);
    const std::vector<double> before = z.q;
    // Alternate a stable and an unstable step size to get both kinds of invalid subtree.
    tree.transition(z, t % 2 ? 0.5 : 0.68);
    ASSERT_TRUE(audit.kept.count(z.q)) << "draw is not a leaf of a kept subtree, t=" << t;
    ASSERT_FALSE(audit.rejected.count(z.q)) << "draw came from a rejected subtree, t=" << t;
    moved += z.q != before;
  }
  EXPECT_EQ(audit.merges_after_invalid, 0);
  // The audit is not vacuous: both failure kinds occurred many times.
  EXPECT_GT(audit.rejected_divergent, 50);
  EXPECT_GT(audit.rejected_uturn, 50);
  EXPECT_GT(moved, 1000);
}

// Regression guard: a fixed seed and target give a recorded trajectory and proposal. A change
// here means the sampler's behaviour changed; check it against the reference test first.
TEST(NutsTree, RegressionGuardFixedSeed) {
  auto ld = scaled_normal(3, {1, 2, 0.5});
  const Metric m = Metric::diag({1.0, 4.0, 0.25});
  Leapfrog integ(*ld, m);
  Rng rng(2026, 3);
  NutsTree tree(integ, rng, 10, 1000.0);
  PhasePoint z = start_point(integ, {0.3, -0.2, 0.1});
  long depth_sum = 0, leapfrog_sum = 0;
  for (int t = 0; t < 50; ++t) {
    const auto s = tree.transition(z, 0.8);
    depth_sum += s.tree_depth;
    leapfrog_sum += s.n_leapfrog;
  }
  const auto s = tree.transition(z, 0.8);
  EXPECT_EQ(depth_sum, 117);
  EXPECT_EQ(leapfrog_sum, 236);
  EXPECT_EQ(s.tree_depth, 2);
  EXPECT_EQ(s.n_leapfrog, 3);
  EXPECT_NEAR(z.q[0], -0.60098386869093656, 1e-12);
  EXPECT_NEAR(z.q[1], 3.0875400291039066, 1e-12);
  EXPECT_NEAR(z.q[2], -0.46177887621606567, 1e-12);
}

}  // namespace
}  // namespace exmc::testing
