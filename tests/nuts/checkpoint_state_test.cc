// A damaged chain state (a checkpoint that passed its checksum, as the checkpoint_fuzzer in
// fuzz/ makes them): refused with a message, never a state that reads or writes past a vector.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/core/state_io.hpp"
#include "exmc/nuts/chain_sampler.hpp"
#include "exmc/nuts/metric.hpp"

namespace exmc::nuts {
namespace {

// What reading `bytes` with `read` threw ("" when nothing).
template <class F>
std::string refusal(const std::string& bytes, F read) {
  try {
    StateReader r(bytes);
    read(r);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// A vector's length of 2^61 + 1 made its byte count (n * 8) wrap to 8: the check passed and
// std::vector refused the length ("cannot create std::vector larger than max_size()"), which
// exmc sample --resume printed as the chain's error.
TEST(CheckpointState, AVectorLengthWhoseByteCountWrapsIsATruncatedState) {
  StateWriter w;
  w.u64((uint64_t(1) << 61) + 1);
  w.f64(1.0);
  EXPECT_EQ(refusal(w.data(), [](StateReader& r) { (void)r.f64s(); }), "sampler state: truncated (reading a vector)");
  EXPECT_EQ(refusal(w.data(), [](StateReader& r) { (void)r.u64s(); }), "sampler state: truncated (reading a vector)");
  std::vector<double> out;
  StateWriter exact;
  exact.u64(uint64_t(1) << 61);
  EXPECT_EQ(refusal(exact.data(), [&](StateReader& r) { r.f64s_into(out, size_t(1) << 61, "position"); }),
            "sampler state: truncated (reading position)");
}

// A metric section written field by field (as Metric::save_state writes one).
std::string metric_section(MetricKind kind, uint64_t dim, const std::vector<std::vector<double>>& vectors) {
  StateWriter w;
  w.tag("METR");
  w.u64(static_cast<uint64_t>(kind));
  w.u64(dim);
  for (const auto& v : vectors) w.f64s(v);
  return w.data();
}

TEST(CheckpointState, ALowRankMetricWithTooFewStdsIsRefused) {
  const std::vector<double> four(4, 1.0), u(4, 0.5);
  // As written: inv, aux, stds (4), U (4 x 1), eigenvalues - 1, their isqrt - 1.
  const auto whole = metric_section(MetricKind::LowRank, 4, {four, four, four, u, {1.0}, {-0.29}});
  EXPECT_EQ(refusal(whole, [](StateReader& r) { (void)Metric::load_state(r); }), "");
  // Three stds for four dimensions: every momentum draw and velocity read the fourth past the end.
  const auto shorter = metric_section(MetricKind::LowRank, 4, {four, four, {1.0, 1.0, 1.0}, u, {1.0}, {-0.29}});
  EXPECT_EQ(refusal(shorter, [](StateReader& r) { (void)Metric::load_state(r); }), "sampler state: corrupt metric");
}

TEST(CheckpointState, ADenseMetricWhoseSizeWrapsIsRefused) {
  // d = 2^32: d * d wrapped to 0, so empty vectors passed as a 2^32-dimensional metric.
  const auto s = metric_section(MetricKind::Dense, uint64_t(1) << 32, {{}, {}, {}, {}, {}, {}});
  EXPECT_EQ(refusal(s, [](StateReader& r) { (void)Metric::load_state(r); }), "sampler state: corrupt metric");
}

// A chain's state whose metric is of another dimension than the model (its own sizes agreeing):
// it was taken, and the leapfrog steps indexed the metric by the model's dimension.
TEST(CheckpointState, AMetricOfAnotherDimensionThanTheModelIsRefused) {
  const auto ld = make_log_density(3, [](const double* x, double* g) {
    for (int i = 0; i < 3; ++i) g[i] = -x[i];
    return -0.5 * (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  });
  SamplerConfig cfg;
  cfg.num_warmup = 30;
  cfg.num_samples = 10;
  ChainSampler a(*ld, cfg, 5, 0);
  a.initialize();
  StateWriter w;
  a.save_state(w);
  std::string state = w.data();
  // The chain starts from the unit metric: its section is that of Metric::unit(Diag, 3).
  StateWriter three, two;
  Metric::unit(MetricKind::Diag, 3).save_state(three);
  Metric::unit(MetricKind::Diag, 2).save_state(two);
  const auto at = state.find(three.data());
  ASSERT_NE(at, std::string::npos);
  state.replace(at, three.data().size(), two.data());
  {
    ChainSampler b(*ld, cfg, 5, 0);
    StateReader r(w.data());
    b.load_state(r);  // the state as saved loads
  }
  ChainSampler c(*ld, cfg, 5, 0);
  EXPECT_EQ(refusal(state, [&](StateReader& r) { c.load_state(r); }),
            "sampler state: the metric has dimension 2, the model 3");
}

}  // namespace
}  // namespace exmc::nuts
