// The dashboard: GET / (the page), GET /events (server-sent events), GET /snapshot.json, served by
// the HTTP module (http_server.hpp), loaded when the first dashboard starts.
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

#ifdef EXMC_HTTP_MODULE
#include <dlfcn.h>

#include "http_server.hpp"
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

#ifndef EXMC_HTTP_MODULE

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

// The module's entry point; loaded once, never unloaded.
ExmcHttpStartFn http_start() {
  static const ExmcHttpStartFn fn = [] {
    void* h = dlopen(EXMC_HTTP_MODULE, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      throw std::runtime_error(std::string("dashboard: cannot load the HTTP module ") + EXMC_HTTP_MODULE + ": " +
                               (e ? e : "?"));
    }
    auto f = reinterpret_cast<ExmcHttpStartFn>(dlsym(h, "exmc_http_start"));
    if (!f) throw std::runtime_error(std::string("dashboard: the HTTP module ") + EXMC_HTTP_MODULE + " lacks its entry point");
    return f;
  }();
  return fn;
}

struct Dashboard::Impl {
  ServerOptions opts;
  History history;
  std::unique_ptr<http::Server> server;
  std::string host;
  std::thread publisher;

  mutable std::mutex mu;  // viewers, seq, stop; taken before any History chain lock
  std::condition_variable pub_cv;
  std::vector<std::shared_ptr<Viewer>> viewers;
  uint64_t seq = 0, resyncs = 0;
  bool stop = false;
  // Set (under mu) before the history says the run ended: from then on only finish() publishes,
  // so the first update that says "done" is the one with the final diagnostics.
  bool finishing = false;
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

  void publish(bool with_diag, bool final = false) {
    json diag;
    if (with_diag) {
      const auto t0 = Clock::now();
      diag = history.compute_diagnostics();
      diag_cost = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    std::lock_guard<std::mutex> lock(mu);
    if (finishing && !final) return;
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

  // One viewer: registered while its stream lives.
  class Stream final : public http::EventStream {
   public:
    Stream(Impl& im, std::shared_ptr<Viewer> v) : im_(im), v_(std::move(v)) {}
    ~Stream() override {
      std::lock_guard<std::mutex> lock(im_.mu);
      im_.viewers.erase(std::remove(im_.viewers.begin(), im_.viewers.end(), v_), im_.viewers.end());
    }
    bool next(std::vector<std::shared_ptr<const std::string>>& out) override {
      {
        std::unique_lock<std::mutex> lock(im_.mu);
        // At most 10 s, then a keep-alive goes out.
        v_->cv.wait_for(lock, std::chrono::seconds(10),
                        [&] { return im_.stop || v_->resync || !v_->queue.empty(); });
        // Events queued before the stop go out first: the last of a run (its "done") was queued
        // by finish() just before the dashboard closed, and was dropped.
        if (im_.stop && (v_->resync || v_->queue.empty())) return false;
        if (v_->resync) {
          v_->queue.clear();
          v_->queued_bytes = 0;
          v_->resync = false;
          out.push_back(std::make_shared<const std::string>(im_.snapshot(v_->cols)));
        } else {
          out.assign(v_->queue.begin(), v_->queue.end());
          v_->queue.clear();
          v_->queued_bytes = 0;
        }
      }
      if (out.empty()) out.push_back(std::make_shared<const std::string>(": keep-alive\n\n"));
      return true;
    }

   private:
    Impl& im_;
    std::shared_ptr<Viewer> v_;
  };

  std::shared_ptr<http::EventStream> events(const std::string& vars, http::Reply* refused) {
    auto v = std::make_shared<Viewer>();
    v->cols = history.select(vars);
    for (size_t c : v->cols) v->key += std::to_string(c) + ",";
    std::lock_guard<std::mutex> lock(mu);
    if (stop || viewers.size() >= opts.max_viewers) {
      *refused = {503, "text/plain", "too many viewers\n", {}};
      return nullptr;
    }
    viewers.push_back(v);
    return std::make_shared<Stream>(*this, v);
  }

  http::Reply get(const std::string& path, const std::string& vars) {
    if (path == "/") return {200, "text/html; charset=utf-8", kPageHtml, {{"Cache-Control", "no-cache"}}};
    if (path == "/snapshot.json") {
      const auto cols = history.select(vars);
      json s;
      {
        std::lock_guard<std::mutex> lock(mu);
        s = history.snapshot_json(cols);
        s["seq"] = seq;
      }
      return {200, "application/json", s.dump(), {}};
    }
    return {404, "text/plain", "not found\n", {}};
  }
};

Dashboard::Dashboard(RunInfo info, ServerOptions opts) {
  if (!opts.allow_remote && !is_loopback(opts.host))
    throw std::invalid_argument("dashboard: " + opts.host +
                                " is not a loopback address; anyone who can reach it could watch the run "
                                "(allow it explicitly to serve beyond this machine)");
  const ExmcHttpStartFn start = http_start();
  impl_ = std::make_unique<Impl>(std::move(info), std::move(opts));
  Impl& im = *impl_;
  im.host = strip_brackets(im.opts.host);
  http::Options ho;
  ho.host = im.host;
  ho.port = im.opts.port;
  ho.threads = im.opts.max_viewers + 8;
  http::Routes routes;
  routes.get = [&im](const std::string& path, const std::string& vars) { return im.get(path, vars); };
  routes.events_path = "/events";
  routes.events = [&im](const std::string& vars, http::Reply* refused) { return im.events(vars, refused); };
  std::string error;
  im.server.reset(start(&ho, &routes, &error));
  if (!im.server) throw std::runtime_error("dashboard: " + error);
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
  if (im.server) im.server->stop();
}

int Dashboard::port() const { return impl_->server->port(); }

std::string Dashboard::url() const {
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" + std::to_string(port()) + "/";
}

std::string Dashboard::bound_address() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  const int fd = impl_->server->listen_fd();
  if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
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
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->finishing = true;
  }
  impl_->history.finish(state);
  impl_->publish(true, true);
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
