// Shared by the extension's translation units: how a program is held, and the binders.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "exmc/core/log_density.hpp"
#include "exmc/runtime/cancel_token.hpp"
#include "exmc/services/program.hpp"

namespace exmc::python {

namespace py = pybind11;

// A loaded program is shared: a Python BoundModel, the densities compiled from it and a running
// sample all keep it alive (GeneratedQuantities points into its AST).
using ProgramPtr = std::shared_ptr<const services::Program>;

// [(name, shape), ...] as Python lists of tuples.
py::list vars_to_list(const std::vector<VarInfo>& vars);

// f() on a thread of its own while the calling (Python) thread waits without the GIL, taking it
// back every `poll` seconds to run Python's signal handlers. Ctrl-C, or a handler that raises,
// sets `cancel`; once f has stopped (it should soon: that is what the token is for) the exception
// is raised instead of f's result or error: KeyboardInterrupt, not a result computed half-way.
// Without this a method ran with the GIL released and signals unchecked until it was done
// (pathfinder or laplace for minutes; smc raised KeyboardInterrupt only after its last stage).
template <class F>
auto run_interruptible(runtime::CancelToken& cancel, F f, double poll = 0.05) -> decltype(f()) {
  using R = decltype(f());
  std::optional<R> result;
  std::exception_ptr failure;
  std::optional<py::error_already_set> raised;
  bool done = false;
  std::mutex mu;
  std::condition_variable cv;
  {
    py::gil_scoped_release release;
    std::thread worker([&] {
      try {
        result.emplace(f());
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      cv.notify_all();
    });
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu);
        if (cv.wait_for(lock, std::chrono::duration<double>(poll), [&] { return done; })) break;
      }
      py::gil_scoped_acquire gil;
      if (!raised && PyErr_CheckSignals() != 0) {
        cancel.cancel();
        raised.emplace();  // fetches (and clears) the handler's exception
      }
    }
    worker.join();
  }
  if (raised) throw *raised;
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

void bind_sample(py::module_& m);
void bind_analysis(py::module_& m);
void bind_methods(py::module_& m);

}  // namespace exmc::python
