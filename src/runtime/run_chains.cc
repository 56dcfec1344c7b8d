// Chain runner: a small thread pool pulling chain ids, each chain a pure function of its seed.
#include "exmc/runtime/run_chains.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "exmc/core/state_io.hpp"
#include "exmc/nuts/chain_sampler.hpp"

namespace exmc::runtime {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void run_one(const LogDensity& density, const RunConfig& cfg, const Callbacks& cb, unsigned c,
             ChainResult& out, ChainProgress* progress) {
  nuts::SamplerConfig sc = cfg.sampler;
  if (!cfg.chain_init_values.empty()) {
    sc.init_values = cfg.chain_init_values[c];
    sc.init_x.clear();
  }
  if (!cfg.chain_init_x.empty()) {
    sc.init_x = cfg.chain_init_x[c];
    sc.init_values.clear();
  }
  out.chain = c;
  const size_t n_out = total_size(density.output_vars());
  out.num_values = n_out;
  std::vector<double> values(n_out);
  const unsigned thin = std::max(1u, sc.thin);
  const size_t kept_samples = (size_t(sc.num_samples) + thin - 1) / thin;
  const size_t kept_warmup = (size_t(sc.num_warmup) + thin - 1) / thin;
  if (cfg.keep_draws) {
    out.draws.reserve(kept_samples * n_out);
    out.stats.reserve(kept_samples);
    if (cfg.save_warmup) {
      out.warmup_draws.reserve(kept_warmup * n_out);
      out.warmup_stats.reserve(kept_warmup);
    }
  }
  if (progress) {
    progress->total = sc.num_warmup + sc.num_samples;
    progress->num_warmup = sc.num_warmup;
    progress->start_ns = Clock::now().time_since_epoch().count();
    progress->started = true;
  }

  std::optional<nuts::ChainSampler> sampler;
  auto t_phase = Clock::now();
  const std::string* resume = cfg.resume_states.empty() || cfg.resume_states[c].empty()
                                  ? nullptr : &cfg.resume_states[c];
  try {
    sampler.emplace(density, sc, cfg.seed, cfg.chain_offset + c);
    if (resume) {
      StateReader r(*resume);
      r.tag("RUNC");
      sampler->load_state(r);
      out.divergences = r.u64();
      out.warmup_divergences = r.u64();
      out.warmup_grad_evals = r.u64();
      out.warmup_seconds = r.f64();
      const double phase_seconds = r.f64();
      // Times a run can have taken (under about 30 years): a damaged one (1e135 s, NaN) was
      // converted to the clock's integer nanoseconds, undefined behaviour (the checkpoint fuzzer).
      for (const double t : {out.warmup_seconds, phase_seconds})
        if (!(t >= 0 && t < 1e9)) throw std::runtime_error("sampler state: corrupt phase time");
      // The current phase's clock continues from the time it had run.
      t_phase -= std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(phase_seconds));
      if (!r.done()) throw std::runtime_error("sampler state: trailing bytes");
    } else {
      sampler->initialize();
    }
  } catch (const std::bad_alloc&) {
    out.error = "out of memory while initialising the chain";
    out.out_of_memory = true;
    if (progress) {
      progress->failed = true;  // before done: the reporter reads done first
      progress->done = true;
    }
    return;
  } catch (const std::exception& e) {
    out.error = e.what();
    if (progress) {
      progress->failed = true;  // before done: the reporter reads done first
      progress->done = true;
    }
    return;
  }
  // A long trajectory notices a cancel between its subtrees, not only between iterations (a
  // dense metric at 10^4 dimensions ignored SIGTERM for over 30 s).
  if (cfg.cancel) sampler->set_cancel_flag(&cfg.cancel->flag());
  auto checkpoint = [&](unsigned done) {
    // Counted first, then written into a buffer of that size: grown by doubling, it held up to
    // three times the state at once (a dense metric's state holds several d x d matrices).
    const auto write = [&](StateWriter& w) {
      w.tag("RUNC");
      sampler->save_state(w);
      w.u64(out.divergences);
      w.u64(out.warmup_divergences);
      w.u64(out.warmup_grad_evals);
      w.f64(out.warmup_seconds);
      w.f64(seconds_since(t_phase));
    };
    StateWriter count = StateWriter::counter();
    write(count);
    StateWriter w;
    w.reserve(count.size());
    write(w);
    cb.on_checkpoint(c, done, w.data());
  };

