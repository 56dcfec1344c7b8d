// The output pipeline (src/services/output_pipeline.hpp) and SampleJob on it: each chain's draws,
// adaptation and checkpoints reach the observer in the chain's order, one at a time per chain,
// and what is written does not depend on which thread wrote it or how fast the observer is.
#include "../../src/services/output_pipeline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "exmc/services/program.hpp"
#include "exmc/services/sample.hpp"

namespace exmc::services {
namespace {

using detail::OutputItem;
using detail::OutputPipeline;

TEST(OutputPipeline, EachChainsItemsInOrderOneAtATime) {
  constexpr unsigned kChains = 4, kItems = 5000;
  std::vector<std::vector<unsigned>> seen(kChains);
  std::vector<std::atomic<int>> inside(kChains);
  std::atomic<bool> overlapped{false};
  std::atomic<unsigned> slow_calls{0};
  // Slots of 1 KiB in a 4 KiB budget: 4 per chain, so the chains fill their queues and handle
  // their own items some of the time.
  OutputPipeline p(kChains, 128, [&](unsigned c, OutputItem& it) {
    if (inside[c].fetch_add(1) != 0) overlapped = true;
    seen[c].push_back(it.iteration);
    EXPECT_EQ(it.values[0], double(it.iteration));
    if (it.iteration % 997 == 0) {
      ++slow_calls;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    inside[c].fetch_sub(1);
  }, true, 4096);
  std::vector<std::thread> producers;
  for (unsigned c = 0; c < kChains; ++c)
    producers.emplace_back([&, c] {
      for (unsigned i = 0; i < kItems; ++i) {
        OutputItem& it = p.next(c);
        it.iteration = i;
        it.values[0] = double(i);
        p.push(c);
      }
    });
  for (auto& t : producers) t.join();
  p.finish();
  EXPECT_FALSE(overlapped);
  EXPECT_GT(slow_calls.load(), 0u);
  for (unsigned c = 0; c < kChains; ++c) {
    ASSERT_EQ(seen[c].size(), kItems) << c;
    for (unsigned i = 0; i < kItems; ++i) ASSERT_EQ(seen[c][i], i) << "chain " << c;
  }
}

TEST(OutputPipeline, FinishHandlesWhatIsLeftAndIsIdempotent) {
  std::vector<unsigned> seen;
  OutputPipeline p(1, 1, [&](unsigned, OutputItem& it) { seen.push_back(it.iteration); });
  for (unsigned i = 0; i < 3; ++i) {
    p.next(0).iteration = i;
    p.push(0);
  }
  p.finish();
  p.finish();
  EXPECT_EQ(seen, (std::vector<unsigned>{0, 1, 2}));
}

TEST(OutputPipeline, WithoutTheThreadEachPushIsHandledOnTheChainsThread) {
  std::vector<unsigned> seen;
  const auto self = std::this_thread::get_id();
  OutputPipeline p(2, 1, [&](unsigned c, OutputItem& it) {
    EXPECT_EQ(std::this_thread::get_id(), self);
    seen.push_back(c * 100 + it.iteration);
  }, false);
  for (unsigned i = 0; i < 3; ++i) {
    for (unsigned c = 0; c < 2; ++c) {
      p.next(c).iteration = i;
      p.push(c);
      EXPECT_EQ(seen.back(), c * 100 + i);  // handled before push returns
    }
  }
  p.finish();
  EXPECT_EQ(seen.size(), 6u);
}

// A model whose generated quantities draw random numbers: rows depend on the order in which each
// chain's generated quantities run.
Program gq_program() {
  return Program::from_source(R"(
    data { int N; vector[N] y; }
    parameters { real mu; real<lower=0> sigma; }
    model { mu ~ normal(0, 5); sigma ~ exponential(1); y ~ normal(mu, sigma); }
    generated quantities { real y_rep = normal_rng(mu, sigma); int k = poisson_rng(3); }
  )", "gq_model", R"({"N": 4, "y": [0.3, -1.2, 2.0, 0.8]})");
}

struct Event {
  char kind;  // 'd' draw, 'a' adaptation, 'c' checkpoint
  unsigned iteration;
  std::vector<double> row;
  bool operator==(const Event&) const = default;
};

struct Recorded {
  std::vector<std::vector<Event>> events;
  SampleRun run;
};

// slow_every: the observer spends 300 us on every such draw of chain 1 (its queue fills).
Recorded record(const Program& program, unsigned threads, unsigned slow_every, int throw_at_draw = -1) {
  SampleSettings s;
  s.chains = 3;
  s.threads = threads;
  s.warmup = 60;
  s.draws = 200;
  s.save_warmup = true;
  s.checkpoint_every = 50;
  SampleJob job(program, s, 7);
  Recorded r;
  r.events.resize(s.chains);
  std::vector<unsigned> draws_seen(s.chains, 0);
  SampleObserver obs;
  obs.on_draw = [&](const SampleDraw& d) {
    if (throw_at_draw >= 0 && d.chain == 0 && int(draws_seen[0]) == throw_at_draw)
      throw std::runtime_error("disk full");
    ++draws_seen[d.chain];
    if (slow_every && d.chain == 1 && d.iteration % slow_every == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    r.events[d.chain].push_back({'d', d.iteration, std::vector<double>(d.row, d.row + d.row_size)});
  };
  obs.on_adaptation = [&](unsigned c, const nuts::AdaptationState& a) {
    r.events[c].push_back({'a', 0, a.inv_metric});
  };
  obs.on_checkpoint = [&](unsigned c, unsigned done, const std::string&) { r.events[c].push_back({'c', done, {}}); };
  r.run = job.run(obs);
  return r;
}

TEST(SampleJobOutput, EventsInEachChainsOrder) {
  const auto program = gq_program();
  const auto r = record(program, 3, 0);
  ASSERT_TRUE(r.run.ok());
  for (unsigned c = 0; c < 3; ++c) {
    // Draw it, then the adaptation after the last warmup draw, then a checkpoint after every
    // 50th iteration's draw.
    std::vector<std::pair<char, unsigned>> want, got;
    for (unsigned it = 0; it < 260; ++it) {
      want.push_back({'d', it});
      if (it + 1 == 60) want.push_back({'a', 0});
      if ((it + 1) % 50 == 0 || it + 1 == 260) want.push_back({'c', it + 1});
    }
    for (const auto& e : r.events[c]) got.push_back({e.kind, e.iteration});
    EXPECT_EQ(got, want) << "chain " << c;
  }
}

TEST(SampleJobOutput, RowsDoNotDependOnThreadsOrOnASlowObserver) {
  const auto program = gq_program();
  const auto a = record(program, 3, 0), b = record(program, 1, 0), slow = record(program, 3, 3);
  ASSERT_TRUE(a.run.ok() && b.run.ok() && slow.run.ok());
  for (unsigned c = 0; c < 3; ++c) {
    EXPECT_EQ(a.events[c], b.events[c]) << "chain " << c;
    EXPECT_EQ(a.events[c], slow.events[c]) << "chain " << c;
  }
  // The generated quantities were evaluated (and are not all equal: they drew random numbers).
  const auto& first = a.events[0].front().row;
  ASSERT_EQ(first.size(), 4u);  // mu, sigma, y_rep, k
  EXPECT_NE(a.events[0][0].row[2], a.events[0][1].row[2]);
}

TEST(SampleJobOutput, AnObserverFailureStopsThatChainWithItsIteration) {
  const auto program = gq_program();
  const auto r = record(program, 3, 0, 70);
  const auto& chains = r.run.result.chains;
  EXPECT_EQ(chains[0].error, "iteration 70: disk full");
  EXPECT_TRUE(chains[1].error.empty());
  EXPECT_TRUE(chains[2].error.empty());
  EXPECT_FALSE(r.run.ok());
  // Nothing of chain 0 after the failed draw reached the observer.
  ASSERT_FALSE(r.events[0].empty());
  for (const auto& e : r.events[0])
    if (e.kind == 'd') EXPECT_LT(e.iteration, 70u);
  EXPECT_EQ(r.events[1].size(), r.events[2].size());
}

}  // namespace
}  // namespace exmc::services
