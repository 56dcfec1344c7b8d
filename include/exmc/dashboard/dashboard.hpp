// A live dashboard for a running `exmc sample`: an HTTP server (cpp-httplib) on its own threads
// that serves one page (HTML, JS and CSS compiled into the binary) and pushes the run to every
// viewer as server-sent events (GET /events): a snapshot of the history first, then updates.
// Loopback only unless allow_remote. Memory stays bounded however long the run: the history is
// thinned (history.hpp) and a viewer that falls behind loses its backlog for a fresh snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "exmc/dashboard/history.hpp"

namespace exmc::dashboard {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;               // 0: a free port (see Dashboard::port())
  bool allow_remote = false;  // a host that is not a loopback address is refused without it
  double tick_seconds = 0.25;  // how often new draws and progress go out
  double diag_seconds = 1.0;   // R-hat / ESS at most this often (less often when they cost more)
  size_t max_viewers = 32;     // more get 503
  // A viewer's backlog: beyond either bound (one event always fits) it is dropped, and the viewer
  // gets a fresh snapshot when it reads again.
  size_t queue_events = 64;
  size_t queue_bytes = size_t(4) << 20;
  HistoryOptions history;
};

// Whether this build has the server (cpp-httplib was found); without it Dashboard throws.
bool available();
// 127.0.0.0/8, ::1, or a name all of whose addresses are such ("localhost").
bool is_loopback(const std::string& host);

class Dashboard {
 public:
  // Binds and starts serving. Throws std::invalid_argument for a non-loopback host without
  // allow_remote, std::runtime_error when the address cannot be bound or the build lacks the server.
  Dashboard(RunInfo info, ServerOptions opts);
  ~Dashboard();  // stops serving; open event streams end
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  int port() const;
  std::string url() const;            // http://HOST:PORT/
  std::string bound_address() const;  // the listening socket's address, as the kernel has it

  // services::SampleObserver's events (thread-safe; cheap: no formatting on the caller's thread).
  void on_draw(unsigned chain, bool warmup, unsigned iteration, const double* stats, const double* row);
  void on_iteration(unsigned chain, unsigned done);
  // The run ended ("done", "interrupted", "failed"): final diagnostics go out at once.
  void finish(const std::string& state);

  History& history();
  struct Stats {
    size_t viewers = 0;        // event streams open now
    size_t queued_bytes = 0;   // events waiting in viewers' queues
    size_t history_bytes = 0;  // History::memory_bytes()
    uint64_t updates = 0;      // update events published
    uint64_t resyncs = 0;      // backlogs dropped for a snapshot (slow viewers)
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace exmc::dashboard
