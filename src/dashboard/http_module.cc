// libexmc_http.so: the dashboard's HTTP server (http_server.hpp) on cpp-httplib, loaded by
// dashboard.cc when a dashboard starts.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <httplib.h>

#include "http_server.hpp"

namespace exmc::dashboard::http {
namespace {

class HttplibServer final : public Server {
 public:
  HttplibServer(const Options& opts, Routes routes) : routes_(std::move(routes)) {
    const size_t threads = opts.threads;
    svr_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // SO_REUSEADDR only (httplib's default adds SO_REUSEPORT, which would let another process
    // bind the same port); remember the socket for listen_fd().
    svr_.set_socket_options([this](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd_ = sock;
    });
    svr_.set_keep_alive_timeout(1);
    svr_.set_write_timeout(5);
    svr_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string vars = req.has_param("vars") ? req.get_param_value("vars") : "";
      if (req.path == routes_.events_path) return events(vars, res);
      send(routes_.get(req.path, vars), res);
    });
    port_ = opts.port == 0 ? svr_.bind_to_any_port(opts.host) : (svr_.bind_to_port(opts.host, opts.port) ? opts.port : -1);
  }

  // Serving on a thread of its own. httplib's stop() does nothing until the server thread has
  // marked itself running, and that thread would then block in accept() for ever: a server
  // stopped right after it was made (on a loaded machine) hung. So this returns once it runs.
  void start() {
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 20000 && !svr_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }

  ~HttplibServer() override { stop(); }
  int port() const override { return port_; }
  int listen_fd() const override { return listen_fd_; }
  void stop() override {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  static void send(const Reply& r, httplib::Response& res) {
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_content(r.body, r.type);
  }

  void events(const std::string& vars, httplib::Response& res) {
    Reply refused;
    std::shared_ptr<EventStream> stream = routes_.events(vars, &refused);
    if (!stream) return send(refused, res);
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [stream](size_t, httplib::DataSink& sink) {
          std::vector<std::shared_ptr<const std::string>> texts;
          // The stream's end: done() sends the last chunk. Returning false instead dropped the
          // connection mid-transfer (curl: exit 18, a browser: a network error).
          if (!stream->next(texts)) {
            sink.done();
            return true;
          }
          for (const auto& t : texts)
            if (!sink.write(t->data(), t->size())) return false;
          return true;
        },
        [stream](bool) mutable { stream.reset(); });
  }

  Routes routes_;
  httplib::Server svr_;
  std::atomic<int> listen_fd_{-1};
  int port_ = -1;
  std::thread thread_;
};

// Why host:port cannot be bound ("address already in use"), found by binding it as the server
// does: httplib says only that it failed. "" when it binds now (the port was freed meanwhile).
std::string why_not_bound(const std::string& host, int port) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0)
    return gai_strerror(rc);
  std::string why;
  const int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd < 0) {
    why = std::strerror(errno);
  } else {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) why = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(res);
  if (!why.empty()) why[0] = char(std::tolower(static_cast<unsigned char>(why[0])));
  return why;
}

}  // namespace
}  // namespace exmc::dashboard::http

extern "C" __attribute__((visibility("default"))) exmc::dashboard::http::Server* exmc_http_start(
    const exmc::dashboard::http::Options* options, const exmc::dashboard::http::Routes* routes, std::string* error) {
  using exmc::dashboard::http::HttplibServer;
  auto s = std::make_unique<HttplibServer>(*options, *routes);
  if (s->port() <= 0) {
    const std::string why = exmc::dashboard::http::why_not_bound(options->host, options->port);
    *error = "cannot listen on " + options->host + ":" + std::to_string(options->port) + (why.empty() ? "" : ": " + why) +
             " (use another port, or port 0 for any free one)";
    return nullptr;
  }
  s->start();
  return s.release();
}
