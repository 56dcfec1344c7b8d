// The dashboard's HTTP server: GET / (the page), GET /events (server-sent events), GET /snapshot.json.
#include "exmc/dashboard/dashboard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#ifdef EXMC_HAVE_HTTPLIB
#include <httplib.h>
#endif

namespace exmc::dashboard {

namespace {
std::string strip_brackets(const std::string& h) {
  return h.size() >= 2 && h.front() == '[' && h.back() == ']' ? h.substr(1, h.size() - 2) : h;
}
bool loopback_addr(const sockaddr* a) {
  if (a->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(a)->sin_addr.s_addr) >> 24) == 127;
  if (a->sa_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&in6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&in6) && in6.s6_addr[12] == 127;
  }
  return false;
}
}  // namespace

bool is_loopback(const std::string& host_in) {
  const std::string host = strip_brackets(host_in);
  if (host.empty()) return false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return false;
  bool all = true;
  for (addrinfo* p = res; p; p = p->ai_next) all = all && loopback_addr(p->ai_addr);
  freeaddrinfo(res);
  return all;
}

#ifndef EXMC_HAVE_HTTPLIB

bool available() { return false; }
struct Dashboard::Impl {};
Dashboard::Dashboard(RunInfo, ServerOptions) {
  throw std::runtime_error("built without the dashboard (libcpp-httplib-dev)");
}
Dashboard::~Dashboard() = default;
int Dashboard::port() const { return 0; }
std::string Dashboard::url() const { return ""; }
std::string Dashboard::bound_address() const { return ""; }
void Dashboard::on_draw(unsigned, bool, unsigned, const double*, const double*) {}
void Dashboard::on_iteration(unsigned, unsigned) {}
void Dashboard::finish(const std::string&) {}
History& Dashboard::history() { throw std::logic_error("no dashboard"); }
Dashboard::Stats Dashboard::stats() const { return {}; }

#else

extern const char* const kPageHtml;  // page.cc, generated from page.html

bool available() { return true; }

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

struct Viewer {
  std::vector<size_t> cols;
  std::string key;  // cols as text: viewers with one key share each event's text
  std::deque<std::shared_ptr<const std::string>> queue;
  size_t queued_bytes = 0;
  bool resync = true;  // send a snapshot next (the first thing a viewer gets)
  std::condition_variable cv;
};

struct Dashboard::Impl {
  ServerOptions opts;
  History history;
  httplib::Server server;
  std::atomic<int> listen_fd{-1};
  int port = 0;
  std::string host;
  std::thread server_thread, publisher;

  mutable std::mutex mu;  // viewers, seq, stop; taken before any History chain lock
  std::condition_variable pub_cv;
  std::vector<std::shared_ptr<Viewer>> viewers;
  uint64_t seq = 0, resyncs = 0;
  bool stop = false;
  Clock::time_point next_diag;
  std::atomic<double> diag_cost{0};

  Impl(RunInfo info, ServerOptions o) : opts(std::move(o)), history(std::move(info), opts.history) {}

  std::string event_text(const char* type, uint64_t id, const json& data) {
    return "id: " + std::to_string(id) + "\nevent: " + type + "\ndata: " + data.dump() + "\n\n";
  }

  // Under mu. The history up to the last update, for one viewer.
  std::string snapshot(const std::vector<size_t>& cols) {
    json s = history.snapshot_json(cols);
    s["seq"] = seq;
    return event_text("snapshot", seq, s);
  }

  void publish(bool with_diag) {
    json diag;
    if (with_diag) {
      const auto t0 = Clock::now();
      diag = history.compute_diagnostics();
      diag_cost = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    std::lock_guard<std::mutex> lock(mu);
    const auto batch = history.take_new();
    const json progress = history.progress_json();
    ++seq;
    std::map<std::string, std::shared_ptr<const std::string>> texts;
    for (auto& v : viewers) {
      if (v->resync) continue;  // its snapshot, built when it is sent, will hold this batch
      auto& text = texts[v->key];
      if (!text) {
        json u = {{"seq", seq}, {"progress", progress}, {"draws", history.batch_json(*batch, v->cols)}};
        if (with_diag) u["diag"] = diag;
        text = std::make_shared<const std::string>(event_text("update", seq, u));
      }
      if (!v->queue.empty() && (v->queue.size() >= opts.queue_events ||
                                v->queued_bytes + text->size() > opts.queue_bytes)) {
        // Too slow: forget the backlog, send a snapshot instead (its size is bounded too).
        v->queue.clear();
        v->queued_bytes = 0;
        v->resync = true;
        ++resyncs;
      } else {
        v->queue.push_back(text);
        v->queued_bytes += text->size();
      }
      v->cv.notify_all();
    }
  }

  void publisher_loop() {
    next_diag = Clock::now();
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      pub_cv.wait_for(lock, std::chrono::duration<double>(opts.tick_seconds), [&] { return stop; });
      if (stop) break;
      lock.unlock();
      const auto now = Clock::now();
      const bool diag = now >= next_diag;
      publish(diag);
      if (diag)  // at most ~1/5 of a core on diagnostics, however many columns
        next_diag = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(std::max(opts.diag_seconds, 5 * diag_cost.load())));
      lock.lock();
    }
  }

  void events(const httplib::Request& req, httplib::Response& res) {
    auto v = std::make_shared<Viewer>();
    v->cols = history.select(req.has_param("vars") ? req.get_param_value("vars") : "");
    for (size_t c : v->cols) v->key += std::to_string(c) + ",";
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stop || viewers.size() >= opts.max_viewers) {
        res.status = 503;
        res.set_content("too many viewers\n", "text/plain");
        return;
      }
      viewers.push_back(v);
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, v](size_t, httplib::DataSink& sink) {
          std::vector<std::shared_ptr<const std::string>> out;
          {
            std::unique_lock<std::mutex> lock(mu);
            v->cv.wait_for(lock, std::chrono::seconds(10), [&] { return stop || v->resync || !v->queue.empty(); });
            if (stop) return false;
            if (v->resync) {
              v->queue.clear();
              v->queued_bytes = 0;
              v->resync = false;
              out.push_back(std::make_shared<const std::string>(snapshot(v->cols)));
            } else {
              out.assign(v->queue.begin(), v->queue.end());
              v->queue.clear();
              v->queued_bytes = 0;
            }
          }
          if (out.empty()) out.push_back(std::make_shared<const std::string>(": keep-alive\n\n"));
          for (const auto& s : out)
            if (!sink.write(s->data(), s->size())) return false;
          return true;
        },
        [this, v](bool) {
          std::lock_guard<std::mutex> lock(mu);
          viewers.erase(std::remove(viewers.begin(), viewers.end(), v), viewers.end());
        });
  }
};

