// NUTS from Python: a services::SampleJob run on its own thread while the calling thread waits
// in short slices with the GIL released, taking it back only to let Python run its signal
// handlers (Ctrl-C) and the progress callback. Each kept draw is copied once, by the chain's
// worker thread, straight into a preallocated numpy buffer.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "common.hpp"
#include "exmc/runtime/cancel_token.hpp"
#include "exmc/services/sample.hpp"

namespace exmc::python {
namespace {

// Iterations a phase of n keeps with thinning: Stan's rule keeps the m-th when m % thin == 0.
size_t kept(unsigned n, unsigned thin) { return (size_t(n) + thin - 1) / thin; }

py::list to_list(const std::vector<std::atomic<size_t>>& counts) {
  py::list out;
  for (const auto& c : counts) out.append(c.load(std::memory_order_acquire));
  return out;
}

py::dict sample(ProgramPtr program, unsigned chains, unsigned warmup, unsigned draws, uint64_t seed,
                unsigned threads, const std::string& metric, double adapt_delta, int max_depth,
                const std::string& init, const std::vector<std::pair<std::string, std::vector<double>>>& init_values,
                unsigned thin, bool save_warmup, const std::string& precision, bool native_progress,
                py::object progress, double poll_seconds, bool fixed_param) {
  runtime::CancelToken cancel;
  services::SampleSettings ss;
  ss.chains = chains;
  ss.threads = threads;
  ss.warmup = warmup;
  ss.draws = draws;
  ss.thin = thin;
  ss.adapt_delta = adapt_delta;
  ss.max_depth = max_depth;
  ss.metric = metric;
  ss.init = init;
  ss.init_name = "init";  // the messages name Python's argument, not the command's --init
  ss.init_values = init_values;
  ss.save_warmup = save_warmup;
  ss.fixed_param = fixed_param;
  if (precision != "f64" && precision != "f32")
    throw std::invalid_argument("precision: expected 'f64' or 'f32', got '" + precision + "'");
  ss.precision = precision == "f32" ? services::Precision::kF32 : services::Precision::kF64;
  ss.progress = native_progress;
  ss.cancel = &cancel;
  if (thin < 1) throw std::invalid_argument("thin must be >= 1");

  std::unique_ptr<services::SampleJob> job;
  {
    // Compiling (and Pathfinder, for init="pathfinder") needs no Python.
    py::gil_scoped_release release;
    job = std::make_unique<services::SampleJob>(*program, ss, seed);
  }

  const size_t row = job->names().size();
  const auto stat_names = job->stat_names();
  const size_t nstat = stat_names.size();
  const size_t cap_d = kept(draws, thin), cap_w = save_warmup ? kept(warmup, thin) : 0;
  using Arr = py::array_t<double>;
  // Uninitialised until written; Python only ever looks at the first counts[c] draws of chain c.
  Arr values({size_t(chains), cap_d, row}), stats({size_t(chains), cap_d, nstat});
  Arr wvalues({size_t(chains), cap_w, row}), wstats({size_t(chains), cap_w, nstat});
  double* pv = values.mutable_data();
  double* ps = stats.mutable_data();
  double* pwv = wvalues.mutable_data();
  double* pws = wstats.mutable_data();
  std::vector<std::atomic<size_t>> counts(chains), wcounts(chains);
  for (auto& c : counts) c.store(0);
  for (auto& c : wcounts) c.store(0);

  std::vector<std::atomic<size_t>> iterations(chains);  // warmup included, for the progress bars
  for (auto& c : iterations) c.store(0);

  services::SampleObserver observer;
  observer.on_iteration = [&](unsigned chain, unsigned done) {
    iterations[chain].store(done, std::memory_order_relaxed);
  };
  observer.on_draw = [&](const services::SampleDraw& d) {
    // One chain's calls are sequential, so its counter needs no read-modify-write; release
    // publishes the copied values to the progress poller.
    auto& count = d.warmup ? wcounts[d.chain] : counts[d.chain];
    const size_t cap = d.warmup ? cap_w : cap_d;
    const size_t i = count.load(std::memory_order_relaxed);
    if (i >= cap) return;
    std::memcpy((d.warmup ? pwv : pv) + (d.chain * cap + i) * row, d.row, row * sizeof(double));
    std::memcpy((d.warmup ? pws : ps) + (d.chain * cap + i) * nstat, d.stats, nstat * sizeof(double));
    count.store(i + 1, std::memory_order_release);
  };

  services::SampleRun run;
  std::exception_ptr failure;
  bool done = false, interrupted = false;
  std::mutex mu;
  std::condition_variable cv;
  // An exception from Python (the progress callback, a signal handler other than Ctrl-C's) to
  // re-raise once the chains have stopped.
  std::optional<py::error_already_set> pending;
  {
    py::gil_scoped_release release;
    std::thread worker([&] {
      try {
        run = job->run(observer);
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      cv.notify_all();
    });
    const auto slice = std::chrono::duration<double>(poll_seconds);
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu);
        if (cv.wait_for(lock, slice, [&] { return done; })) break;
      }
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        // Ctrl-C (or any handler that raised): stop the chains; they return what they have.
        cancel.cancel();
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
          interrupted = true;
          PyErr_Clear();
        } else if (!pending) {
          pending.emplace();  // fetches (and clears) the error
        } else {
          PyErr_Clear();
        }
      }
      if (!progress.is_none() && !cancel.cancelled()) {
        try {
          progress(to_list(iterations), false);
        } catch (py::error_already_set& e) {
          cancel.cancel();
          if (e.matches(PyExc_KeyboardInterrupt)) interrupted = true;
          else if (!pending) pending = e;
        }
      }
    }
    worker.join();
  }
  if (pending) throw *pending;
  if (failure) std::rethrow_exception(failure);
  if (!progress.is_none()) progress(to_list(iterations), true);

  py::list errors;
  uint64_t grad_evals = 0, divergences = 0;
  for (const auto& c : run.result.chains) {
    if (!c.error.empty()) errors.append(py::make_tuple(c.chain, c.error));
    grad_evals += c.grad_evals;
    divergences += c.divergences;
  }
  py::dict out;
  out["values"] = values;
  out["stats"] = stats;
  out["warmup_values"] = wvalues;
  out["warmup_stats"] = wstats;
  out["counts"] = to_list(counts);
  out["warmup_counts"] = to_list(wcounts);
  out["names"] = job->names();
  out["stat_names"] = stat_names;
  out["fixed_param"] = job->fixed_param();
  out["vars"] = vars_to_list(job->vars());
  out["gq_vars"] = vars_to_list(job->gq_vars());
  out["num_values"] = job->num_values();
  out["interrupted"] = interrupted || run.result.cancelled;
  out["errors"] = errors;
  out["notes"] = job->notes();
  out["warnings"] = job->warnings();
  out["gq_failures"] = run.gq_failures;
  out["runaway"] = run.runaway;
  out["stuck"] = run.stuck;
  out["first_gq_failure"] = run.first_gq_failure;
  out["wall_seconds"] = run.result.wall_seconds;
  out["compile_ms"] = job->compile_ms();
  out["first_iteration_ms"] = run.first_iteration_ms;
  out["grad_evals"] = grad_evals;
  out["divergences"] = divergences;
  out["seed"] = job->seed();
  out["dim"] = job->density().dim();
  return out;
}

}  // namespace

void bind_sample(py::module_& m) {
  m.def("sample", &sample, py::arg("program"), py::arg("chains"), py::arg("warmup"), py::arg("draws"),
        py::arg("seed"), py::arg("threads"), py::arg("metric"), py::arg("adapt_delta"), py::arg("max_depth"),
        py::arg("init"), py::arg("init_values"), py::arg("thin"), py::arg("save_warmup"),
        py::arg("precision"), py::arg("native_progress"), py::arg("progress"), py::arg("poll_seconds") = 0.05,
        py::arg("fixed_param") = false,
        "NUTS chains; returns the draws buffers (chain, draw, column) and what happened");
}

}  // namespace exmc::python
