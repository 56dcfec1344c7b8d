// The methods other than sample (optimize ... log_prob) under Ctrl-C, SIGTERM and SIGKILL, and
// with an output folder that takes no files: what exmc sample promises (docs/sample.md, "Output
// files and their guarantees") holds for them too. The signals need the built `exmc` as a child.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

using namespace std::chrono_literals;

class MethodInterruptTest : public CliTest {
 protected:
  // smc with enough particles that its stages take a while; each stage prints a line.
  std::vector<std::string> smc_args() const {
    return {"smc", example("eight_schools.stan"), "--data", example("eight_schools.data.json"), "--seed", "1",
            "--particles", "60000", "--output", path("smc.csv")};
  }
  std::vector<std::string> files() const {
    std::vector<std::string> f;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename() != "stderr") f.push_back(e.path().filename().string());
    return f;
  }
  // Waits until the child's stderr holds `text` (false: it exited first, or a minute passed).
  bool await_stderr(Child& child, const std::string& text) const {
    const auto end = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < end) {
      if (slurp(path("stderr")).find(text) != std::string::npos) return true;
      if (child.exited()) return false;
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }
  std::string temporary() const {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".tmp") return e.path().string();
    return "";
  }
};

// Without a handler the signal's default action ended the method: no word, killed by a signal
// rather than exiting 130 or 143 as exmc sample does.
TEST_F(MethodInterruptTest, CtrlCAndSigtermEndAMethodWithTheShellsStatusAndAMessage) {
  for (const int sig : {SIGINT, SIGTERM}) {
    Child child(smc_args(), path("stderr"));
    ASSERT_TRUE(await_stderr(child, "exmc smc: stage 1:")) << slurp(path("stderr"));
    child.signal(sig);
    const int status = child.wait(60000ms);
    const std::string err = slurp(path("stderr"));
    ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status) << "\n" << err;
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig) << err;
    EXPECT_NE(err.find(sig == SIGINT ? "exmc smc: interrupted (Ctrl-C) before its output was written; nothing written"
                                     : "exmc smc: interrupted (SIGTERM) before its output was written; nothing written"),
              std::string::npos)
        << err;
    EXPECT_EQ(files(), std::vector<std::string>{});
  }
}

// A signal while the result was being written ended the process with its temporary (out.csv.<hex>.tmp)
// left behind. The child is stopped while the temporary exists, so the signal surely lands then.
TEST_F(MethodInterruptTest, ASignalWhileTheOutputIsWrittenRemovesItsTemporary) {
  const std::vector<std::string> args = {"laplace", example("eight_schools.stan"), "--data",
                                         example("eight_schools.data.json"), "--seed", "1", "--draws", "100000",
                                         "--output", path("lap.csv")};
  bool caught = false;
  for (int attempt = 0; attempt < 10 && !caught; ++attempt) {
    fs::remove(path("lap.csv"));
    Child child(args, path("stderr"));
    std::string tmp;
    while (tmp.empty() && !child.exited()) {
      tmp = temporary();
      if (tmp.empty()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (tmp.empty()) continue;  // written and renamed between two looks: try again
    if (!child.stop()) continue;
    if (!fs::exists(tmp)) {  // renamed before it stopped
      child.signal(SIGCONT);
      child.wait(60000ms);
      continue;
    }
    caught = true;
    child.signal(SIGTERM);
    child.signal(SIGCONT);
    const int status = child.wait(60000ms);
    const std::string err = slurp(path("stderr"));
    ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status) << "\n" << err;
    EXPECT_EQ(WEXITSTATUS(status), 143) << err;
    EXPECT_FALSE(fs::exists(tmp)) << err;
    EXPECT_EQ(files(), std::vector<std::string>{}) << err;
    EXPECT_NE(err.find("(removed the unfinished " + tmp + ")"), std::string::npos) << err;
  }
  EXPECT_TRUE(caught) << "the temporary was never seen before its rename in 10 runs";
}

// A file of an earlier run under the output's name survived a run killed mid-way, passing for
// its result; it goes when the work starts (as exmc sample's do), not before the inputs are read.
TEST_F(MethodInterruptTest, AnEarlierRunsFileDoesNotSurviveAKilledRun) {
  write("smc.csv", "# an earlier run's result\nlp__,mu\n-1,0\n");
  Child child(smc_args(), path("stderr"));
  ASSERT_TRUE(await_stderr(child, "exmc smc: stage 1:")) << slurp(path("stderr"));
  child.signal(SIGKILL);
  child.wait(60000ms);
  EXPECT_FALSE(fs::exists(path("smc.csv")));

  // A command refused before its work starts leaves it as it was.
  write("smc.csv", "# an earlier run's result\nlp__,mu\n-1,0\n");
  const auto r = exmc({"optimize", example("eight_schools.stan"), "--data", path("nosuch.json"), "--output",
                       path("smc.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(slurp(path("smc.csv")), "# an earlier run's result\nlp__,mu\n-1,0\n");
}

// access() passes root everywhere: an output in /proc was accepted and the run failed only when
// it wrote, after its work ("cannot create /proc/x.csv.<hex>.tmp").
TEST_F(MethodInterruptTest, AFolderThatTakesNoFilesIsRefusedBeforeTheWork) {
  if (!fs::is_directory("/proc/self")) GTEST_SKIP() << "no /proc";
  for (const std::string method : {"optimize", "pathfinder"}) {
    const auto r = exmc({method, example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                         "--output", "/proc/exmc_nosuch.csv"});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("--output /proc/exmc_nosuch.csv: cannot write in the folder /proc"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("model loaded"), std::string::npos) << r.err;
  }
}

// The processes whose parent is `parent` (from /proc/PID/stat).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = slurp(e.path().string() + "/stat");
    const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == parent) found.push_back(pid_t(std::stol(name)));
  }
  return found;
}

// SIGTERM sent to exmc plot alone (kill PID, a scheduler) ended it but not the Python it runs,
// which went on to write the image after the command had been seen to end.
TEST_F(MethodInterruptTest, PlotPassesSigtermToItsPythonWhichWritesNothing) {
  if (!fs::exists(std::string(EXMC_BINARY_DIR) + "/python/exmc/__main__.py") || !fs::is_directory("/proc/self"))
    GTEST_SKIP() << "no Python package in the build, or no /proc";
  ASSERT_EQ(exmc({"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"), "--chains",
                  "2", "--warmup", "100", "--draws", "200", "--seed", "3", "--output", path("s.csv"), "--no-progress"})
                .code,
            0);
  Child child({"plot", path("s_1.csv"), path("s_2.csv"), "--kind", "pair", "-o", path("pair.png")}, path("stderr"));
  std::vector<pid_t> python;
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (python.empty() && !child.exited() && std::chrono::steady_clock::now() < end) {
    python = children_of(child.pid());
    if (python.empty()) std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(python.size(), 1u) << slurp(path("stderr"));
  child.signal(SIGTERM);
  const int status = child.wait(60000ms);
  const std::string err = slurp(path("stderr"));
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status) << "\n" << err;
  EXPECT_EQ(WEXITSTATUS(status), 143) << err;
  EXPECT_NE(err.find("exmc plot: interrupted (SIGTERM)"), std::string::npos) << err;
  // The interpreter is gone (once exmc exited, a Python still running would be another's child).
  const auto gone_by = std::chrono::steady_clock::now() + 120s;
  while (::kill(python[0], 0) == 0 && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(fs::exists(path("pair.png"))) << err;
}

}  // namespace
}  // namespace exmc::cli
