// Many independent items (fits) over the ranks of a World with dynamic load balance, each item
// run in a child process of its own so a fit that crashes or is killed costs only that attempt.
//
// Rank 0 coordinates: it hands out one item at a time to whichever rank asks (and, by default,
// fits items itself between messages), collects the results and retries failed items on
// another rank. The failure model, exactly:
//  - an item whose fit throws, exits non-zero, crashes or is killed (SIGKILL of the child:
//    the OOM killer, a segfault) is reported by its rank and retried, on a rank that has not
//    failed it yet when there is one, up to max_attempts times in all;
//  - an item whose fit throws InputError (its model or data is invalid: every attempt would fail
//    the same way) fails at once, after that one attempt, with its message;
//  - a worker rank that dies (SIGKILL of the rank; its fit child dies with it) stops sending
//    heartbeats: after heartbeat_timeout_s its item is handed to another rank. OpenMPI's mpirun
//    ends the whole job when a rank dies unless started with --enable-recovery; with it the
//    other ranks finish the batch. A rank presumed dead that speaks again is used again;
//  - a worker interrupted (SIGTERM, Ctrl-C: stop_requested) kills its fit, hands its item back
//    at once (not counted as an attempt) and asks for no more;
//  - rank 0 (the coordinator) dying ends the batch; results already recorded stay, and the
//    caller's resume (skipping recorded items) continues it.
// An item's result must be a pure function of the item (not of the rank or attempt), so a
// duplicate (a slow rank presumed dead that finishes after all) is harmless: the first wins.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "exmc/distributed/world.hpp"

namespace exmc::distributed {

// Thrown by a Work function for a failure another attempt would repeat (an invalid model or
// data): the item is not retried.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SchedulerOptions {
  unsigned max_attempts = 3;
  double heartbeat_timeout_s = 20;  // a busy rank silent this long is presumed dead
  double heartbeat_every_s = 0.5;
  bool coordinator_works = true;    // rank 0 fits items too
  unsigned local_jobs = 1;          // fits rank 0 runs at once (each in its own child process)
  // How the log names an item (its index in `todo`'s numbering): "item 7" by default; a caller
  // that numbers items for people otherwise (a manifest's lines from 1) says so here.
  std::function<std::string(size_t item)> item_name;
  // Polled by every rank's loop: true (Ctrl-C, SIGTERM) stops the batch. The fits in flight are
  // killed and left unresolved (neither done nor failed), so a resume runs them again.
  std::function<bool()> stop_requested;
  // Test hook: this rank kills itself (SIGKILL) 0.3 s after it starts its N-th item (0: never).
  unsigned kill_rank_at_start = 0;
  // Test hook: this rank stalls (no messages, no heartbeats) for stall_seconds after it starts
  // its N-th item, while the item's child fits on (0: never): a rank presumed dead that is not.
  unsigned stall_rank_at_start = 0;
  double stall_seconds = 0;
  // Test hook: this rank raises SIGTERM 0.3 s after it starts its N-th item (0: never).
  unsigned term_rank_at_start = 0;
};

struct ItemOutcome {
  bool done = false;
  std::string result;             // the work function's text, when done
  unsigned attempts = 0;
  int rank = -1;                  // the rank whose result was kept (failed: of the last attempt)
  bool input_error = false;       // failed with an InputError: not retried
  std::vector<std::string> errors;  // one per failed attempt: "rank R: message"
};

// Called on rank 0 as each item resolves (done, or failed max_attempts times), in the order
// they resolve; records must be written here (atomically) for a resume to skip them.
using OnResolved = std::function<void(size_t item, const ItemOutcome& outcome)>;
// Diagnostics (rank 0 only): "item 7 failed on rank 2 (killed by signal 9); retrying".
using Log = std::function<void(const std::string& line)>;
// Runs in a forked child: the item's work, returning its result text; an exception is a
// failed attempt (its what() is the error).
using Work = std::function<std::string(size_t item, unsigned attempt)>;

// Every rank calls it with the same `todo` (the items still to do). Returns on rank 0 the
// outcome of every item in `todo` (by position); on other ranks an empty vector.
std::vector<ItemOutcome> run_items(World& world, const std::vector<size_t>& todo, const Work& work,
                                   const SchedulerOptions& options, const OnResolved& on_resolved,
                                   const Log& log);

// One attempt in a child process (fork; the child never touches MPI and dies with its parent).
// What the scheduler uses; public for tests.
struct ChildOutcome {
  bool ok = false;
  bool input_error = false;  // the work threw InputError
  std::string text;  // the result, or the error
};
ChildOutcome run_in_child(const std::function<std::string()>& fn);

}  // namespace exmc::distributed