Dashboard::Dashboard(RunInfo info, ServerOptions opts) {
  if (!opts.allow_remote && !is_loopback(opts.host))
    throw std::invalid_argument("dashboard: " + opts.host +
                                " is not a loopback address; anyone who can reach it could watch the run "
                                "(allow it explicitly to serve beyond this machine)");
  impl_ = std::make_unique<Impl>(std::move(info), std::move(opts));
  Impl& im = *impl_;
  im.host = strip_brackets(im.opts.host);
  auto& svr = im.server;
  const size_t threads = im.opts.max_viewers + 8;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR only (httplib's default adds SO_REUSEPORT, which would let another process
  // bind the same port); remember the socket for bound_address().
  svr.set_socket_options([&im](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    im.listen_fd = sock;
  });
  svr.set_keep_alive_timeout(1);
  svr.set_write_timeout(5);
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(kPageHtml, "text/html; charset=utf-8");
  });
  svr.Get("/events", [&im](const httplib::Request& req, httplib::Response& res) { im.events(req, res); });
  svr.Get("/snapshot.json", [&im](const httplib::Request& req, httplib::Response& res) {
    const auto cols = im.history.select(req.has_param("vars") ? req.get_param_value("vars") : "");
    json s;
    {
      std::lock_guard<std::mutex> lock(im.mu);
      s = im.history.snapshot_json(cols);
      s["seq"] = im.seq;
    }
    res.set_content(s.dump(), "application/json");
  });
  if (im.opts.port == 0) {
    im.port = svr.bind_to_any_port(im.host);
  } else {
    im.port = svr.bind_to_port(im.host, im.opts.port) ? im.opts.port : -1;
  }
  if (im.port <= 0)
    throw std::runtime_error("dashboard: cannot listen on " + im.opts.host + ":" + std::to_string(im.opts.port));
  im.server_thread = std::thread([&svr] { svr.listen_after_bind(); });
  // httplib's stop() does nothing until the server thread has marked itself running, and that
  // thread would then block in accept() for ever: a dashboard destroyed right after it was made
  // (on a loaded machine) hung in its destructor. So the constructor returns once it runs.
  for (int i = 0; i < 20000 && !svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::microseconds(100));
  im.publisher = std::thread([&im] { im.publisher_loop(); });
}

Dashboard::~Dashboard() {
  Impl& im = *impl_;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.stop = true;
    for (auto& v : im.viewers) v->cv.notify_all();
  }
  im.pub_cv.notify_all();
  if (im.publisher.joinable()) im.publisher.join();
  im.server.stop();
  if (im.server_thread.joinable()) im.server_thread.join();
}

int Dashboard::port() const { return impl_->port; }

std::string Dashboard::url() const {
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" + std::to_string(impl_->port) + "/";
}

std::string Dashboard::bound_address() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (impl_->listen_fd < 0 || getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof(buf));
  else
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof(buf));
  return buf;
}

void Dashboard::on_draw(unsigned chain, bool warmup, unsigned iteration, const double* stats, const double* row) {
  impl_->history.add_draw(chain, warmup, iteration, stats, row);
}

void Dashboard::on_iteration(unsigned chain, unsigned done) { impl_->history.add_iteration(chain, done); }

void Dashboard::finish(const std::string& state) {
  impl_->history.finish(state);
  impl_->publish(true);
}

History& Dashboard::history() { return impl_->history; }

Dashboard::Stats Dashboard::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stats s;
  s.viewers = impl_->viewers.size();
  for (const auto& v : impl_->viewers) s.queued_bytes += v->queued_bytes;
  s.history_bytes = impl_->history.memory_bytes();
  s.updates = impl_->seq;
  s.resyncs = impl_->resyncs;
  return s;
}

#endif

}  // namespace exmc::dashboard
