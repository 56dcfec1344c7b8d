// The dashboard: bounded history, the event stream seen by several viewers (httplib clients),
// a late viewer's snapshot, 20 viewers at once, a viewer that stops reading, loopback only.
#include "exmc/dashboard/dashboard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#ifdef EXMC_HAVE_HTTPLIB
#include <httplib.h>
#endif

namespace exmc::dashboard {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

RunInfo info(unsigned chains, unsigned draws) {
  RunInfo r;
  r.model = "synthetic";
  r.chains = chains;
  r.warmup = 0;
  r.draws = draws;
  r.names = {"mu", "tau", "theta.1", "theta.2"};
  r.num_params = 4;
  return r;
}

// Draw d of a chain: every 97th divergent; values a function of (chain, d) so viewers can check.
void feed(History& h, unsigned chain, unsigned d) {
  const bool div = d % 97 == 5;
  const double stats[7] = {-double(d % 13), 0.8, 0.25, 3, 7, div ? 1.0 : 0.0, 1.0};
  const double row[4] = {chain + 0.001 * d, 1.0 + (d % 7), std::sin(d * 0.1), std::cos(d * 0.1)};
  h.add_draw(chain, false, d, stats, row);
  h.add_iteration(chain, d + 1);
}

TEST(DashboardHistory, StaysUnderItsCapForAMillionDraws) {
  HistoryOptions o;
  o.cap = 2000;
  History h(info(4, 1000000), o);
  size_t bytes_at_1e5 = 0;
  for (unsigned d = 0; d < 1000000; ++d) {
    for (unsigned c = 0; c < 4; ++c) feed(h, c, d);
    if (d == 100000) bytes_at_1e5 = h.memory_bytes();
    if (d % 65536 == 0) ASSERT_LE(h.max_points(), o.cap);
  }
  EXPECT_EQ(h.draws_seen(), 4000000u);
  EXPECT_LE(h.max_points(), o.cap);
  EXPECT_GE(h.max_points(), o.cap / 2);
  // The bytes stop growing once the history is full: the same at 10^5 and 10^6 draws.
  EXPECT_EQ(h.memory_bytes(), bytes_at_1e5);
  const size_t bound = 4 * 2 * (o.cap + o.divergent_cap + 2) * (5 * sizeof(double) + 13);
  EXPECT_LE(h.memory_bytes(), bound);
  std::printf("history after 4 x 10^6 draws: %zu points per chain, %zu bytes (bound %zu)\n", h.max_points(),
              h.memory_bytes(), bound);
  // What is kept is every stride-th draw from the start: evenly spread over the whole run.
  const auto snap = h.snapshot_json({1});
  EXPECT_EQ(snap["chains"][0]["k"].size(), 0u);  // take_new() was never called: nothing published
  h.take_new();
  const auto s = h.snapshot_json({1});
  const auto& c0 = s["chains"][0];
  const uint64_t stride = c0["stride"];
  EXPECT_GE(stride, 1000000u / o.cap);
  const auto& k = c0["k"];
  ASSERT_GT(k.size(), 0u);
  EXPECT_EQ(k[0], 0u);
  for (size_t i = 1; i < k.size(); ++i) ASSERT_EQ(uint64_t(k[i]) - uint64_t(k[i - 1]), stride);
  EXPECT_GT(uint64_t(k.back()), 1000000u - stride - 1);
  // The diagnostics run on the kept draws.
  const auto d = h.compute_diagnostics();
  EXPECT_EQ(d["rhat"].size(), 5u);
  EXPECT_GT(d["n"].get<size_t>(), 100u);
}

TEST(DashboardHistory, BudgetLimitsManyColumns) {
  RunInfo r = info(4, 10000);
  r.names.clear();
  for (int i = 0; i < 100000; ++i) r.names.push_back("x." + std::to_string(i));
  HistoryOptions o;
  o.budget = size_t(1) << 22;
  History h(r, o);
  EXPECT_EQ(h.points_cap(), 10u);  // 2^22 / (4 x 100001), rounded down
}

TEST(DashboardHistory, SelectsByNameWithDefaults) {
  History h(info(2, 10));
  EXPECT_EQ(h.select(""), (std::vector<size_t>{1, 2}));
  EXPECT_EQ(h.select("theta.2,lp__"), (std::vector<size_t>{4, 0}));
  EXPECT_EQ(h.select("nope"), (std::vector<size_t>{1, 2}));
}

TEST(Dashboard, Loopback) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.3.2.1"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("[::1]"));
  EXPECT_TRUE(is_loopback("localhost"));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_FALSE(is_loopback("::"));
  EXPECT_FALSE(is_loopback("192.168.1.10"));
  EXPECT_FALSE(is_loopback(""));
}

