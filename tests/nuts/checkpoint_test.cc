// A chain saved between any two iterations and loaded into a fresh sampler continues with
// exactly the iterations the uninterrupted chain runs: every statistic and position bit for bit,
// for each metric adaptation, with saves in the init buffer, inside and at the end of adaptation
// windows, at the warmup/sampling boundary and during sampling.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "exmc/core/state_io.hpp"
#include "exmc/nuts/chain_sampler.hpp"
#include "test_util.hpp"

namespace exmc::nuts {
namespace {

using exmc::testing::scaled_normal;

struct Trace {
  std::vector<double> values;  // per iteration: the stats, then q
  void add(const SampleStats& st, const PhasePoint& z) {
    for (double v : st.as_array()) values.push_back(v);
    values.insert(values.end(), z.q.begin(), z.q.end());
  }
};

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// A correlated, badly scaled target so the dense and low-rank adapters have work to do.
std::unique_ptr<LogDensity> correlated_target() {
  return make_log_density(3, [](const double* x, double* g) {
    const double a = x[0] / 3, b = (x[1] - 0.8 * x[0]) / 0.5, c = x[2] * 10;
    g[0] = -a / 3 + 0.8 * b / 0.5;
    g[1] = -b / 0.5;
    g[2] = -c * 10;
    return -0.5 * (a * a + b * b + c * c);
  });
}

void check_resume(MetricKind kind, MetricAdaptation adapt, const std::vector<unsigned>& save_at) {
  auto ld = correlated_target();
  SamplerConfig cfg;
  cfg.metric = kind;
  cfg.metric_adaptation = adapt;
  cfg.num_warmup = 150;
  cfg.num_samples = 60;
  const unsigned total = cfg.num_warmup + cfg.num_samples;

  Trace whole;
  {
    ChainSampler s(*ld, cfg, 77, 3);
    s.initialize();
    for (unsigned i = 0; i < total; ++i) whole.add(s.iterate(), s.state());
  }
  for (unsigned at : save_at) {
    Trace resumed;
    std::string state;
    {
      ChainSampler s(*ld, cfg, 77, 3);
      s.initialize();
      for (unsigned i = 0; i < at; ++i) resumed.add(s.iterate(), s.state());
      StateWriter w;
      s.save_state(w);
      state = w.take();
      // The original goes on a little and is dropped: nothing it does afterwards may matter.
      for (unsigned i = at; i < std::min(total, at + 5); ++i) s.iterate();
    }
    ChainSampler t(*ld, cfg, 77, 3);
    StateReader r(state);
    t.load_state(r);
    EXPECT_TRUE(r.done());
    EXPECT_EQ(t.iteration(), at);
    for (unsigned i = at; i < total; ++i) resumed.add(t.iterate(), t.state());
    EXPECT_TRUE(same_bits(whole.values, resumed.values)) << "saved after iteration " << at;
    // And it learned the same metric and step size.
  }
}

// Windowed schedule for 150 warmup iterations: 15% / 75% / 10% split, windows end at 22+112-1.
const std::vector<unsigned> kSaveAt = {1, 7, 22, 23, 60, 134, 135, 149, 150, 151, 209};

TEST(ChainCheckpoint, DiagWindowedResumesBitForBit) {
  check_resume(MetricKind::Diag, MetricAdaptation::Windowed, kSaveAt);
}
TEST(ChainCheckpoint, DenseWindowedResumesBitForBit) {
  check_resume(MetricKind::Dense, MetricAdaptation::Windowed, kSaveAt);
}
TEST(ChainCheckpoint, GradientAdaptationResumesBitForBit) {
  check_resume(MetricKind::Diag, MetricAdaptation::Gradient, kSaveAt);
}
TEST(ChainCheckpoint, LowRankAdaptationResumesBitForBit) {
  check_resume(MetricKind::Diag, MetricAdaptation::LowRank, kSaveAt);
}

TEST(ChainCheckpoint, StateOfAnotherChainOrModelIsRefused) {
  auto ld = correlated_target();
  SamplerConfig cfg;
  cfg.num_warmup = 30;
  cfg.num_samples = 10;
  ChainSampler s(*ld, cfg, 1, 0);
  s.initialize();
  s.iterate();
  StateWriter w;
  s.save_state(w);
  const std::string state = w.take();
  {
    ChainSampler other_chain(*ld, cfg, 1, 1);
    StateReader r(state);
    EXPECT_THROW(other_chain.load_state(r), std::runtime_error);
  }
  {
    auto ld4 = scaled_normal(4);
    ChainSampler other_model(*ld4, cfg, 1, 0);
    StateReader r(state);
    try {
      other_model.load_state(r);
      ADD_FAILURE() << "a 3-dimensional state loaded into a 4-dimensional model";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("dimension differs"), std::string::npos) << e.what();
    }
  }
  {
    SamplerConfig longer = cfg;
    longer.num_samples = 11;
    ChainSampler other_cfg(*ld, longer, 1, 0);
    StateReader r(state);
    EXPECT_THROW(other_cfg.load_state(r), std::runtime_error);
  }
  for (size_t cut : {size_t(0), size_t(3), state.size() / 2, state.size() - 1}) {
    ChainSampler t(*ld, cfg, 1, 0);
    StateReader r(std::string_view(state).substr(0, cut));
    EXPECT_THROW(t.load_state(r), std::runtime_error) << "truncated at " << cut;
  }
}

}  // namespace
}  // namespace exmc::nuts
