// run_items: rank 0's event loop (messages, its own fit child, heartbeat deadlines) and the
// workers' loop (ask, fit in a child, report, heartbeat while fitting). Nobody blocks in MPI:
// each loop polls and sleeps, so idle ranks leave the cores to the fits.
#include "exmc/distributed/scheduler.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <iostream>
#include <set>
#include <stdexcept>
#include <thread>

namespace exmc::distributed {
namespace {

using Clock = std::chrono::steady_clock;

enum Tag : int {
  kRequest = 1,
  kHeartbeat = 2,
  kResult = 3,
  kFailure = 4,
  kInputFailure = 5,  // the work threw InputError: not retried
  kGiveBack = 6,      // an interrupted worker hands its item back and leaves the batch
  kAssign = 10,
  kWait = 11,
  kStop = 12
};

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void nap() { std::this_thread::sleep_for(std::chrono::milliseconds(3)); }

// "0.3", "20": a timeout as given (it was cast to int, so a 0.3 s timeout read "silent for 0 s").
std::string seconds_text(double s) {
  std::string t = std::to_string(s);  // "0.300000"
  t.erase(t.find_last_not_of('0') + 1);
  if (!t.empty() && t.back() == '.') t.pop_back();
  return t;
}

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t k = ::write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += k;
    n -= size_t(k);
  }
}

// A forked child running one attempt; its result comes back through a pipe.
class Child {
 public:
  ~Child() { kill(); }
  bool running() const { return pid_ > 0; }

  void start(const std::function<std::string()>& fn) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    std::fflush(nullptr);
    std::cout.flush();
    std::cerr.flush();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(fds[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed rank takes its fit with it
      if (::getppid() != parent) ::_exit(3);
      std::string text;
      char status = 'O';
      try {
        text = fn();
      } catch (const InputError& e) {
        status = 'I';
        text = e.what();
      } catch (const std::exception& e) {
        status = 'E';
        text = e.what();
      } catch (...) {
        status = 'E';
        text = "unknown exception";
      }
      write_all(fds[1], &status, 1);
      write_all(fds[1], text.data(), text.size());
      ::close(fds[1]);
      std::fflush(nullptr);
      ::_exit(0);  // no atexit handlers: the parent's MPI is not the child's to finalise
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    pid_ = pid;
    fd_ = fds[0];
    buf_.clear();
  }

  // Non-blocking: drains the pipe; true (and `out` set) once the child has exited.
  bool poll(ChildOutcome& out) {
    if (pid_ <= 0) return false;
    char tmp[65536];
    while (fd_ >= 0) {
      const ssize_t k = ::read(fd_, tmp, sizeof tmp);
      if (k > 0) {
        buf_.append(tmp, size_t(k));
      } else if (k == 0) {
        ::close(fd_);
        fd_ = -1;
      } else {
        if (errno == EINTR) continue;
        break;  // EAGAIN: nothing more now
      }
    }
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return false;
    if (fd_ >= 0) {  // exited: read what is left
      ssize_t k;
      while ((k = ::read(fd_, tmp, sizeof tmp)) > 0) buf_.append(tmp, size_t(k));
      ::close(fd_);
      fd_ = -1;
    }
    pid_ = -1;
    out = {};
    if (WIFSIGNALED(status)) {
      out.text = "the fit process was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                 strsignal(WTERMSIG(status)) + ")";
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      out.text = "the fit process exited with status " + std::to_string(WEXITSTATUS(status));
    } else if (buf_.empty()) {
      out.text = "the fit process ended without a result";
    } else {
      out.ok = buf_[0] == 'O';
      out.input_error = buf_[0] == 'I';
      out.text = buf_.substr(1);
    }
    return true;
  }

  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (fd_ >= 0) ::close(fd_), fd_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buf_;
};

std::pair<size_t, std::string> split_first_line(const std::string& s) {
  const auto nl = s.find('\n');
  return {std::stoull(s.substr(0, nl)), nl == std::string::npos ? "" : s.substr(nl + 1)};
}

