// Issue 13: `exmc sample` killed at any moment (SIGKILL: no handler runs) must never leave a
// partial file, or a file of an earlier run, that passes for this run's output; SIGTERM must stop
// it like Ctrl-C. These run the built `exmc` binary as a child process.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_support.hpp"
#include "exmc/analysis/cmdstan.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"

namespace exmc::cli {
namespace {

using Clock = std::chrono::steady_clock;

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
  // The wait status; gives up (and kills) after `limit`.
  int wait(std::chrono::milliseconds limit = std::chrono::milliseconds(20000)) {
    const auto end = Clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > end) ::kill(pid_, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    reaped_ = true;
    return status;
  }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

class KillTest : public CliTest {
 protected:
  std::vector<std::string> args(unsigned seed, unsigned warmup, unsigned draws) const {
    return {"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
            "--chains", "4", "--warmup", std::to_string(warmup), "--draws", std::to_string(draws),
            "--seed", std::to_string(seed), "--no-progress", "--output", path("out.csv")};
  }
  std::string final_name(unsigned k) const { return path("out_" + std::to_string(k) + ".csv"); }
  std::vector<std::string> temporaries() const {
    std::vector<std::string> t;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".tmp") t.push_back(e.path().string());
    return t;
  }
};

// Sampling takes about half of a run (the rest: start-up, LLVM, compiling), so the kills land in
// every phase: start-up, compiling, warmup, sampling, renaming, done.
constexpr unsigned kWarmup = 200, kDraws = 3000;

TEST_F(KillTest, SigkillAtRandomMomentsNeverLeavesAPartialOrForeignFileUnderAFinalName) {
  // One whole run first: it times the run (the kills spread over it) and leaves files of an
  // earlier run, the ones a killed re-run must not leave beside its own.
  // The faster of two runs: the first one can be slowed by a cold page cache.
  double run_ms = 1e9;
  for (int r = 0; r < 2; ++r) {
    const auto t0 = Clock::now();
    Child c(args(1, kWarmup, kDraws), path("err.txt"));
    const int st = c.wait();
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << slurp(path("err.txt"));
    run_ms = std::min(run_ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::mt19937 rng(20240613);
  std::uniform_real_distribution<double> when(0, 1.25 * run_ms);
  int completed = 0, started = 0, before_start = 0;
  for (unsigned i = 0; i < 50; ++i) {
    const unsigned seed = 100 + i;
    const double delay_ms = when(rng);
    Child c(args(seed, kWarmup, kDraws), path("err.txt"));
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay_ms));
    c.signal(SIGKILL);
    const int st = c.wait();
    const bool finished = WIFEXITED(st);
    if (finished) ASSERT_EQ(WEXITSTATUS(st), 0) << slurp(path("err.txt"));
    // exmc prints "N chains x (...)" after removing the earlier run's files and before sampling.
    const bool past_start = slurp(path("err.txt")).find("4 chains x (") != std::string::npos;
    SCOPED_TRACE("kill " + std::to_string(i) + " after " + std::to_string(delay_ms) + " ms" +
                 (finished ? " (had finished)" : past_start ? " (sampling)" : " (starting)"));
    std::set<std::string> run_ids, seeds;
    std::vector<std::string> present;
    for (unsigned k = 1; k <= 4; ++k) {
      const auto p = final_name(k);
      if (!fs::exists(p)) continue;
      present.push_back(p);
      // Complete: the timing footer is there and every draw.
      const std::string text = slurp(p);
      ASSERT_NE(text.find("seconds (Total)"), std::string::npos) << p << " has no footer";
      io::CmdStanCsv csv;
      ASSERT_NO_THROW(csv = io::parse_cmdstan_csv(text, p)) << p;
      ASSERT_EQ(csv.num_rows, kDraws) << p;
      ASSERT_EQ(csv.config.count("exmc_run_id"), 1u) << p;
      run_ids.insert(csv.config.at("exmc_run_id"));
      seeds.insert(csv.config.at("seed"));
    }
    // Never two runs under the final names, and what `exmc summary out_*.csv` reads is one run.
    ASSERT_LE(run_ids.size(), 1u);
    if (!present.empty()) ASSERT_NO_THROW(analysis::read_cmdstan_run(present));
    // Once the run has started, nothing of an earlier run is left under its names.
    if (past_start && !present.empty()) ASSERT_EQ(*seeds.begin(), std::to_string(seed));
    if (finished) ASSERT_EQ(present.size(), 4u);
    completed += finished;
    started += past_start && !finished;
    before_start += !past_start;
    for (const auto& t : temporaries()) fs::remove(t);  // a killed run's leftovers
  }
  // The kills must have landed in every phase, or the test proves less than it says.
  std::printf("[kill] run %.0f ms; 50 kills: %d before sampling started, %d while sampling, %d after it finished\n",
              run_ms, before_start, started, completed);
  EXPECT_GT(started, 5);
  EXPECT_GT(before_start, 2);
}

TEST_F(KillTest, SigtermStopsLikeCtrlCKeepsWholeRowsInTheTemporariesAndExits143) {
  Child c(args(5, 200, 200000), path("err.txt"));
  // Wait until sampling runs and rows are being written, then ask it to stop.
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (slurp(path("err.txt")).find("4 chains x (") == std::string::npos && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c.signal(SIGTERM);
  const int st = c.wait();
  const std::string err = slurp(path("err.txt"));
  ASSERT_TRUE(WIFEXITED(st)) << "ended by signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0) << "\n" << err;
  EXPECT_EQ(WEXITSTATUS(st), 143) << err;
  for (unsigned k = 1; k <= 4; ++k) EXPECT_FALSE(fs::exists(final_name(k))) << final_name(k);
  const auto tmps = temporaries();
  ASSERT_EQ(tmps.size(), 4u) << err;
  size_t rows = 0;
  for (const auto& t : tmps) {
    EXPECT_NE(err.find(t), std::string::npos) << "the message names the temporaries:\n" << err;
    const std::string text = slurp(t);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n') << t << ": the last row is cut";
    EXPECT_EQ(text.find("seconds (Total)"), std::string::npos) << t << " looks complete";
    io::CmdStanCsv csv;
    ASSERT_NO_THROW(csv = io::parse_cmdstan_csv(text, t)) << t;  // every row has every field
    rows += csv.num_rows + csv.num_warmup_rows;
  }
  // A chain waiting for a core may not have reached its first kept draw; together they have.
  EXPECT_GT(rows, 0u);
}

}  // namespace
}  // namespace exmc::cli