TEST(Dashboard, RefusesNonLoopbackWithoutAllowRemote) {
  ServerOptions o;
  o.host = "0.0.0.0";
  EXPECT_THROW(Dashboard(info(1, 10), o), std::invalid_argument);
  o.host = "::";
  EXPECT_THROW(Dashboard(info(1, 10), o), std::invalid_argument);
}

#ifndef EXMC_HAVE_HTTPLIB

TEST(Dashboard, ServerNotBuilt) {
  EXPECT_FALSE(available());
  EXPECT_THROW(Dashboard(info(1, 10), ServerOptions{}), std::runtime_error);
}

#else

// Local addresses of listening TCP sockets on `port`, from /proc/net/tcp and tcp6 (hex, as the kernel writes).
std::vector<std::string> listeners(int port) {
  std::vector<std::string> out;
  for (const char* f : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(f);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string sl, local, remote, st;
      ls >> sl >> local >> remote >> st;
      const auto colon = local.rfind(':');
      if (st == "0A" && std::stoi(local.substr(colon + 1), nullptr, 16) == port) out.push_back(local.substr(0, colon));
    }
  }
  return out;
}

TEST(Dashboard, ListensOnLoopbackOnlyByDefault) {
  ASSERT_TRUE(available());
  Dashboard d(info(1, 10), ServerOptions{});
  EXPECT_GT(d.port(), 0);
  EXPECT_EQ(d.bound_address(), "127.0.0.1");
  EXPECT_EQ(d.url(), "http://127.0.0.1:" + std::to_string(d.port()) + "/");
  // The kernel's view: one listener on this port, at 127.0.0.1 (0100007F), not 0.0.0.0 or ::.
  EXPECT_EQ(listeners(d.port()), std::vector<std::string>{"0100007F"});
}

struct Event {
  std::string type, id, data;
};

// A viewer: GET /events on its own thread, events parsed as they arrive.
class Viewer {
 public:
  Viewer(int port, std::string query = "") : cli_("127.0.0.1", port) {
    thread_ = std::thread([this, query] {
      cli_.set_read_timeout(30);
      std::string buf;
      cli_.Get(("/events" + query).c_str(), [&](const char* data, size_t len) {
        buf.append(data, len);
        size_t end;
        while ((end = buf.find("\n\n")) != std::string::npos) {
          Event e;
          std::istringstream block(buf.substr(0, end));
          buf.erase(0, end + 2);
          std::string line;
          while (std::getline(block, line)) {
            if (line.rfind("id: ", 0) == 0) e.id = line.substr(4);
            else if (line.rfind("event: ", 0) == 0) e.type = line.substr(7);
            else if (line.rfind("data: ", 0) == 0) e.data += line.substr(6);
          }
          if (!e.type.empty()) {
            std::lock_guard<std::mutex> lock(mu_);
            events_.push_back(std::move(e));
          }
        }
        return !stop_;
      });
      done_ = true;
    });
  }
  ~Viewer() {
    stop_ = true;
    cli_.stop();
    thread_.join();
  }
  std::vector<Event> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  // Waits until some event's data says the run is over ("state":"done").
  bool wait_done(std::chrono::seconds limit) const {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      for (const auto& e : events())
        if (e.data.find("\"state\":\"done\"") != std::string::npos) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  bool finished() const { return done_; }

 private:
  httplib::Client cli_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Event> events_;
  std::atomic<bool> stop_{false}, done_{false};
};

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10000ms) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A viewer's picture of the run: per chain the kept draw numbers k and the first variable's value.
std::vector<std::map<uint64_t, double>> replay(const std::vector<Event>& events) {
  std::vector<std::map<uint64_t, double>> chains;
  std::vector<uint64_t> strides;
  for (const auto& e : events) {
    const auto j = json::parse(e.data);
    const auto& cs = e.type == "snapshot" ? j["chains"] : j["draws"]["chains"];
    if (e.type == "snapshot") chains.assign(cs.size(), {}), strides.assign(cs.size(), 1);
    if (chains.empty()) continue;  // updates before the snapshot cannot happen; guarded anyway
    for (size_t c = 0; c < cs.size(); ++c) {
      const uint64_t stride = cs[c]["stride"];
      for (size_t i = 0; i < cs[c]["k"].size(); ++i) chains[c][cs[c]["k"][i]] = cs[c]["v"][0][i];
      strides[c] = std::max(strides[c], stride);
      std::erase_if(chains[c], [&](const auto& kv) { return kv.first % strides[c] != 0; });
    }
  }
  return chains;
}