// ---- rank 0 ----
class Coordinator {
 public:
  Coordinator(World& world, const std::vector<size_t>& todo, const Work& work, const SchedulerOptions& o,
              const OnResolved& on_resolved, const Log& log)
      : world_(world), todo_(todo), work_(work), o_(o), on_resolved_(on_resolved), log_(log),
        out_(todo.size()), resolved_(todo.size(), false), failed_on_(todo.size()),
        busy_(size_t(world.size()), -1), heard_(size_t(world.size()), Clock::now()),
        dead_(size_t(world.size()), false), left_(size_t(world.size()), false), local_busy_(std::max(1u, o.local_jobs), -1) {
    for (size_t j = 0; j < local_busy_.size(); ++j) local_.push_back(std::make_unique<Child>());
    for (size_t p = 0; p < todo.size(); ++p) pending_.push_back(p);
    unresolved_ = todo.size();
  }

  std::vector<ItemOutcome> run() {
    while (unresolved_ > 0) {
      if (o_.stop_requested && o_.stop_requested()) break;  // the fits in flight stay unresolved
      bool busy = false;
      while (auto m = world_.poll()) {
        busy = true;
        handle(*m);
      }
      busy |= local_step();
      check_deadlines();
      if (!busy) nap();
    }
    // A duplicate still in flight (its item was completed by a rank presumed dead) is let finish,
    // unless the batch was interrupted: killed, it left its item's files removed (a fit replaces
    // them from its start) and the batch reported the item done without them.
    const bool interrupted = o_.stop_requested && o_.stop_requested();
    for (auto& l : local_) {
      ChildOutcome ignored;
      while (!interrupted && l->running() && !l->poll(ignored)) nap();
      l->kill();
    }
    // While a rank is presumed dead nobody finalises MPI (it may wait for the dead one). One that
    // spoke again since is alive and finalises with the others: abandoning MPI then made mpirun
    // fail a batch that had completed every item ("exiting improperly", exit 1).
    const bool lost = std::find(dead_.begin(), dead_.end(), true) != dead_.end();
    for (int r = 1; r < world_.size(); ++r) world_.send(r, kStop, lost ? "abandon" : "");
    if (lost) world_.abandon();
    return std::move(out_);
  }

 private:
  std::string name_of(size_t item) const {
    return o_.item_name ? o_.item_name(item) : "item " + std::to_string(item);
  }

  void say(const std::string& s) {
    if (log_) log_(s);
  }

  bool coordinator_may_work() const {
    if (o_.coordinator_works || world_.size() == 1) return true;
    for (int r = 1; r < world_.size(); ++r)
      if (!dead_[size_t(r)] && !left_[size_t(r)]) return false;
    return true;  // every worker is gone: do it here
  }

