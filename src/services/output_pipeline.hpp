// Takes the per-draw output work of a run (generated quantities, formatting, writing) off the
// chains' threads without changing what is written: each chain hands its draws, its adaptation
// and its checkpoints to a bounded queue of its own, and they are handled in the order the chain
// produced them, by one thread at a time: the run's output thread, or the chain itself when its
// queue is full (so a run with no spare core degrades to what it was, inline). Which thread
// handles an item never changes the item's result: a chain's random streams for generated
// quantities are only touched in that order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exmc/nuts/adaptation_state.hpp"
#include "exmc/nuts/sample_stats.hpp"

namespace exmc::services::detail {

struct OutputItem {
  enum class Kind { kDraw, kAdaptation, kCheckpoint };
  Kind kind = Kind::kDraw;
  bool warmup = false;
  unsigned iteration = 0;        // kDraw: 0-based, counting warmup; kCheckpoint: iterations done
  nuts::SampleStats stats;       // kDraw
  std::vector<double> values;    // kDraw: the constrained values (sized once per slot)
  nuts::AdaptationState adaptation;  // kAdaptation
  std::string state;             // kCheckpoint
};

class OutputPipeline {
 public:
  // Called for every item, in each chain's order, never for one chain on two threads at once
  // (calls for different chains may overlap). It must not throw: it records its own failures.
  using Handler = std::function<void(unsigned chain, OutputItem& item)>;

  // `values`: the size of a draw's values; `slot_bytes_budget` bounds each chain's queue
  // (between 4 and 128 items). Without `output_thread` every chain handles its items as it
  // pushes them (the handoff costs more than it saves when no core is free, or when a draw's
  // output is a few numbers).
  OutputPipeline(unsigned chains, size_t values, Handler handler, bool output_thread = true,
                 size_t slot_bytes_budget = 1 << 20);
  ~OutputPipeline();  // finish()es if not done
  OutputPipeline(const OutputPipeline&) = delete;
  OutputPipeline& operator=(const OutputPipeline&) = delete;

  // Chain `chain`'s thread only: a free item to fill, then push() it. When the queue is full the
  // calling thread handles the chain's queued items first.
  OutputItem& next(unsigned chain);
  void push(unsigned chain);

  // After every chain has stopped pushing: stops the output thread and handles what is left.
  void finish();

 private:
  struct Queue {
    std::vector<OutputItem> slots;
    std::atomic<size_t> head{0}, tail{0};  // pushed / handled, counting from 0
    std::mutex handling;                   // held by whoever handles this chain's items
  };
  void drain(Queue& q, unsigned chain);  // with q.handling held
  void output_thread();

  std::vector<std::unique_ptr<Queue>> queues_;
  Handler handler_;
  // The output thread sleeps on wake_ only after finding nothing to do, saying so in sleeping_;
  // a push wakes it only then (a notify per draw would be a system call per draw).
  std::atomic<uint64_t> pushes_{0};
  std::atomic<bool> stop_{false}, sleeping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool threaded_ = false;
  std::thread thread_;
  bool finished_ = false;
};

}  // namespace exmc::services::detail