std::vector<std::map<uint64_t, double>> server_view(History& h) {
  const auto s = h.snapshot_json({1});
  std::vector<std::map<uint64_t, double>> chains(s["chains"].size());
  for (size_t c = 0; c < chains.size(); ++c)
    for (size_t i = 0; i < s["chains"][c]["k"].size(); ++i) chains[c][s["chains"][c]["k"][i]] = s["chains"][c]["v"][0][i];
  return chains;
}

ServerOptions fast() {
  ServerOptions o;
  o.tick_seconds = 0.02;
  o.diag_seconds = 0.1;
  o.history.cap = 500;
  return o;
}

void run_chains(Dashboard& d, unsigned chains, unsigned draws, std::chrono::microseconds pause_per_100) {
  std::vector<std::thread> ts;
  for (unsigned c = 0; c < chains; ++c)
    ts.emplace_back([&, c] {
      for (unsigned i = 0; i < draws; ++i) {
        feed(d.history(), c, i);
        if (i % 100 == 99) std::this_thread::sleep_for(pause_per_100);
      }
    });
  for (auto& t : ts) t.join();
  d.finish("done");
}

TEST(Dashboard, TwoViewersSeeTheSameEventsAndTheServersHistory) {
  Dashboard d(info(2, 20000), fast());
  Viewer a(d.port()), b(d.port());
  ASSERT_TRUE(wait_for([&] { return d.stats().viewers == 2 && !a.events().empty() && !b.events().empty(); }));
  run_chains(d, 2, 20000, 5ms);  // about a second
  ASSERT_TRUE(a.wait_done(10s));
  ASSERT_TRUE(b.wait_done(10s));
  const auto ea = a.events(), eb = b.events();
  ASSERT_EQ(ea[0].type, "snapshot");
  ASSERT_EQ(eb[0].type, "snapshot");
  // After the later of the two snapshots, the very same updates in the same order, up to the one
  // that says the run is done (the publisher keeps ticking after that, so each list read here
  // may end a tick later than the other).
  const uint64_t from = std::max(std::stoull(ea[0].id), std::stoull(eb[0].id));
  auto run_updates = [from](const std::vector<Event>& es) {
    std::vector<std::string> u;
    for (const auto& e : es) {
      if (e.type != "update" || std::stoull(e.id) <= from) continue;
      u.push_back(e.id + e.data);
      if (e.data.find("\"state\":\"done\"") != std::string::npos) break;
    }
    return u;
  };
  const std::vector<std::string> ua = run_updates(ea), ub = run_updates(eb);
  EXPECT_GT(ua.size(), 10u);
  auto ids = [](const std::vector<Event>& es) {
    std::string s;
    for (const auto& e : es) s += e.type.substr(0, 1) + e.id + " ";
    return s;
  };
  EXPECT_EQ(ua, ub) << d.stats().resyncs << " resyncs; event ids:\n" << ids(ea) << "\n" << ids(eb);
  for (size_t i = 1; i < ea.size(); ++i) EXPECT_EQ(std::stoull(ea[i].id), std::stoull(ea[i - 1].id) + 1);
  // Snapshot + updates rebuild exactly what the server kept (draw numbers and values).
  const auto server = server_view(d.history());
  EXPECT_EQ(replay(ea), server);
  EXPECT_EQ(replay(eb), server);
  EXPECT_GT(server[0].size(), 100u);
  EXPECT_LE(server[0].size(), 500u);
  // The update finish() sent carries the final progress and diagnostics.
  json last;
  for (const auto& e : ea)
    if (e.data.find("\"state\":\"done\"") != std::string::npos) {
      last = json::parse(e.data);
      break;
    }
  EXPECT_EQ(last["progress"]["chains"][1]["done"], 20000);
  EXPECT_EQ(last["progress"]["chains"][0]["div_sampling"], 20000 / 97 + (20000 % 97 > 5));
  EXPECT_EQ(last["diag"]["rhat"].size(), 5u) << "diag: " << last["diag"].dump() << " progress: " << last["progress"].dump().substr(0, 300);
  // Every divergent draw is kept apart (fewer than the cap here), whatever the thinning.
  const auto s = d.history().snapshot_json({1});
  EXPECT_EQ(s["chains"][0]["dj"].size(), 20000 / 97 + (20000 % 97 > 5));
  EXPECT_EQ(s["chains"][0]["dstride"], 1);
}

