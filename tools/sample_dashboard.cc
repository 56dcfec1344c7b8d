// exmc sample --serve: starting the dashboard, wrapping the observer, lingering after the run.
#include "sample_dashboard.hpp"

#include <chrono>
#include <ostream>
#include <stdexcept>
#include <thread>

namespace exmc::cli {

ServeAddress parse_serve(const std::string& spec) {
  ServeAddress a;
  std::string port = spec;
  if (!spec.empty() && spec.front() == '[') {
    const auto close = spec.find("]:");
    if (close == std::string::npos) throw std::invalid_argument("--serve: expected [IPV6]:PORT, got '" + spec + "'");
    a.host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
  } else if (const auto colon = spec.rfind(':'); colon != std::string::npos) {
    a.host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    if (a.host.find(':') != std::string::npos)
      throw std::invalid_argument("--serve: write an IPv6 address in brackets, [::1]:PORT");
  }
  size_t used = 0;
  int p = -1;
  try {
    p = std::stoi(port, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (a.host.empty() || used != port.size() || p < 0 || p > 65535)
    throw std::invalid_argument("--serve: expected [HOST:]PORT with PORT in 0..65535 (0: any free port), got '" +
                                spec + "'");
  a.port = p;
  return a;
}

void check_serve(const SampleOptions& opts) {
  if (opts.serve.empty()) {
    if (opts.serve_allow_remote || opts.serve_linger > 0)
      throw std::invalid_argument("--serve-allow-remote and --serve-linger need --serve");
    return;
  }
  const auto a = parse_serve(opts.serve);
  if (!dashboard::available()) throw std::runtime_error("--serve: built without the dashboard (libcpp-httplib-dev)");
  if (!dashboard::is_loopback(a.host) && !opts.serve_allow_remote)
    throw std::invalid_argument("--serve: " + a.host +
                                " is not a loopback address: anyone who can reach it could watch the run. "
                                "Add --serve-allow-remote to listen there anyway, or serve on 127.0.0.1 "
                                "(and reach it with an SSH tunnel)");
}

std::unique_ptr<SampleDashboard> SampleDashboard::start(const SampleOptions& opts, const services::SampleJob& job,
                                                        const std::string& model, unsigned chains,
                                                        std::ostream& err) {
  if (opts.serve.empty()) return nullptr;
  const auto a = parse_serve(opts.serve);
  dashboard::RunInfo info;
  info.model = model;
  info.chains = chains;
  info.warmup = opts.warmup;
  info.draws = opts.draws;
  info.thin = opts.thin;
  info.names = job.names();
  info.num_params = job.num_values();
  dashboard::ServerOptions so;
  so.host = a.host;
  so.port = a.port;
  so.allow_remote = opts.serve_allow_remote;
  auto out = std::unique_ptr<SampleDashboard>(new SampleDashboard);
  out->d_ = std::make_unique<dashboard::Dashboard>(std::move(info), so);
  if (!dashboard::is_loopback(a.host))
    err << "exmc: warning: the dashboard listens on " << out->d_->bound_address()
        << ", beyond this machine: anyone who can reach it can watch this run (no password, no encryption)\n";
  err << "exmc: dashboard at " << out->d_->url() << "\n" << std::flush;
  return out;
}

void SampleDashboard::attach(services::SampleObserver& observer) {
  auto* d = d_.get();
  observer.on_draw = [d, inner = observer.on_draw](const services::SampleDraw& draw) {
    if (inner) inner(draw);
    d->on_draw(draw.chain, draw.warmup, draw.iteration, draw.stats, draw.row);
  };
  observer.on_iteration = [d, inner = observer.on_iteration](unsigned chain, unsigned done) {
    if (inner) inner(chain, done);
    d->on_iteration(chain, done);
  };
}

void SampleDashboard::finish(const std::string& state) { d_->finish(state); }

void SampleDashboard::linger(double seconds, const runtime::CancelToken& cancel, std::ostream& err) {
  if (seconds <= 0 || cancel.cancelled()) return;
  err << "exmc: the dashboard stays up " << seconds << " s more at " << d_->url() << " (Ctrl-C ends it)\n"
      << std::flush;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until && !cancel.cancelled())
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace exmc::cli
