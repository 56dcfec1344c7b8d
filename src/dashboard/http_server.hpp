// The HTTP server the dashboard needs, behind an interface that the HTTP module implements
// (http_module.cc with cpp-httplib, built as libexmc_http.so). dashboard.cc loads the module only
// when a dashboard starts: Debian's libcpp-httplib links OpenSSL, whose loading cost every exmc
// process ~12 ms at start when the command linked it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace exmc::dashboard::http {

struct Reply {
  int status = 200;
  std::string type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One viewer's event stream. next() waits for the next texts to send, in order (it may wait a
// while and give a keep-alive comment); false ends the stream. The texts are shared with other
// viewers, not copied. The server drops its reference when the connection ends, whichever side
// ended it.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual bool next(std::vector<std::shared_ptr<const std::string>>& texts) = 0;
};

struct Routes {
  // GET of any path but the event stream's; `vars` is the query's vars= value ("" if none).
  std::function<Reply(const std::string& path, const std::string& vars)> get;
  std::string events_path;
  // GET events_path: a stream, or null and *refused says why (e.g. 503, too many viewers).
  std::function<std::shared_ptr<EventStream>(const std::string& vars, Reply* refused)> events;
};

struct Options {
  std::string host;  // as given to bind (no brackets)
  int port = 0;      // 0: a free one
  size_t threads = 8;
};

class Server {
 public:
  virtual ~Server() = default;  // stops serving (after stop(), or stops then)
  virtual int port() const = 0;
  virtual int listen_fd() const = 0;  // -1 before bound
  virtual void stop() = 0;            // returns once the server's thread has ended
};

}  // namespace exmc::dashboard::http

extern "C" {
// The module's one entry point: bound and serving on a thread of its own, or null and *error.
using ExmcHttpStartFn = exmc::dashboard::http::Server* (*)(const exmc::dashboard::http::Options* options,
                                                            const exmc::dashboard::http::Routes* routes,
                                                            std::string* error);
}
