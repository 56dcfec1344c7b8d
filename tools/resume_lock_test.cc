// Two processes on one output: a resumed run's CSV temporaries and every run's checkpoint
// temporaries are flock'ed while written, as a fresh run's CSV temporaries are, so that a second
// `exmc sample --resume` of the same output, or another run's sweep of stale temporaries, never
// removes or writes into a live run's file. These run the built `exmc` as a child process.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "cli_test_support.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"
#include "sample_checkpoint.hpp"

namespace exmc::cli {
namespace {

using Clock = std::chrono::steady_clock;

class ResumeLockTest : public CliTest {
 protected:
  std::vector<std::string> args(unsigned draws, unsigned every, bool resume) const {
    std::vector<std::string> a = {"sample", example("eight_schools.stan"), "--data", example("eight_schools.data.json"),
                                  "--chains", "2", "--warmup", "200", "--draws", std::to_string(draws), "--seed", "3",
                                  "--no-progress", "--checkpoint-every", std::to_string(every), "--threads", "2",
                                  "--output", path("out.csv")};
    if (resume) a.push_back("--resume");
    return a;
  }
  template <class Ready>
  static bool wait_for(Ready ready) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!ready() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return ready();
  }
  std::vector<std::string> temporaries() const {
    std::vector<std::string> t;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".tmp") t.push_back(e.path().string());
    return t;
  }
  void expect_complete(unsigned draws) const {
    for (const char* f : {"out_1.csv", "out_2.csv"}) {
      io::CmdStanCsv csv;
      ASSERT_NO_THROW(csv = io::parse_cmdstan_csv(slurp(path(f)), path(f))) << f;
      EXPECT_EQ(csv.num_rows, draws) << f;
    }
    EXPECT_TRUE(temporaries().empty());
  }
};

// A second --resume while the first is still sampling: it cut the live run's temporaries back to
// its checkpoints and wrote its own rows into them (and, finishing first, renamed them away, so
// the first then failed). It is refused now, naming the temporary and the other process, and the
// first run completes with its files whole.
TEST_F(ResumeLockTest, ASecondResumeOfALiveRunIsRefusedAndTheFirstCompletes) {
  constexpr unsigned kDraws = 20000;
  {
    Child first(args(kDraws, 100, false), path("err0.txt"));
    ASSERT_TRUE(wait_for([&] { return fs::exists(path("out_2.csv.checkpoint")); })) << slurp(path("err0.txt"));
    first.signal(SIGINT);
    const int st = first.wait();
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 130) << slurp(path("err0.txt"));
  }
  const auto interrupted = temporaries();
  ASSERT_EQ(interrupted.size(), 2u);
  Child resumed(args(kDraws, 100, true), path("err1.txt"));
  // Stopped while it samples (its temporaries open, locked): the second comes now.
  ASSERT_TRUE(wait_for([&] { return slurp(path("err1.txt")).find("resuming from the checkpoints") != std::string::npos; }))
      << slurp(path("err1.txt"));
  ASSERT_TRUE(resumed.stop()) << "the resumed run ended before it could be stopped:\n" << slurp(path("err1.txt"));
  const auto second = exmc(args(kDraws, 100, true));
  resumed.signal(SIGCONT);
  EXPECT_EQ(second.code, 1) << second.err;
  EXPECT_NE(second.err.find("another process is writing it, probably another exmc sample --resume of this output"),
            std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find("cannot continue " + path("out_1.csv.")), std::string::npos) << second.err;
  const int st = resumed.wait(std::chrono::seconds(60));
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << slurp(path("err1.txt"));
  expect_complete(kDraws);
}

// A run saving a checkpoint every iteration while another process sweeps the output's stale
// checkpoint temporaries (as every --checkpoint-every or --resume run does when it starts): the
// sweep removed the live run's temporary between its creation and its rename, and the live run
// failed ("cannot rename ..."). Locked while written, it is left; an abandoned one still goes.
TEST_F(ResumeLockTest, ASweepOfStaleCheckpointTemporariesLeavesALiveRunsAndRemovesAbandonedOnes) {
  constexpr unsigned kDraws = 300;
  Child live(args(kDraws, 1, false), path("err.txt"));
  ASSERT_TRUE(wait_for([&] { return fs::exists(path("out_1.csv.checkpoint")) || live.exited(); }));
  unsigned sweeps = 0;
  while (!live.exited()) {
    // One a killed writer left (no process holds it): removed by the same sweep.
    const std::string dead = path("out_1.csv.checkpoint.1." + std::to_string(sweeps) + ".tmp");
    std::ofstream(dead) << "half a checkpoint";
    remove_stale_checkpoint_temporaries(path("out_1.csv"));
    ASSERT_FALSE(fs::exists(dead)) << "an abandoned checkpoint temporary was left";
    ++sweeps;
  }
  const int st = live.wait();
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "after " << sweeps << " sweeps:\n" << slurp(path("err.txt"));
  EXPECT_GT(sweeps, 100u);
  expect_complete(kDraws);
}

}  // namespace
}  // namespace exmc::cli