TEST(Dashboard, LateViewerGetsTheRunSoFar) {
  Dashboard d(info(2, 3000), fast());
  run_chains(d, 2, 3000, 0us);
  Viewer late(d.port(), "?vars=theta.1,mu");
  ASSERT_TRUE(wait_for([&] { return !late.events().empty(); }));
  const auto e = late.events()[0];
  ASSERT_EQ(e.type, "snapshot");
  const auto s = json::parse(e.data);
  EXPECT_EQ(s["columns"], (json{"lp__", "mu", "tau", "theta.1", "theta.2"}));
  EXPECT_EQ(s["vars"], (json{"theta.1", "mu"}));
  EXPECT_EQ(s["progress"]["state"], "done");
  EXPECT_EQ(s["progress"]["chains"][0]["done"], 3000);
  EXPECT_EQ(s["chains"][1]["k"].size(), d.history().max_points());
  EXPECT_GT(s["diag"]["n"].get<int>(), 100);
  // theta.1 = sin(0.1 k)
  const auto& c0 = s["chains"][0];
  for (size_t i = 0; i < c0["k"].size(); i += 37)
    EXPECT_DOUBLE_EQ(c0["v"][0][i].get<double>(), std::sin(c0["k"][i].get<double>() * 0.1));
  // The page and the JSON snapshot are served too.
  httplib::Client cli("127.0.0.1", d.port());
  auto page = cli.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("new EventSource"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos);  // nothing fetched from elsewhere
  EXPECT_EQ(page->body.find("https://"), std::string::npos);
  auto snap = cli.Get("/snapshot.json?vars=tau");
  ASSERT_TRUE(snap);
  EXPECT_EQ(json::parse(snap->body)["vars"], json{"tau"});
}

TEST(Dashboard, TwentyViewersAtOnceWithBoundedMemory) {
  ServerOptions o = fast();
  o.history.cap = 2000;
  Dashboard d(info(4, 250000), o);
  std::vector<std::unique_ptr<Viewer>> vs;
  for (int i = 0; i < 20; ++i) vs.push_back(std::make_unique<Viewer>(d.port(), i % 2 ? "?vars=tau,lp__" : ""));
  ASSERT_TRUE(wait_for([&] { return d.stats().viewers == 20; }));
  std::atomic<bool> running{true};
  size_t max_queued = 0, max_history = 0;
  std::thread watch([&] {
    while (running) {
      const auto s = d.stats();
      max_queued = std::max(max_queued, s.queued_bytes);
      max_history = std::max(max_history, s.history_bytes);
      std::this_thread::sleep_for(2ms);
    }
  });
  const auto t0 = std::chrono::steady_clock::now();
  run_chains(d, 4, 250000, 20us);  // 10^6 draws
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& v : vs) ASSERT_TRUE(v->wait_done(20s));
  running = false;
  watch.join();
  const auto server = server_view(d.history());
  for (auto& v : vs) {
    const auto ev = v->events();
    ASSERT_EQ(ev[0].type, "snapshot");
    EXPECT_GT(ev.size(), 5u);
  }
  EXPECT_EQ(replay(vs[0]->events()), server);
  const auto st = d.stats();
  std::printf("20 viewers, 10^6 draws in %.2f s: %llu updates, max history %zu bytes, max queued %zu bytes, %llu resyncs\n",
              secs, (unsigned long long)st.updates, max_history, max_queued, (unsigned long long)st.resyncs);
  EXPECT_LE(max_history, size_t(4 * 2 * (2001 + 1001) * (5 * sizeof(double) + 13)));
  EXPECT_LE(max_queued, 20 * o.queue_bytes);
  vs.clear();
  EXPECT_TRUE(wait_for([&] { return d.stats().viewers == 0; }));
}

