#include "output_pipeline.hpp"

#include <algorithm>

namespace exmc::services::detail {

OutputPipeline::OutputPipeline(unsigned chains, size_t values, Handler handler, bool output_thread,
                               size_t slot_bytes_budget)
    : handler_(std::move(handler)), threaded_(output_thread) {
  const size_t row_bytes = std::max<size_t>(1, values * sizeof(double));
  const size_t capacity = std::clamp<size_t>(slot_bytes_budget / row_bytes, 4, 128);
  queues_.reserve(chains);
  for (unsigned c = 0; c < chains; ++c) {
    auto q = std::make_unique<Queue>();
    q->slots.resize(capacity);
    for (auto& s : q->slots) s.values.resize(values);
    queues_.push_back(std::move(q));
  }
  if (threaded_) thread_ = std::thread([this] { this->output_thread(); });
}

OutputPipeline::~OutputPipeline() { finish(); }

OutputItem& OutputPipeline::next(unsigned chain) {
  Queue& q = *queues_[chain];
  const size_t head = q.head.load(std::memory_order_relaxed);
  if (head - q.tail.load(std::memory_order_acquire) == q.slots.size()) {
    std::lock_guard<std::mutex> lock(q.handling);
    drain(q, chain);
  }
  return q.slots[head % q.slots.size()];
}

void OutputPipeline::push(unsigned chain) {
  Queue& q = *queues_[chain];
  q.head.store(q.head.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  if (!threaded_) {
    std::lock_guard<std::mutex> lock(q.handling);
    drain(q, chain);
    return;
  }
  // Sequentially consistent, with the sleeper's store of sleeping_ and its reading of pushes_:
  // either it sees this push, or this sees it asleep and wakes it.
  pushes_.fetch_add(1);
  if (sleeping_.load()) {
    std::lock_guard<std::mutex> lock(wake_mu_);
    wake_.notify_one();
  }
}

void OutputPipeline::drain(Queue& q, unsigned chain) {
  size_t tail = q.tail.load(std::memory_order_relaxed);
  for (size_t head = q.head.load(std::memory_order_acquire); tail != head;
       head = q.head.load(std::memory_order_acquire)) {
    for (; tail != head; ++tail) {
      handler_(chain, q.slots[tail % q.slots.size()]);
      q.tail.store(tail + 1, std::memory_order_release);
    }
  }
}

void OutputPipeline::output_thread() {
  for (;;) {
    const uint64_t seen = pushes_.load(std::memory_order_acquire);
    const bool stopping = stop_.load(std::memory_order_acquire);
    bool handled = false;
    for (unsigned c = 0; c < queues_.size(); ++c) {
      Queue& q = *queues_[c];
      if (q.head.load(std::memory_order_acquire) == q.tail.load(std::memory_order_acquire)) continue;
      // A chain handling its own full queue holds the lock: leave it that chain.
      std::unique_lock<std::mutex> lock(q.handling, std::try_to_lock);
      if (!lock) continue;
      drain(q, c);
      handled = true;
    }
    if (stopping) return;  // finish() handles whatever arrived after the stop was seen
    if (handled) continue;
    // Draws of small models arrive every microsecond or so: look again a few times before
    // sleeping until the next push.
    bool arrived = false;
    for (int spin = 0; spin < 64 && !arrived; ++spin) {
      std::this_thread::yield();
      arrived = pushes_.load(std::memory_order_acquire) != seen;
    }
    if (arrived) continue;
    std::unique_lock<std::mutex> lock(wake_mu_);
    sleeping_.store(true);
    wake_.wait(lock, [&] { return pushes_.load() != seen || stop_.load(); });
    sleeping_.store(false);
  }
}

void OutputPipeline::finish() {
  if (finished_) return;
  finished_ = true;
  if (threaded_) {
    {
      std::lock_guard<std::mutex> lock(wake_mu_);
      stop_.store(true);
    }
    wake_.notify_all();
    thread_.join();
  }
  for (unsigned c = 0; c < queues_.size(); ++c) {
    std::lock_guard<std::mutex> lock(queues_[c]->handling);
    drain(*queues_[c], c);
  }
}

}  // namespace exmc::services::detail