  // The next item for `rank`: one it has not failed yet; one it has failed only when no other
  // live rank could take it instead. -1 for none.
  long pick(int rank) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
      if (!failed_on_[*it].count(rank)) {
        const size_t p = *it;
        pending_.erase(it);
        return long(p);
      }
    if (pending_.empty()) return -1;
    const size_t p = pending_.front();
    for (int r = 0; r < world_.size(); ++r) {
      if (r == rank || failed_on_[p].count(r)) continue;
      if (r == 0 ? coordinator_may_work() : !dead_[size_t(r)] && !left_[size_t(r)]) return -1;  // someone else can
    }
    pending_.pop_front();
    return long(p);
  }

  void handle(const Message& m) {
    const auto r = size_t(m.source);
    heard_[r] = Clock::now();
    if (dead_[r]) {
      say("rank " + std::to_string(m.source) + " speaks again: using it again");
      dead_[r] = false;
    }
    switch (m.tag) {
      case kRequest: {
        const long p = pick(m.source);
        if (p < 0) {
          world_.send(m.source, kWait, "");
        } else {
          busy_[r] = p;
          world_.send(m.source, kAssign,
                      std::to_string(p) + " " + std::to_string(out_[size_t(p)].attempts + 1));
        }
        break;
      }
      case kHeartbeat:
        break;
      case kGiveBack: {
        // Interrupted (SIGTERM to its process: a node taken back): its item goes to another rank
        // now, not after --heartbeat-timeout, and without counting as a failed attempt.
        left_[r] = true;
        const size_t p = std::stoull(m.payload);
        if (busy_[r] == long(p)) busy_[r] = -1;
        if (!resolved_[p]) {
          pending_.push_front(p);
          say("rank " + std::to_string(m.source) + " was interrupted: " + name_of(todo_[p]) +
              " goes to another rank");
        }
        break;
      }
      case kResult:
      case kFailure:
      case kInputFailure: {
        auto [p, text] = split_first_line(m.payload);
        if (busy_[r] == long(p)) busy_[r] = -1;
        finish(p, m.source, ChildOutcome{m.tag == kResult, m.tag == kInputFailure, std::move(text)});
        break;
      }
      default:
        say("unexpected message tag " + std::to_string(m.tag) + " from rank " + std::to_string(m.source));
    }
  }

  void finish(size_t p, int rank, ChildOutcome c) {
    if (resolved_[p]) return;  // a duplicate (a rank presumed dead finished after all)
    auto& o = out_[p];
    ++o.attempts;
    if (c.ok) {
      o.done = true;
      o.rank = rank;
      o.result = std::move(c.text);
      resolve(p);
      return;
    }
    o.errors.push_back("rank " + std::to_string(rank) + ": " + c.text);
    o.rank = rank;
    failed_on_[p].insert(rank);
    if (c.input_error) {
      // Its model or data is invalid: every attempt fails the same way.
      o.input_error = true;
      say(name_of(todo_[p]) + " failed on rank " + std::to_string(rank) + " (" + c.text +
          "); not retried: an input error fails every attempt the same way");
      resolve(p);
    } else if (o.attempts >= o_.max_attempts) {
      say(name_of(todo_[p]) + " failed on rank " + std::to_string(rank) + " (" + c.text + "); no attempts left");
      resolve(p);
    } else {
      say(name_of(todo_[p]) + " failed on rank " + std::to_string(rank) + " (" + c.text + "); retrying elsewhere");
      pending_.push_front(p);
    }
  }

  void resolve(size_t p) {
    resolved_[p] = true;
    --unresolved_;
    // Drop queued copies of it (requeued after a presumed death).
    for (auto it = pending_.begin(); it != pending_.end();)
      it = *it == p ? pending_.erase(it) : std::next(it);
    if (on_resolved_) on_resolved_(todo_[p], out_[p]);
  }

  // Rank 0's own fits: up to local_jobs child processes at once.
  bool local_step() {
    bool progressed = false;
    for (size_t j = 0; j < local_.size(); ++j) {
      Child& child = *local_[j];
      if (child.running()) {
        ChildOutcome c;
        if (!child.poll(c)) continue;
        const size_t p = size_t(local_busy_[j]);
        local_busy_[j] = -1;
        finish(p, 0, std::move(c));
        progressed = true;
      }
      if (!coordinator_may_work()) continue;
      const long p = pick(0);
      if (p < 0) continue;
      local_busy_[j] = p;
      const size_t item = todo_[size_t(p)];
      const unsigned attempt = out_[size_t(p)].attempts + 1;
      child.start([this, item, attempt] { return work_(item, attempt); });
      progressed = true;
    }
    return progressed;
  }

  void check_deadlines() {
    const auto now = Clock::now();
    for (int r = 1; r < world_.size(); ++r) {
      const auto i = size_t(r);
      if (dead_[i] || busy_[i] < 0 || seconds_between(heard_[i], now) < o_.heartbeat_timeout_s) continue;
      dead_[i] = true;
      const size_t p = size_t(busy_[i]);
      busy_[i] = -1;
      say("rank " + std::to_string(r) + " silent for " + seconds_text(o_.heartbeat_timeout_s) +
          " s while fitting " + name_of(todo_[p]) + ": presumed dead");
      finish(p, r, ChildOutcome{false, false, "no heartbeat (rank presumed dead)"});
    }
  }

  World& world_;
  const std::vector<size_t>& todo_;
  const Work& work_;
  SchedulerOptions o_;
  const OnResolved& on_resolved_;
  const Log& log_;
  std::vector<ItemOutcome> out_;
  std::vector<bool> resolved_;
  std::vector<std::set<int>> failed_on_;
  std::vector<long> busy_;  // per rank: the position in flight there, -1 none
  std::vector<Clock::time_point> heard_;
  std::vector<bool> dead_;
  std::vector<bool> left_;  // per rank: interrupted, gave its item back and asks for no more
  std::deque<size_t> pending_;
  size_t unresolved_ = 0;
  std::vector<long> local_busy_;  // per local slot: the position in flight, -1 none
  std::vector<std::unique_ptr<Child>> local_;
};