  const unsigned total = sc.num_warmup + sc.num_samples;
  for (unsigned it = sampler->iteration(); it < total; ++it) {
    if (cfg.cancel && cfg.cancel->cancelled()) {
      out.cancelled = true;
      break;
    }
    const bool warmup = it < sc.num_warmup;
    // Adaptation overflow, a failed step size search, a throwing constrain() or callback (an
    // I/O error in a writer) stop this chain with a message; the other chains go on.
    try {
      const nuts::SampleStats& st = sampler->iterate();
      // Cancelled inside the trajectory: the iteration did not complete; nothing of it is kept
      // (no draw, no checkpoint).
      if (sampler->interrupted()) {
        out.cancelled = true;
        break;
      }
      // Stan's rule: the m-th iteration of a phase (0-based) is output when m % thin == 0.
      const unsigned in_phase = warmup ? it : it - sc.num_warmup;
      const bool kept = in_phase % thin == 0;
      if (kept) density.constrain(sampler->state().q.data(), values.data());
      if (warmup) {
        out.warmup_divergences += st.divergent;
        if (kept && cfg.keep_draws && cfg.save_warmup) {
          out.warmup_draws.insert(out.warmup_draws.end(), values.begin(), values.end());
          out.warmup_stats.push_back(st);
        }
      } else {
        out.divergences += st.divergent;
        if (kept && cfg.keep_draws) {
          out.draws.insert(out.draws.end(), values.begin(), values.end());
          out.stats.push_back(st);
        }
      }
      if (kept && cb.on_draw) cb.on_draw(DrawEvent{c, warmup, it, values.data(), n_out, st, sampler->state().q.data()});
      if (progress) {
        progress->iteration.store(it + 1, std::memory_order_relaxed);
        progress->divergences.store(out.divergences, std::memory_order_relaxed);
        progress->warmup_divergences.store(out.warmup_divergences, std::memory_order_relaxed);
        progress->grad_evals.store(sampler->grad_evals(), std::memory_order_relaxed);
        progress->step_size.store(sampler->step_size(), std::memory_order_relaxed);
      }
      if (it + 1 == sc.num_warmup) {
        out.warmup_seconds = seconds_since(t_phase);
        out.warmup_grad_evals = sampler->grad_evals();
        t_phase = Clock::now();
        if (cb.on_adaptation) cb.on_adaptation(c, sampler->adaptation());
      }
      if (cfg.checkpoint_every > 0 && cb.on_checkpoint &&
          ((it + 1) % cfg.checkpoint_every == 0 || it + 1 == total))
        checkpoint(it + 1);
    } catch (const std::bad_alloc&) {
      out.error = "iteration " + std::to_string(it) + ": out of memory";
      out.out_of_memory = true;
      break;
    } catch (const std::exception& e) {
      out.error = "iteration " + std::to_string(it) + ": " + e.what();
      break;
    }
  }
  if (sc.num_warmup == 0) {
    out.warmup_grad_evals = sampler->grad_evals();
    if (cb.on_adaptation && !out.cancelled) {
      try {
        cb.on_adaptation(c, sampler->adaptation());
      } catch (const std::exception& e) {
        out.error = e.what();
      }
    }
  }
  if (sampler->iteration() >= sc.num_warmup) out.sampling_seconds = seconds_since(t_phase);
  else out.warmup_seconds = seconds_since(t_phase);
  out.adaptation = sampler->release_adaptation();  // the chain is done: moved, not copied
  out.grad_evals = sampler->grad_evals();
  out.recoveries = sampler->faults();
  if (progress) {
    progress->grad_evals = out.grad_evals;
    // An interrupted chain said "done 47136/101000", as if it had completed.
    progress->failed = !out.error.empty();
    progress->stopped = out.cancelled;
    progress->done = true;
  }
}

}  // namespace

void RunResult::throw_if_failed() const {
  // ChainResult::error says what went wrong, not which chain: every reader (exmc sample, the
  // Python module, sbc) puts "chain K: " (from 1) before it; with a 0-based "chain K" of its own
  // inside, a failed first chain read "chain 1: chain 0: bad initial values".
  for (const auto& c : chains)
    if (!c.error.empty()) throw std::runtime_error("chain " + std::to_string(c.chain + 1) + ": " + c.error);
}

unsigned chain_threads(const RunConfig& cfg) {
  const unsigned threads = cfg.num_threads ? cfg.num_threads : std::max(1u, std::thread::hardware_concurrency());
  return std::max(1u, std::min(threads, cfg.num_chains));
}

RunResult run_chains(const LogDensity& density, const RunConfig& cfg, const Callbacks& cb) {
  // No chains is no run: an empty result passed throw_if_failed and read as a run without draws.
  if (cfg.num_chains == 0) throw std::invalid_argument("run_chains: num_chains must be >= 1, got 0");
  RunResult res;
  res.names = flat_names(density.output_vars());
  res.chains.resize(cfg.num_chains);
  if (!cfg.chain_init_values.empty() && cfg.chain_init_values.size() != cfg.num_chains)
    throw std::invalid_argument("chain_init_values has " +
                                std::to_string(cfg.chain_init_values.size()) +
                                " entries but num_chains is " + std::to_string(cfg.num_chains));
  if (!cfg.resume_states.empty() && cfg.resume_states.size() != cfg.num_chains)
    throw std::invalid_argument("resume_states has " + std::to_string(cfg.resume_states.size()) +
                                " entries but num_chains is " + std::to_string(cfg.num_chains));
  if (!cfg.chain_init_x.empty() && cfg.chain_init_x.size() != cfg.num_chains)
    throw std::invalid_argument("chain_init_x has " + std::to_string(cfg.chain_init_x.size()) +
                                " entries but num_chains is " + std::to_string(cfg.num_chains));
  const auto t0 = Clock::now();

  std::unique_ptr<ProgressReporter> reporter;
  if (cfg.progress.enabled) {
    reporter = std::make_unique<ProgressReporter>(cfg.num_chains, cfg.progress);
    reporter->start();
  }

  const unsigned threads = chain_threads(cfg);

  std::atomic<unsigned> next{0};
  auto worker = [&] {
    for (unsigned c = next.fetch_add(1); c < cfg.num_chains; c = next.fetch_add(1))
      run_one(density, cfg, cb, c, res.chains[c], reporter ? &reporter->chain(c) : nullptr);
  };
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (reporter) reporter->stop();
  res.wall_seconds = seconds_since(t0);
  for (const auto& c : res.chains) res.cancelled = res.cancelled || c.cancelled;
  return res;
}

RunResult run_chains(const LogDensity& density, const RunConfig& cfg, const DrawCallback& on_draw) {
  Callbacks cb;
  cb.on_draw = on_draw;
  return run_chains(density, cfg, cb);
}

}  // namespace exmc::runtime