TEST(Dashboard, AViewerThatStopsReadingLosesItsBacklogNotTheServersMemory) {
  ServerOptions o = fast();
  o.tick_seconds = 0.005;
  o.queue_events = 8;
  o.queue_bytes = 256 << 10;
  o.history.cap = 20000;  // big events, so that the socket's buffers fill
  Dashboard d(info(2, 600000), o);
  // A raw socket with a tiny receive buffer that asks for /events and never reads.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 2048;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(d.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string req = "GET /events?vars=mu,lp__,tau,theta.1,theta.2 HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), ssize_t(req.size()));
  ASSERT_TRUE(wait_for([&] { return d.stats().viewers == 1; }));
  Viewer reader(d.port(), "?vars=mu,lp__,tau,theta.1,theta.2");
  ASSERT_TRUE(wait_for([&] { return d.stats().viewers == 2; }));
  size_t max_queued = 0;
  std::atomic<bool> running{true};
  std::thread watch([&] {
    while (running) {
      max_queued = std::max(max_queued, d.stats().queued_bytes);
      std::this_thread::sleep_for(1ms);
    }
  });
  run_chains(d, 2, 600000, 50us);
  ASSERT_TRUE(reader.wait_done(20s));
  running = false;
  watch.join();
  const auto st = d.stats();
  std::printf("stalled viewer: %llu resyncs, max queued %zu bytes over %llu updates (queue_bytes %zu)\n",
              (unsigned long long)st.resyncs, max_queued, (unsigned long long)st.updates, o.queue_bytes);
  EXPECT_GT(st.resyncs, 0u);
  size_t largest = 0;
  for (const auto& e : reader.events()) largest = std::max(largest, e.data.size() + 64);
  EXPECT_LE(max_queued, 2 * (o.queue_bytes + largest));
  EXPECT_EQ(replay(reader.events()), server_view(d.history()));  // the reading viewer is unharmed
  close(fd);
}

// A raw connection to the event stream (curl's view of it, headers and chunks as sent), with
// the request written; -1 when it could not be made.
int open_event_stream(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -1;
  const std::string req = "GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) != ssize_t(req.size())) return -1;
  return fd;
}

// The end of a run closed the event stream without the chunked encoding's last chunk, so
// `curl -N .../events` exited 18 (partial transfer) and a browser saw a network error. The
// stream now ends with "0\r\n\r\n" before the connection closes.
TEST(Dashboard, TheEventStreamEndsWithTheLastChunk) {
  auto d = std::make_unique<Dashboard>(info(1, 10), fast());
  const int fd = open_event_stream(d->port());
  ASSERT_GE(fd, 0);
  std::mutex mu;
  std::string got;
  std::thread reader([&] {
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) {
      std::lock_guard<std::mutex> lock(mu);
      got.append(buf, size_t(n));
    }
  });
  ASSERT_TRUE(wait_for([&] { return d->stats().viewers == 1; }));
  run_chains(*d, 1, 10, 0us);
  EXPECT_TRUE(wait_for([&] {
    std::lock_guard<std::mutex> lock(mu);
    return got.find("\"state\":\"done\"") != std::string::npos;
  }));
  d.reset();  // the end of the run: the server stops
  reader.join();
  close(fd);
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got.substr(0, 300);
  ASSERT_GE(got.size(), 7u);
  EXPECT_EQ(got.substr(got.size() - 7), "\r\n0\r\n\r\n") << got.substr(got.size() - 200);
}

// A dashboard closed right after the run finished dropped what its viewers had queued: the
// stream checked the stop before sending, and the run's last event ("done") was lost (found by
// helper 27 writing the test above; 10 closes in a row, each must deliver it).
TEST(Dashboard, EventsQueuedBeforeTheCloseStillReachTheViewer) {
  for (int round = 0; round < 10; ++round) {
    auto d = std::make_unique<Dashboard>(info(1, 10), fast());
    const int fd = open_event_stream(d->port());
    ASSERT_GE(fd, 0);
    std::string got;
    std::thread reader([&] {
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) got.append(buf, size_t(n));
    });
    ASSERT_TRUE(wait_for([&] { return d->stats().viewers == 1; }));
    run_chains(*d, 1, 10, 0us);
    d.reset();  // at once: no waiting for the viewer to have read the end
    reader.join();
    close(fd);
    EXPECT_NE(got.find("\"state\":\"done\""), std::string::npos) << "round " << round;
  }
}

// A port in use said only "dashboard: cannot listen on 127.0.0.1:18081": now why, and what to do.
TEST(Dashboard, APortInUseIsRefusedWithTheReason) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ServerOptions o;
  o.port = ntohs(addr.sin_port);
  try {
    Dashboard d(info(1, 10), o);
    ADD_FAILURE() << "a second server on port " << o.port;
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("dashboard: cannot listen on 127.0.0.1:" + std::to_string(o.port) + ": address already in use"),
              std::string::npos) << m;
    EXPECT_NE(m.find("another port, or port 0 for any free one"), std::string::npos) << m;
  }
  close(fd);
}

#endif

}  // namespace
}  // namespace exmc::dashboard
