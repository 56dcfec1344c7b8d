// For the tests that run the built `exmc` as a child process (signals need a process of its own).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace exmc::cli {

// A running `exmc` with stderr into a file; killed and reaped if a check fails half-way.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& stderr_path) {
    // Everything the child needs is prepared before fork: after it only exec-safe calls run.
    std::vector<std::string> all = {std::string(EXMC_BINARY_DIR) + "/exmc"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(err_fd, 2);
      ::dup2(null_fd, 1);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(err_fd);
    ::close(null_fd);
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  // SIGSTOP, and waits until the child is stopped (kill() returns before the signal takes effect).
  // False when it exited instead.
  bool stop() {
    ::kill(pid_, SIGSTOP);
    int status = 0;
    pid_t got;
    while ((got = ::waitpid(pid_, &status, WUNTRACED)) < 0 && errno == EINTR) {
    }
    if (got == pid_ && WIFSTOPPED(status)) return true;
    reaped_ = true;
    status_ = status;
    return false;
  }
  // Whether the child has exited (then wait() returns its status at once).
  bool exited() {
    if (reaped_) return true;
    if (::waitpid(pid_, &status_, WNOHANG) == 0) return false;
    reaped_ = true;
    return true;
  }
  // The wait status; gives up (and kills) after `limit`.
  int wait(std::chrono::milliseconds limit = std::chrono::milliseconds(20000)) {
    if (reaped_) return status_;
    const auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) ::kill(pid_, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    reaped_ = true;
    return status;
  }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace exmc::cli
