// exmc sample --serve [HOST:]PORT: the live dashboard (src/dashboard), fed by the sampler's observer.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "cli.hpp"
#include "exmc/dashboard/dashboard.hpp"
#include "exmc/runtime/cancel_token.hpp"
#include "exmc/services/sample.hpp"

namespace exmc::cli {

struct ServeAddress {
  std::string host = "127.0.0.1";
  int port = 0;
};
// "PORT", "HOST:PORT" or "[IPV6]:PORT"; throws std::invalid_argument naming --serve.
ServeAddress parse_serve(const std::string& spec);

// Before anything is loaded (no-op without --serve): throws std::invalid_argument for a malformed
// address or a host beyond loopback without --serve-allow-remote, std::runtime_error for a build
// without the dashboard.
void check_serve(const SampleOptions& opts);

class SampleDashboard {
 public:
  // Listens (nullptr without --serve) and says where on `err`; `chains` are this process's.
  static std::unique_ptr<SampleDashboard> start(const SampleOptions& opts, const services::SampleJob& job,
                                                const std::string& model, unsigned chains, std::ostream& err);
  // The dashboard sees every event the observer already handles (those run first).
  void attach(services::SampleObserver& observer);
  // The run ended ("done", "interrupted", "failed"): the final state goes out at once.
  void finish(const std::string& state);
  // Keeps serving that many seconds (--serve-linger), for a last look; Ctrl-C / SIGTERM (the
  // token) end it early.
  void linger(double seconds, const runtime::CancelToken& cancel, std::ostream& err);

 private:
  std::unique_ptr<dashboard::Dashboard> d_;
};

}  // namespace exmc::cli