// ---- ranks > 0 ----
void worker(World& world, const std::vector<size_t>& todo, const Work& work, const SchedulerOptions& o) {
  Child child;
  long current = -1;
  unsigned started = 0;  // items this rank has started
  auto last_beat = Clock::now();
  auto asked = Clock::now();
  bool waiting_reply = true;
  world.send(0, kRequest, "");
  auto next_request = Clock::time_point::max();
  const double coordinator_timeout = std::max(60.0, 3 * o.heartbeat_timeout_s);
  // Several heartbeats within each timeout: at a fixed 0.5 s, a --heartbeat-timeout under it
  // presumed every busy worker dead before its first beat, and its item went to a second rank
  // while the first still fitted it (the two attempts removed each other's temporaries and the
  // item failed --max-attempts times).
  const double beat_every = std::min(o.heartbeat_every_s, o.heartbeat_timeout_s / 4);
  bool stopping = false;
  for (;;) {
    bool busy = false;
    if (!stopping && o.stop_requested && o.stop_requested()) {
      // Interrupted: the fit goes, nothing more is asked for; rank 0 (interrupted too, as mpirun
      // passes the signal on) says stop, or presumes this rank dead and hands its item on.
      stopping = true;
      child.kill();
      if (current >= 0) world.send(0, kGiveBack, std::to_string(current));
      current = -1;
    }
    while (auto m = world.poll()) {
      busy = true;
      waiting_reply = false;
      if (m->tag == kStop) {
        // A duplicate still fitting (its item done elsewhere) finishes first, unless interrupted:
        // killed, it left the item's files removed.
        ChildOutcome ignored;
        while (!stopping && !(o.stop_requested && o.stop_requested()) && child.running() && !child.poll(ignored)) nap();
        if (m->payload == "abandon") world.abandon();
        return;
      }
      if (m->tag == kWait) {
        next_request = Clock::now() + std::chrono::milliseconds(200);
      } else if (m->tag == kAssign && stopping) {
        next_request = Clock::time_point::max();  // not started: handed back
        world.send(0, kGiveBack, m->payload.substr(0, m->payload.find(' ')));
      } else if (m->tag == kAssign) {
        const auto space = m->payload.find(' ');
        current = std::stol(m->payload.substr(0, space));
        const auto attempt = unsigned(std::stoul(m->payload.substr(space + 1)));
        const size_t item = todo.at(size_t(current));
        child.start([&work, item, attempt] { return work(item, attempt); });
        last_beat = Clock::now();
        if (++started == o.kill_rank_at_start) {
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          std::raise(SIGKILL);
        }
        if (started == o.stall_rank_at_start)
          std::this_thread::sleep_for(std::chrono::duration<double>(o.stall_seconds));
        if (started == o.term_rank_at_start) {
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          std::raise(SIGTERM);
        }
      }
    }
    const auto now = Clock::now();
    if (child.running()) {
      ChildOutcome c;
      if (child.poll(c)) {
        world.send(0, c.ok ? kResult : c.input_error ? kInputFailure : kFailure,
                   std::to_string(current) + "\n" + c.text);
        current = -1;
        world.send(0, kRequest, "");
        waiting_reply = true;
        asked = Clock::now();
        busy = true;
      } else if (seconds_between(last_beat, now) >= beat_every) {
        world.send(0, kHeartbeat, std::to_string(current));
        last_beat = now;
      }
    } else if (!waiting_reply && !stopping && now >= next_request) {
      world.send(0, kRequest, "");
      waiting_reply = true;
      asked = now;
      next_request = Clock::time_point::max();
    }
    if (waiting_reply && !stopping && seconds_between(asked, now) > coordinator_timeout)
      throw std::runtime_error("rank 0 (the coordinator) has not answered for " +
                               std::to_string(int(coordinator_timeout)) + " s");
    if (!busy) nap();
  }
}

}  // namespace

ChildOutcome run_in_child(const std::function<std::string()>& fn) {
  Child c;
  c.start(fn);
  ChildOutcome out;
  while (!c.poll(out)) nap();
  return out;
}

std::vector<ItemOutcome> run_items(World& world, const std::vector<size_t>& todo, const Work& work,
                                   const SchedulerOptions& options, const OnResolved& on_resolved,
                                   const Log& log) {
  if (world.rank() == 0) {
    Coordinator c(world, todo, work, options, on_resolved, log);
    return c.run();
  }
  worker(world, todo, work, options);
  return {};
}

}  // namespace exmc::distributed
