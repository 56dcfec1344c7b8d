// Issue 13: `exmc sample` killed at any moment (SIGKILL: no handler runs) must never leave a
// partial file, or a file of an earlier run, that passes for this run's output; SIGTERM must stop
// it like Ctrl-C. These run the built `exmc` binary as a child process.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "child_process.hpp"
#include "cli_test_support.hpp"
#include "exmc/analysis/cmdstan.hpp"
#include "exmc/io/cmdstan_csv_reader.hpp"
#include "exmc/io/run_checkpoint.hpp"

namespace exmc::cli {
namespace {

using Clock = std::chrono::steady_clock;

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

// Half the kills land anywhere in a run (start-up, compiling, warmup, sampling, renaming,
// done), half within its start-up, so that every phase gets kills however the phases' lengths
// compare (a sanitizer slows sampling ten times more than start-up).
constexpr unsigned kWarmup = 200, kDraws = 20000;

TEST_F(KillTest, SigkillAtRandomMomentsNeverLeavesAPartialOrForeignFileUnderAFinalName) {
  // Two whole runs first: they time the run and its start-up (until exmc says "4 chains x (",
  // just before sampling), and leave files of an earlier run, the ones a killed re-run must not
  // leave beside its own. The faster of the two: the first can be slowed by a cold page cache.
  double run_ms = 1e9, start_ms = 1e9;
  for (int r = 0; r < 2; ++r) {
    const auto t0 = Clock::now();
    Child c(args(1, kWarmup, kDraws), path("err.txt"));
    double started_at = -1;
    while (!c.exited()) {
      if (started_at < 0 && slurp(path("err.txt")).find("4 chains x (") != std::string::npos)
        started_at = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    const int st = c.wait();
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << slurp(path("err.txt"));
    run_ms = std::min(run_ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (started_at >= 0) start_ms = std::min(start_ms, started_at);
  }
  ASSERT_LT(start_ms, run_ms) << "the start of sampling was never seen";
  std::mt19937 rng(20240613);
  std::uniform_real_distribution<double> anywhere(0, 1.25 * run_ms), starting(0, 1.2 * start_ms);
  int completed = 0, started = 0, before_start = 0;
  for (unsigned i = 0; i < 50; ++i) {
    const unsigned seed = 100 + i;
    const double delay_ms = i % 2 ? anywhere(rng) : starting(rng);
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
  std::printf("[kill] run %.0f ms, start-up %.0f ms; 50 kills: %d before sampling started, %d while sampling, %d after "
              "it finished\n",
              run_ms, start_ms, before_start, started, completed);
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

// Interrupted while chain 2 samples, chain 1 (one thread: the chains run one after the other)
// complete and renamed: the message named chain 1's temporary, which no longer existed, among
// those "kept". It names only temporaries that exist, and chain 1's file as complete.
TEST_F(KillTest, AnInterruptNamesOnlyTheTemporariesThatExist) {
  auto a = args(3, 100, 400000);
  a[5] = "2";  // --chains
  a.insert(a.end(), {"--threads", "1"});
  Child c(a, path("err.txt"));
  // Chain 2's temporary holds rows (its first 64 kB): chain 1 has finished sampling.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::vector<std::string> tmps;
  for (bool chain_2_writes = false; !chain_2_writes && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    tmps = temporaries();
    std::sort(tmps.begin(), tmps.end());
    std::error_code ec;
    chain_2_writes = tmps.size() == 2 && fs::file_size(tmps[1], ec) > 0 && !ec;
  }
  ASSERT_EQ(tmps.size(), 2u) << slurp(path("err.txt"));
  c.signal(SIGINT);
  const int st = c.wait();
  const std::string err = slurp(path("err.txt"));
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 130) << err;
  ASSERT_TRUE(fs::exists(final_name(1))) << err;
  ASSERT_FALSE(fs::exists(tmps[0])) << err;
  ASSERT_TRUE(fs::exists(tmps[1])) << err;
  EXPECT_EQ(err.find(tmps[0]), std::string::npos) << "names a temporary that no longer exists:\n" << err;
  EXPECT_NE(err.find("exmc sample: interrupted; the draws so far are in (incomplete, kept under temporary names):\n  " +
                     tmps[1] + "\nexmc: chains completed before the interrupt (complete, under their final names):\n  " +
                     final_name(1) + "\n"),
            std::string::npos)
      << err;
}

// Issue 15: `--checkpoint-every N` then `--resume`. Killed with SIGKILL at random moments (in
// warmup and in sampling, and the resumed runs killed again), a run resumed until it completes
// writes exactly the files of an uninterrupted run: every byte but the run identifier, the output
// name and the elapsed times.
class ResumeTest : public KillTest {
 protected:
  static constexpr unsigned kIterations = 800;
  std::vector<std::string> resume_args(const std::string& out, bool resume) const {
    std::vector<std::string> a = {"sample", example("eight_schools.stan"), "--data",
                                  example("eight_schools.data.json"), "--chains", "4", "--warmup",
                                  "400", "--draws", "400", "--seed", "7", "--no-progress",
                                  "--checkpoint-every", "10", "--threads", "4", "--output", path(out)};
    if (resume) a.push_back("--resume");
    return a;
  }
  // Runs resume_args("out.csv", false) and stops it after its first checkpoints, as Ctrl-C would.
  void interrupt_after_first_checkpoints() const {
    Child c(resume_args("out.csv", false), path("err.txt"));
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!fs::exists(path("out_4.csv.checkpoint")) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    c.signal(SIGINT);
    const int st = c.wait();
    ASSERT_TRUE(WIFEXITED(st));
    ASSERT_EQ(WEXITSTATUS(st), 130) << slurp(path("err.txt"));
  }
  // Chain 1's CSV temporary, where its checkpoint says it stands.
  std::string chain_1_temporary(const io::RunCheckpoint& cp) const {
    return path(fs::path(cp.temp_path).filename().string());
  }
  // What a refused --resume tells the user to do for chain 1: remove its checkpoint. Then the
  // run resumes, chain 1 afresh, and completes.
  void follow_the_advice_for_chain_1() const {
    fs::remove(path("out_1.csv.checkpoint"));
    std::ostringstream out, err;
    EXPECT_EQ(run(resume_args("out.csv", true), out, err), 0) << err.str();
    for (unsigned k = 1; k <= 4; ++k) EXPECT_TRUE(fs::exists(final_name(k))) << final_name(k);
  }
  // The file without the lines that differ between any two runs.
  std::string comparable(const std::string& p) const {
    std::istringstream in(slurp(p));
    std::string line, kept;
    while (std::getline(in, line))
      if (line.find("Elapsed Time") == std::string::npos && line.find("seconds (") == std::string::npos &&
          line.find("exmc_run_id") == std::string::npos && line.find("  file = ") == std::string::npos)
        kept += line + "\n";
    return kept;
  }
};

TEST_F(ResumeTest, KilledAtRandomIterationsAndResumedTheFilesAreAnUninterruptedRunsByteForByte) {
  {
    Child c(resume_args("ref.csv", false), path("err.txt"));
    const int st = c.wait();
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << slurp(path("err.txt"));
  }
  ASSERT_FALSE(fs::exists(path("ref_1.csv.checkpoint"))) << "a completed run removes its checkpoints";
  std::vector<std::string> reference;
  for (unsigned k = 1; k <= 4; ++k) reference.push_back(comparable(path("ref_" + std::to_string(k) + ".csv")));

  // Each trial kills the run when a random chain's checkpoint reaches a random iteration, then
  // kills the resumed run the same way further on, then resumes to the end. Two trials kill
  // the first run as it starts (before or while it writes its first checkpoints).
  std::mt19937 rng(1515);
  int kills = 0, in_warmup = 0, in_sampling = 0, at_start = 0;
  for (unsigned trial = 0; trial < 20; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind("out", 0) == 0) fs::remove(e.path());
    unsigned target = std::uniform_int_distribution<unsigned>(1, kIterations - 40)(rng);
    bool orphans_possible = false;  // a run killed before its first checkpoints leaves temporaries
    for (int attempt = 0;; ++attempt) {
      Child c(resume_args("out.csv", attempt > 0), path("err.txt"));
      if (attempt < 2) {
        const unsigned k = std::uniform_int_distribution<unsigned>(1, 4)(rng);
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        if (attempt == 0 && trial < 2) {
          std::this_thread::sleep_for(std::chrono::milliseconds(trial == 0 ? 20 : 60));
        } else {
          while (!c.exited() && Clock::now() < deadline) {
            const auto cp = io::RunCheckpoint::load(final_name(k) + ".checkpoint");
            if (cp && cp->iterations >= target) break;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
          }
        }
        c.signal(SIGKILL);
      }
      const int st = c.wait();
      if (WIFEXITED(st)) {
        ASSERT_EQ(WEXITSTATUS(st), 0) << slurp(path("err.txt"));
        break;
      }
      ++kills;
      // Where the chains were: the checkpoints the kill left (the furthest chain says where the
      // kill landed: one may wait for a core).
      uint64_t hi = 0;
      for (unsigned k = 1; k <= 4; ++k) {
        const auto cp = io::RunCheckpoint::load(final_name(k) + ".checkpoint");
        if (cp) hi = std::max(hi, cp->iterations);
        orphans_possible |= !cp;
      }
      if (hi == 0) ++at_start;
      else (hi <= kIterations / 2 ? in_warmup : in_sampling)++;
      target += std::uniform_int_distribution<unsigned>(1, 30)(rng);
      ASSERT_LT(attempt, 3);
    }
    for (unsigned k = 1; k <= 4; ++k)
      ASSERT_EQ(comparable(final_name(k)), reference[k - 1]) << final_name(k);
    for (unsigned k = 1; k <= 4; ++k) EXPECT_FALSE(fs::exists(final_name(k) + ".checkpoint"));
    // Nothing else left behind: the resumed runs continued the temporaries the killed ones made.
    if (!orphans_possible) EXPECT_TRUE(temporaries().empty()) << temporaries()[0];
    for (const auto& t : temporaries()) fs::remove(t);
  }
  std::printf("[resume] %d kills: %d at start-up, %d in warmup, %d in sampling\n", kills,
              at_start, in_warmup, in_sampling);
  EXPECT_GE(in_warmup, 8);
  EXPECT_GE(in_sampling, 8);
}

TEST_F(ResumeTest, ResumingAnotherRunIsRefusedNamingWhatDiffers) {
  ASSERT_NO_FATAL_FAILURE(interrupt_after_first_checkpoints());
  EXPECT_NE(slurp(path("err.txt")).find("--resume continues from"), std::string::npos) << slurp(path("err.txt"));
  auto a = resume_args("out.csv", true);
  a[9] = "999";  // --draws
  std::ostringstream out, err;
  EXPECT_EQ(run(a, out, err), 1);
  EXPECT_NE(err.str().find("draws: 400 when checkpointed, 999 now"), std::string::npos) << err.str();
  a = resume_args("out.csv", true);
  a[11] = "8";  // --seed
  std::ostringstream out2, err2;
  EXPECT_EQ(run(a, out2, err2), 1);
  EXPECT_NE(err2.str().find("has seed 7, not 8"), std::string::npos) << err2.str();
  // --chains changed between 1 and more: the output names change (out.csv, out_1.csv ...), and
  // the resume found no checkpoint under its own names and started afresh, saying only "no
  // checkpoint", beside the interrupted run's checkpoints.
  a = resume_args("out.csv", true);
  a[5] = "1";  // --chains
  std::ostringstream out4, err4;
  EXPECT_EQ(run(a, out4, err4), 1);
  EXPECT_NE(err4.str().find("out_1.csv.checkpoint was written for (chains: 4 when checkpointed, 1 now)"),
            std::string::npos)
      << err4.str();
  EXPECT_FALSE(fs::exists(path("out.csv")));
  fs::copy_file(path("out_1.csv.checkpoint"), path("one.csv.checkpoint"));
  a = resume_args("one.csv", true);
  a[5] = "2";
  std::ostringstream out5, err5;
  EXPECT_EQ(run(a, out5, err5), 1);
  EXPECT_NE(err5.str().find("one.csv.checkpoint was written for (chains: 4 when checkpointed, 2 now)"),
            std::string::npos)
      << err5.str();
  // A damaged checkpoint is refused, not resumed.
  {
    std::fstream f(path("out_2.csv.checkpoint"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x5a');
  }
  std::ostringstream out3, err3;
  EXPECT_EQ(run(resume_args("out.csv", true), out3, err3), 1);
  EXPECT_NE(err3.str().find("damaged"), std::string::npos) << err3.str();
}

// --fixed-param added on --resume was not part of what a checkpoint must agree with: the run
// went on, the checkpointed chains failed ("warmup iterations differs"), the others sampled
// the fixed_param sampler into the same run, and it ended saying "the same command with
// --resume continues". It is refused up front, naming the setting, and nothing is touched.
TEST_F(ResumeTest, ResumingWithFixedParamAddedIsRefusedNamingIt) {
  ASSERT_NO_FATAL_FAILURE(interrupt_after_first_checkpoints());
  const std::string before = slurp(path("out_1.csv.checkpoint"));
  auto tmps_before = temporaries();
  std::sort(tmps_before.begin(), tmps_before.end());
  auto a = resume_args("out.csv", true);
  a.push_back("--fixed-param");
  std::ostringstream out, err;
  EXPECT_EQ(run(a, out, err), 1);
  EXPECT_NE(err.str().find("out_1.csv.checkpoint was written for (fixed-param: no when checkpointed, yes now)"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(slurp(path("out_1.csv.checkpoint")), before);
  auto tmps_after = temporaries();
  std::sort(tmps_after.begin(), tmps_after.end());
  EXPECT_EQ(tmps_after, tmps_before);
}

// A checkpoint kept its CSV temporary's path as the run named it, relative to the folder it ran
// in: resumed from another folder (the same files named by other paths, as a batch scheduler
// may) it failed, "cannot continue out_1.csv.<hex>.tmp ... No such file or directory". The
// temporary is now looked for beside the output, where it always is.
TEST_F(ResumeTest, ResumedFromAnotherWorkingDirectory) {
  const fs::path started_in = fs::current_path();
  fs::current_path(dir);
  {
    auto a = resume_args("out.csv", false);
    a.back() = "out.csv";  // --output, relative to dir
    Child c(a, path("err.txt"));
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!fs::exists(path("out_4.csv.checkpoint")) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    c.signal(SIGINT);
    const int st = c.wait();
    fs::current_path(started_in);
    ASSERT_TRUE(WIFEXITED(st));
    ASSERT_EQ(WEXITSTATUS(st), 130) << slurp(path("err.txt"));
  }
  std::ostringstream out, err;
  EXPECT_EQ(run(resume_args("out.csv", true), out, err), 0) << err.str();
  EXPECT_NE(err.str().find("resuming from the checkpoints"), std::string::npos) << err.str();
  for (unsigned k = 1; k <= 4; ++k) EXPECT_TRUE(fs::exists(final_name(k))) << final_name(k);
  EXPECT_TRUE(temporaries().empty());
}

// A chain's CSV temporary deleted after the interruption (its checkpoint kept): --resume said
// "cannot continue out_1.csv.<hex>.tmp ...: No such file or directory" and not what to do. It
// now says that removing that chain's checkpoint starts the chain afresh, which then works.
TEST_F(ResumeTest, AChainsDeletedTemporarySaysWhatToDo) {
  ASSERT_NO_FATAL_FAILURE(interrupt_after_first_checkpoints());
  const auto cp = io::RunCheckpoint::load(path("out_1.csv.checkpoint"));
  ASSERT_TRUE(cp);
  ASSERT_TRUE(fs::remove(chain_1_temporary(*cp)));
  std::ostringstream out, err;
  ASSERT_EQ(run(resume_args("out.csv", true), out, err), 1) << err.str();
  EXPECT_NE(err.str().find("cannot continue"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("remove " + path("out_1.csv.checkpoint") + " to start that chain afresh, or run without "
                           "--resume to start the whole run afresh"),
            std::string::npos)
      << err.str();
  follow_the_advice_for_chain_1();
}

// A chain's CSV temporary edited after the interruption (not shortened): --resume continued it,
// and the edited rows went out under the final name as the sampler's. The checkpoint now keeps
// the temporary's content hash, and an edit is refused with what to do.
TEST_F(ResumeTest, AnEditedTemporaryIsRefused) {
  ASSERT_NO_FATAL_FAILURE(interrupt_after_first_checkpoints());
  const auto cp = io::RunCheckpoint::load(path("out_1.csv.checkpoint"));
  ASSERT_TRUE(cp);
  const std::string tmp = chain_1_temporary(*cp);
  std::string text = slurp(tmp);
  ASSERT_GE(text.size(), cp->offset);
  const size_t at = text.rfind('.', cp->offset - 2);  // a digit after the last point written
  ASSERT_NE(at, std::string::npos);
  text[at + 1] = text[at + 1] == '7' ? '3' : '7';
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
  std::ostringstream out, err;
  ASSERT_EQ(run(resume_args("out.csv", true), out, err), 1) << err.str();
  EXPECT_NE(err.str().find("was changed since its checkpoint: its first " + std::to_string(cp->offset) +
                           " bytes are not those the run wrote; remove " + path("out_1.csv.checkpoint") +
                           " to start that chain afresh"),
            std::string::npos)
      << err.str();
  follow_the_advice_for_chain_1();
}

// A chain whose checkpoint was deleted (or never written) starts afresh on --resume; the
// interrupted run's temporary for it can never be continued, and was left behind, unnamed, after
// the resumed run completed. It is removed and named; another run's temporary is not touched.
TEST_F(ResumeTest, ChainWithoutCheckpointStartsAfreshAndItsStaleTemporaryGoes) {
  ASSERT_NO_FATAL_FAILURE(interrupt_after_first_checkpoints());
  const auto cp = io::RunCheckpoint::load(path("out_2.csv.checkpoint"));
  ASSERT_TRUE(cp);
  const std::string stale = cp->temp_path;
  ASSERT_TRUE(fs::exists(stale));
  fs::remove(path("out_2.csv.checkpoint"));
  // Another run's temporary under the same name pattern.
  std::ofstream(path("out_2.csv.0123456789abcdef.tmp")) << "# exmc_run_id = someoneelse\n";
  std::ostringstream out, err;
  ASSERT_EQ(run(resume_args("out.csv", true), out, err), 0) << err.str();
  EXPECT_NE(err.str().find("chain 2 has no checkpoint (" + path("out_2.csv.checkpoint") + "): it starts afresh"),
            std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find(stale), std::string::npos) << err.str();
  EXPECT_FALSE(fs::exists(stale)) << "the interrupted run's temporary for chain 2 was left behind";
  EXPECT_TRUE(fs::exists(path("out_2.csv.0123456789abcdef.tmp"))) << "another run's temporary was removed";
  for (unsigned k = 1; k <= 4; ++k) EXPECT_TRUE(fs::exists(final_name(k))) << final_name(k);
  EXPECT_EQ(temporaries().size(), 1u);
}

// --resume with every checkpoint gone (deleted, or the run killed before its first) started
// afresh and left the interrupted run's temporaries behind without a word. They cannot be
// continued, and no process holds them (the interrupted run has ended): they are removed, and
// named, as a plain rerun removes them.
TEST_F(ResumeTest, NoCheckpointsButAnInterruptedRunsTemporariesNamesThemAndRemovesThem) {
  ASSERT_NO_FATAL_FAILURE(interrupt_after_first_checkpoints());
  for (unsigned k = 1; k <= 4; ++k) fs::remove(final_name(k) + ".checkpoint");
  auto stale = temporaries();
  std::sort(stale.begin(), stale.end());
  ASSERT_EQ(stale.size(), 4u);
  std::ostringstream out, err;
  ASSERT_EQ(run(resume_args("out.csv", true), out, err), 0) << err.str();
  EXPECT_NE(err.str().find("starting from the beginning"), std::string::npos) << err.str();
  std::string names;
  for (const auto& t : stale) names += (names.empty() ? "" : ", ") + t;
  EXPECT_NE(err.str().find("exmc: removed the draws an earlier, interrupted or killed run of this output left under "
                           "temporary names (no process was writing them, and no checkpoint continues them): " +
                           names + "\n"),
            std::string::npos)
      << err.str();
  for (const auto& t : stale) EXPECT_FALSE(fs::exists(t)) << t << " was left";
  for (unsigned k = 1; k <= 4; ++k) EXPECT_TRUE(fs::exists(final_name(k))) << final_name(k);
  EXPECT_TRUE(temporaries().empty());
}

// --resume after the run completed (its checkpoints removed, its files under their final names)
// sampled again and replaced them, saying only "no checkpoint: starting from the beginning". It
// now says they are complete and leaves them (exit 0, so a retry loop ends); with other settings
// it refuses, naming the setting, and still leaves them.
TEST_F(ResumeTest, ResumingACompletedRunLeavesItsFilesAsTheyAre) {
  auto a = resume_args("out.csv", false);
  a[7] = "100";  // --warmup
  a[9] = "100";  // --draws
  {
    std::ostringstream out, err;
    ASSERT_EQ(run(a, out, err), 0) << err.str();
  }
  std::vector<std::string> before;
  for (unsigned k = 1; k <= 4; ++k) before.push_back(slurp(final_name(k)));
  std::ostringstream out, err;
  a.push_back("--resume");
  EXPECT_EQ(run(a, out, err), 0) << err.str();
  EXPECT_NE(err.str().find(final_name(1) + " ... are already complete (run id "), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("nothing to resume"), std::string::npos) << err.str();
  EXPECT_EQ(err.str().find("starting from the beginning"), std::string::npos) << err.str();
  EXPECT_EQ(out.str().find(final_name(1)), 0u) << out.str();
  a[9] = "120";
  std::ostringstream out2, err2;
  EXPECT_EQ(run(a, out2, err2), 1);
  EXPECT_NE(err2.str().find("a completed run with other settings (draws: 100 in " + final_name(1) + ", 120 now)"),
            std::string::npos)
      << err2.str();
  for (unsigned k = 1; k <= 4; ++k) EXPECT_EQ(slurp(final_name(k)), before[k - 1]) << final_name(k);
  EXPECT_TRUE(temporaries().empty());
}

// A chain stopped because its file could not be written (here a file size limit, as a full disk
// would) is the machine's trouble, which another try or node may not have: exmc batch retries
// such a fit, and retries none whose chains fail on their own.
TEST_F(KillTest, AFailedWriteIsNotTakenForAnInputError) {
  SampleOptions o;
  o.model_path = example("eight_schools.stan");
  o.data_path = example("eight_schools.data.json");
  o.chains = 1;
  o.threads = 1;
  o.seed_given = true;
  o.seed = 1;
  o.progress = false;
  o.output = path("limited.csv");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG
    const rlimit limit{20000, 20000};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    std::ostringstream out, err;
    SampleFailure why = SampleFailure::kNone;
    const int rc = sample_chains(o, ChainBlock{0, 1, "limited"}, out, err, &why);
    const bool said = err.str().find("I/O error") != std::string::npos;
    ::_exit(rc != 1 || !said ? 20 : why == SampleFailure::kOther ? 0 : why == SampleFailure::kInput ? 11 : 12);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "11: taken for an input error; 20: the run did not fail on its write";
}

}  // namespace
}  // namespace exmc::cli
