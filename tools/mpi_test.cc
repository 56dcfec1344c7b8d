// Issue 15, item 3: `mpirun -n K exmc sample` writes the files one process writes, whatever K;
// `exmc batch` (a manifest, SBC) over ranks completes when a fit is killed, a fit throws or a
// rank is killed, with the per-simulation results of an undisturbed run, and resumes.
// These run the built `exmc` under the configure-time mpiexec. Without MPI in the build they are
// skipped, except under CI=true (scripts/setup installs libopenmpi-dev), where that fails.
#include "mpi_test_support.hpp"

namespace {

using namespace exmc_mpi_test;

TEST(MpiSample, FilesIdenticalForOneTwoFourRanksAndPlain) {
  REQUIRE_MPI();
  const auto root = fresh_dir("sample");
  const std::string args = " sample " + kEight + ".stan --data " + kEight +
                           ".data.json --chains 4 --warmup 200 --draws 200 --seed 11 --output out.csv --no-progress";
  ASSERT_EQ(run_in(root / "plain", kExmc + args), 0) << read(root / "plain/log.txt");
  for (int n : {1, 2, 4}) {
    const auto d = root / ("n" + std::to_string(n));
    ASSERT_EQ(run_in(d, mpirun(n) + args), 0) << read(d / "log.txt");
    for (int c = 1; c <= 4; ++c) {
      const std::string f = "out_" + std::to_string(c) + ".csv";
      ASSERT_TRUE(fs::exists(d / f)) << n << " ranks: " << f;
      EXPECT_TRUE(without_timing(d / f) == without_timing(root / "plain" / f)) << n << " ranks: " << f << " differs";
      EXPECT_EQ(run_id(d / f), run_id(d / "out_1.csv")) << "one run id per run";
    }
    // Rank 0 speaks for the run, with its own block's counts: said so (they read as the run's).
    const std::string log = read(d / "log.txt");
    if (n == 1) EXPECT_EQ(log.find("this process's"), std::string::npos) << log;
    else EXPECT_NE(log.find(fmt::format("gradient evaluations (chains 1-{} of 4: this process's)\n", 4 / n)),
                   std::string::npos) << log;
  }
  EXPECT_TRUE(without_timing(root / "plain/out_1.csv") != without_timing(root / "plain/out_2.csv"));
}

// OpenMPI is the MPI module's (libexmc_mpi.so), loaded only by ranks of a launch of several:
// a plain run, and one rank under mpirun, never load it (lazy_modules_test.cc, the others).
TEST(MpiSample, OnlyRanksOfSeveralLoadTheMpiModule) {
  REQUIRE_MPI();
  const auto root = fresh_dir("modules");
  const std::string args = " sample " + kEight + ".stan --data " + kEight +
                           ".data.json --chains 2 --warmup 20 --draws 20 --seed 3 --output out.csv --no-progress";
  for (int n : {1, 2}) {
    const auto d = root / ("n" + std::to_string(n));
    ASSERT_EQ(run_in(d, "LD_DEBUG=files " + mpirun(n) + args), 0) << read(d / "log.txt");
    const std::string log = read(d / "log.txt");
    ASSERT_NE(log.find("file="), std::string::npos) << "LD_DEBUG said nothing:\n" << log;
    EXPECT_EQ(log.find("libexmc_mpi.so [") != std::string::npos, n > 1) << n << " ranks:\n" << log;
  }
}

// Checkpoints under mpirun: each rank checkpoints its own chains; the run killed (every process,
// SIGKILL) and resumed with another rank count writes the files of an uninterrupted plain run.
TEST(MpiSample, CheckpointedRunKilledThenResumedOnAnotherRankCount) {
  REQUIRE_MPI();
  const auto root = fresh_dir("checkpoint");
  const std::string args = " sample " + kEight + ".stan --data " + kEight +
                           ".data.json --chains 4 --warmup 300 --draws 300 --seed 5 --checkpoint-every 10 "
                           "--output ckrun.csv --no-progress";
  ASSERT_EQ(run_in(root / "plain", kExmc + args), 0) << read(root / "plain/log.txt");
  const auto d = root / "mpi";
  fs::create_directories(d);
  const std::string start = "cd '" + d.string() + "' && " + mpirun(2) + args + " > log.txt 2>&1 &";
  ASSERT_EQ(std::system(start.c_str()), 0);
  // Kill every process of the run once a chain of the second block is past iteration 100.
  bool killed = false;
  for (int i = 0; i < 20000 && !killed; ++i) {
    try {
      const auto cp = exmc::io::RunCheckpoint::load((d / "ckrun_3.csv.checkpoint").string());
      if (cp && cp->iterations >= 100) {
        std::system("pkill -9 -f 'output ckrun.csv' >/dev/null 2>&1");
        killed = true;
      }
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(killed) << "the run never reached a checkpoint past iteration 100: " << read(d / "log.txt");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_FALSE(fs::exists(d / "ckrun_1.csv") && fs::exists(d / "ckrun_4.csv")) << "killed too late";
  ASSERT_EQ(run_in(d, mpirun(4) + args + " --resume"), 0) << read(d / "log.txt");
  for (int c = 1; c <= 4; ++c) {
    const std::string f = "ckrun_" + std::to_string(c) + ".csv";
    EXPECT_TRUE(without_timing(d / f) == without_timing(root / "plain" / f)) << f << " differs";
    EXPECT_FALSE(fs::exists(d / (f + ".checkpoint"))) << "a completed run removes its checkpoints";
  }
}

// --init pathfinder under mpirun: each rank runs Pathfinder (the same seed, the same draws) and
// its chains start at the draws they start at in one process.
TEST(MpiSample, PathfinderInitGivesThePlainRunsFiles) {
  REQUIRE_MPI();
  const auto root = fresh_dir("pathfinder");
  const std::string args = " sample " + kEight + ".stan --data " + kEight +
                           ".data.json --chains 4 --warmup 150 --draws 150 --seed 9 --init pathfinder "
                           "--output out.csv --no-progress";
  ASSERT_EQ(run_in(root / "plain", kExmc + args), 0) << read(root / "plain/log.txt");
  ASSERT_EQ(run_in(root / "n2", mpirun(2) + args), 0) << read(root / "n2/log.txt");
  for (int c = 1; c <= 4; ++c) {
    const std::string f = "out_" + std::to_string(c) + ".csv";
    EXPECT_TRUE(without_timing(root / "n2" / f) == without_timing(root / "plain" / f)) << f << " differs";
  }
}

// Ranks started with different options (mpirun's "A : B" form) did each its share of another
// job: --chains 2 on rank 0 and --chains 4 on rank 1 wrote out_1.csv of a 2-chain run beside
// out_3.csv and out_4.csv of a 4-chain one, and exited 0; a batch's ranks fitted with their own
// settings, not the ones recorded in batch.json. Now every rank stops before writing anything,
// and rank 0 names the option and both values.
TEST(MpiSample, RanksStartedWithDifferentOptionsAreRefusedNamingTheOption) {
  REQUIRE_MPI();
  const auto d = fresh_dir("disagree");
  const std::string launcher = "timeout -k 5 120 " + std::string(EXMC_MPIEXEC) + " --oversubscribe ";
  const std::string sample = kExmc + " sample " + kEight + ".stan --data " + kEight +
                             ".data.json --output out.csv --seed 1 --warmup 50 --draws 50 --no-progress";
  EXPECT_NE(run_in(d, launcher + "-n 1 " + sample + " --chains 2 : -n 1 " + sample + " --chains 4"), 0);
  auto log = read(d / "log.txt");
  EXPECT_NE(log.find("exmc sample: error: rank 1 was started with --chains 4, rank 0 with --chains 2"),
            std::string::npos)
      << log;
  for (const char* f : {"out_1.csv", "out_2.csv", "out_3.csv", "out_4.csv"}) EXPECT_FALSE(fs::exists(d / f)) << f;

  std::ofstream(d / "fits.txt") << kEight << ".stan " << kEight << ".data.json\n";
  const std::string batch = kExmc + " batch --manifest fits.txt --output runs --seed 1 --chains 1 --draws 50";
  EXPECT_NE(run_in(d, launcher + "-n 1 " + batch + " --warmup 50 : -n 1 " + batch + " --warmup 60"), 0);
  log = read(d / "log.txt");
  EXPECT_NE(log.find("exmc batch: error: rank 1 was started with --warmup 60, rank 0 with --warmup 50"),
            std::string::npos)
      << log;
  EXPECT_FALSE(fs::exists(d / "runs")) << log;
  // The same options everywhere still run (--threads may differ).
  ASSERT_EQ(run_in(d, launcher + "-n 1 " + sample + " --chains 2 --threads 1 : -n 1 " + sample + " --chains 2"), 0)
      << read(d / "log.txt");
  EXPECT_TRUE(fs::exists(d / "out_2.csv"));
}

// A rank that could not write its chains' files (their folder missing on its host) exited at
// once, but MPI_Finalize held it until the others had sampled their blocks to the end: rank 0
// wrote out_1.csv and out_2.csv of a 4-chain run that failed, complete-looking, and the job took
// rank 0's full time. Every rank's outputs and inputs are now checked before anyone samples.
TEST(MpiSample, ARankThatCannotWriteItsChainsStopsEveryRankBeforeSampling) {
  REQUIRE_MPI();
  const auto d = fresh_dir("rank_without_folder");
  fs::create_directories(d / "r0/out");
  fs::create_directories(d / "r1");  // no out/ here
  std::ofstream(d / "wrap.sh") << "#!/bin/sh\ncd \"" << d.string() << "/r$OMPI_COMM_WORLD_RANK\" && exec \"$@\"\n";
  fs::permissions(d / "wrap.sh", fs::perms::owner_all);
  const std::string cmd = "timeout -k 5 120 " + std::string(EXMC_MPIEXEC) + " --oversubscribe -n 2 ./wrap.sh " +
                          kExmc + " sample " + kEight + ".stan --data " + kEight +
                          ".data.json --seed 3 --chains 4 --warmup 200 --draws 200000 --thin 100 --output out/o.csv";
  EXPECT_NE(run_in(d, cmd), 0);
  const auto log = read(d / "log.txt");
  EXPECT_NE(log.find("exmc sample: error: rank 1: --output out/o_3.csv: the folder out does not exist; nothing was "
                     "sampled"),
            std::string::npos)
      << log;
  EXPECT_TRUE(fs::is_empty(d / "r0/out")) << "rank 0 wrote files of a run that failed";
}

TEST(MpiBatch, ManifestOfThreeFitsOverTwoRanks) {
  REQUIRE_MPI();
  const auto root = fresh_dir("manifest");
  std::ofstream(root / "fits.txt") << "# model data output\n"
                                   << kEight << ".stan " << kEight << ".data.json a/out.csv\n"
                                   << kSbc << ".stan " << kSbc << ".data.json b/out.csv\n"
                                   << kEight << ".stan " << kEight << ".data.json\n";
  const std::string settings = " --chains 2 --warmup 150 --draws 150 --seed 4";
  ASSERT_EQ(run_in(root, mpirun(2) + " batch --manifest fits.txt --output batch" + settings), 0)
      << read(root / "log.txt");
  for (const char* f : {"a/out_1.csv", "a/out_2.csv", "b/out_1.csv", "b/out_2.csv", "batch/item_0003/output_1.csv"})
    EXPECT_TRUE(fs::exists(root / f)) << f;
  const auto status = read(root / "batch/status.tsv");
  EXPECT_EQ(std::count(status.begin(), status.end(), '\n'), 4) << status;
  EXPECT_EQ(status.find("failed"), std::string::npos) << status;
  // Fit 1 is `exmc sample` with the same settings.
  ASSERT_EQ(run_in(root / "plain", kExmc + " sample " + kEight + ".stan --data " + kEight +
                                       ".data.json --output ../a/ref.csv --no-progress" + settings),
            0);
  for (int c = 1; c <= 2; ++c) {
    auto strip_output_name = [](std::string s) {  // the output's own name differs
      const auto at = s.find("# output\n#   file = ");
      if (at != std::string::npos) s.erase(at, s.find('\n', at + 10) - at);
      return s;
    };
    const auto f = "a/out_" + std::to_string(c) + ".csv", ref = "a/ref_" + std::to_string(c) + ".csv";
    EXPECT_TRUE(strip_output_name(without_timing(root / f)) == strip_output_name(without_timing(root / ref)))
        << f << " differs from " << ref;
  }
}

// One process, no mpirun: a manifest is checked, naming the file and the item, before anything
// runs or is recorded. Before, these exited with nlohmann's bare messages, or ran: a seed of -1
// (wrapped to 2^64 - 1), a misspelt key (ignored), two fits writing one file (the second
// overwrote the first, both "done"); and a refused manifest was recorded in batch.json, so the
// corrected one was refused as "other settings" in the same --output.
TEST(Batch, MalformedManifestsAreRefusedNamingTheFileAndItem) {
  const auto d = fresh_dir("bad_manifests");
  const std::string fit = "\"model\": \"" + kEight + ".stan\", \"data\": \"" + kEight + ".data.json\"";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[{\"model\": 3}]", "m.json: item 1: 'model' must be a string (a path)"},
      {"[{\"data\": \"d.json\"}]", "m.json: item 1: no 'model'"},
      {"[{" + fit + ", \"seed\": -1}]", "m.json: item 1: 'seed' must be an integer in 0..4294967295, got -1"},
      {"[{" + fit + "}, {" + fit + ", \"sed\": 4}]", "m.json: item 2: unknown key 'sed' (model, data, output, seed)"},
      {"[{" + fit + ", \"output\": \"a.csv\"}, {" + fit + ", \"output\": \"./a.csv\"}]",
       "m.json: items 1 and 2 both write"},
      {"{" + fit + "}", "m.json: a JSON manifest is an array of fits"},
      {"[{\"model\": ", "m.json: invalid JSON at line 1, column"},
  };
  for (const auto& [manifest, message] : cases) {
    std::ofstream(d / "m.json") << manifest;
    EXPECT_EQ(run_in(d, kExmc + " batch --manifest m.json --output out --chains 1 --warmup 20 --draws 20"), 1)
        << manifest;
    const auto log = read(d / "log.txt");
    EXPECT_NE(log.find("exmc batch: error: " + message), std::string::npos) << manifest << "\n" << log;
    EXPECT_FALSE(fs::exists(d / "out" / "batch.json")) << manifest;
    EXPECT_FALSE(fs::exists(d / "a.csv")) << manifest;
  }
}

// A re-run into the same --output with another setting was refused as "a batch with other
// settings or inputs", leaving the user to guess which of a dozen options or files it meant.
TEST(Batch, ReRunWithOtherSettingsNamesTheSettingThatDiffers) {
  const auto d = fresh_dir("other_settings");
  std::ofstream(d / "fits.txt") << kEight << ".stan " << kEight << ".data.json\n";
  const std::string batch = kExmc + " batch --manifest fits.txt --output runs --seed 1 --chains 1 --warmup 20";
  ASSERT_EQ(run_in(d, batch + " --draws 20"), 0) << read(d / "log.txt");
  EXPECT_EQ(run_in(d, batch + " --draws 30"), 1);
  EXPECT_NE(read(d / "log.txt").find("(runs/batch.json: --draws: 20 then, 30 now); use the same options, or another "
                                     "--output"),
            std::string::npos)
      << read(d / "log.txt");
  EXPECT_EQ(run_in(d, batch + " --draws 20 --adapt-delta 0.9"), 1);
  EXPECT_NE(read(d / "log.txt").find("--adapt-delta: 0.8 then, 0.9 now"), std::string::npos) << read(d / "log.txt");
  std::ofstream(d / "fits.txt", std::ios::app) << "# a comment\n";
  EXPECT_EQ(run_in(d, batch + " --draws 20"), 1);
  EXPECT_NE(read(d / "log.txt").find("the manifest's content changed"), std::string::npos) << read(d / "log.txt");
}

// --output naming an existing file (or a path under one) said only "filesystem error: cannot
// create directories: Not a directory [out/items]".
TEST(Batch, OutputThatIsAFileIsRefusedNamingIt) {
  const auto d = fresh_dir("output_file");
  std::ofstream(d / "fits.txt") << kEight << ".stan " << kEight << ".data.json\n";
  std::ofstream(d / "taken") << "mine\n";
  const std::string batch = kExmc + " batch --manifest fits.txt --seed 1 --chains 1 --warmup 20 --draws 20";
  for (const std::string out : {"taken", "taken/", "taken/sub"}) {
    EXPECT_EQ(run_in(d, batch + " --output " + out), 1) << out;
    const auto log = read(d / "log.txt");
    const std::string said = out == "taken/sub" ? "--output taken/sub: taken is a file, not a folder"
                                                : "--output " + out + " is a file, not a folder";
    EXPECT_NE(log.find("exmc batch: error: " + said), std::string::npos) << log;
    EXPECT_EQ(log.find("filesystem error"), std::string::npos) << log;
    EXPECT_EQ(read(d / "taken"), "mine\n");
  }
}

// --simulations 0 ran, printed chi2 -nan and p-value 1.0000 for every quantity ("smallest p-value
// 1.0000") and exited 0; a batch whose every simulation failed printed the same verdict.
// An SBC batch in `d` whose simulator fails every simulation (normal_rng with a negative scale):
// the command, to which --simulations, --output and the like are added.
std::string failing_sbc(const fs::path& d) {
  std::ofstream(d / "m.stan") << "parameters { real mu; } model { mu ~ normal(0, 1); }\n";
  std::ofstream(d / "sim.stan") << "generated quantities { real mu = normal_rng(0, -1); }\n";
  return kExmc + " batch --sbc m.stan --simulator sim.stan --warmup 20 --draws 20 --rank-draws 19 --bins 4 --seed 1";
}

TEST(Batch, SbcWithoutCompletedSimulationsGivesNoPValue) {
  const auto d = fresh_dir("sbc_none");
  const std::string sbc = failing_sbc(d);
  EXPECT_EQ(run_in(d, sbc + " --simulations 0 --output a"), 2);
  EXPECT_NE(read(d / "log.txt").find("--simulations: Value 0 not in range 1"), std::string::npos)
      << read(d / "log.txt");
  EXPECT_FALSE(fs::exists(d / "a"));
  EXPECT_EQ(run_in(d, sbc + " --simulations 2 --max-attempts 1 --output b"), 1);
  const auto log = read(d / "log.txt");
  EXPECT_NE(log.find("exmc batch: error: no simulation completed: there are no ranks to test"), std::string::npos)
      << log;
  EXPECT_EQ(log.find("nan"), std::string::npos) << log;
  EXPECT_EQ(log.find("smallest p-value"), std::string::npos) << log;
  EXPECT_NE(read(d / "b/sbc_summary.json").find("\"min_p_value\": null"), std::string::npos);
}

// Options every simulation would refuse (--bins, --rank-draws) are refused before the output
// folder is written: the refused batch's batch.json made the corrected re-run into the same
// folder "a batch with other settings". Draws per fit count as a chain keeps them:
// ceil(draws / thin) (--thin 1000 --draws 50 keeps 1; "0 posterior draws per fit" it said).
TEST(Batch, SbcOptionsEveryFitWouldRefuseLeaveNoFolderBehind) {
  const auto d = fresh_dir("sbc_options");
  failing_sbc(d);  // writes the programs
  const std::string sbc = kExmc + " batch --sbc m.stan --simulator sim.stan --warmup 20 --draws 20 --seed 1";
  EXPECT_EQ(run_in(d, sbc + " --simulations 1 --rank-draws 19 --bins 3 --output a"), 1);
  EXPECT_NE(read(d / "log.txt").find("--bins 3 must be >= 2 and divide the 20 possible ranks"), std::string::npos)
      << read(d / "log.txt");
  EXPECT_FALSE(fs::exists(d / "a"));
  EXPECT_EQ(run_in(d, sbc + " --simulations 1 --rank-draws 25 --output a"), 1);
  EXPECT_NE(read(d / "log.txt").find("--rank-draws 25 is more than the 20 posterior draws per fit"),
            std::string::npos)
      << read(d / "log.txt");
  EXPECT_FALSE(fs::exists(d / "a"));
  EXPECT_EQ(run_in(d, sbc + " --simulations 1 --thin 15 --rank-draws 3 --output a"), 1);
  EXPECT_NE(read(d / "log.txt").find("--rank-draws 3 is more than the 2 posterior draws per fit"), std::string::npos)
      << read(d / "log.txt");
  // The corrected batch runs in the same folder (its simulation then fails: the simulator is bad).
  EXPECT_EQ(run_in(d, sbc + " --simulations 1 --rank-draws 19 --bins 4 --max-attempts 1 --output a"), 1);
  EXPECT_NE(read(d / "log.txt").find("simulation 0 failed (not retried"), std::string::npos) << read(d / "log.txt");
}

// A simulation is a pure function of the seed and its number, so one whose simulator or fit fails
// fails every attempt alike: it was retried --max-attempts times (three identical failures per
// simulation in the log). It is now tried once, as a manifest fit with invalid input is.
TEST(Batch, SbcSimulationsThatFailAreNotRetried) {
  const auto d = fresh_dir("sbc_deterministic");
  EXPECT_EQ(run_in(d, failing_sbc(d) + " --simulations 2 --max-attempts 3 --output b"), 1);
  const auto log = read(d / "log.txt");
  EXPECT_NE(log.find("simulation 0 failed (not retried"), std::string::npos) << log;
  EXPECT_NE(log.find("simulation 1 failed (not retried"), std::string::npos) << log;
  const auto status = read(d / "b/status.tsv");
  EXPECT_NE(status.find("0\tfailed\t1\t"), std::string::npos) << status;  // one attempt each
  EXPECT_NE(status.find("1\tfailed\t1\t"), std::string::npos) << status;
}

// The scheduler's log numbered a manifest's items from 0 and every other line from 1: the second
// line's failure was logged as "item 1 failed on rank 0 (...)" beside "item 2 failed after 2
// attempts" and status.tsv's item 2. (The second line's first attempt is made to fail, so that
// the scheduler logs its retry; an input error is reported once, by the item report.)
TEST(Batch, LogNumbersManifestItemsAsTheRecordsDo) {
  const auto d = fresh_dir("numbering");
  std::ofstream(d / "bad.stan") << "parameters { real mu } model { }\n";
  std::ofstream(d / "fits.txt") << "bad.stan\n" << kEight << ".stan " << kEight << ".data.json\n";
  EXPECT_EQ(run_in(d, "EXMC_BATCH_THROW=1 " + kExmc +
                          " batch --manifest fits.txt --output runs --seed 1 --chains 1 --warmup 20 --draws 20 "
                          "--max-attempts 2"),
            1);
  const auto log = read(d / "log.txt");
  EXPECT_NE(log.find("exmc batch: item 2 failed on rank 0 (injected failure (EXMC_BATCH_THROW)); retrying"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("exmc batch: item 1 failed (not retried: its model or data is invalid):\n  rank 0: "
                     "bad.stan:1:22"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("item 0 failed"), std::string::npos) << log;
  EXPECT_EQ(log.find("item 2 failed ("), std::string::npos) << log;
}

// A fit whose model or data is invalid failed identically --max-attempts times (the same
// message three times) and status.tsv gave its rank as -1. It fails once, its message recorded
// with the rank that ran it; a failure that may pass (a fit that threw, one killed) is retried.
TEST(Batch, InputErrorsFailOnceAndOtherFailuresAreRetried) {
  const auto d = fresh_dir("input_errors");
  std::ofstream(d / "bad.stan") << "parameters { real x; } model { x ~ nromal(0, 1); }\n";
  std::ofstream(d / "bad.json") << "{\"J\": 3}\n";
  std::ofstream(d / "fits.txt") << "bad.stan -\n"
                                << kEight << ".stan bad.json\n"
                                << kEight << ".stan " << kEight << ".data.json\n"
                                << kEight << ".stan " << kEight << ".data.json\n";
  // The third fit's first attempt throws, the fourth's is killed: both are retried.
  EXPECT_EQ(run_in(d, "EXMC_BATCH_THROW=2 EXMC_BATCH_KILL_FIT=3 " + kExmc +
                          " batch --manifest fits.txt --output runs --seed 1 --chains 1 --warmup 20 --draws 20"),
            1);
  const auto log = read(d / "log.txt");
  EXPECT_NE(log.find("exmc batch: item 1 failed (not retried: its model or data is invalid):\n  rank 0: "
                     "bad.stan:1:36: error: unknown distribution 'nromal'"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("exmc batch: item 2 failed (not retried"), std::string::npos) << log;
  // Said once, in the item's report: once per attempt before, then in the scheduler's line and
  // in the report (a compile error's three lines twice, one after the other).
  size_t said = 0;
  for (size_t at = log.find("unknown distribution 'nromal'"); at != std::string::npos;
       at = log.find("unknown distribution 'nromal'", at + 1))
    ++said;
  EXPECT_EQ(said, 1u) << log;
  EXPECT_EQ(log.find("failed on rank 0 (bad.stan"), std::string::npos) << log;
  const auto status = read(d / "runs/status.tsv");
  EXPECT_NE(status.find("1\tfailed\t1\t0\trank 0: bad.stan:1:36: error: unknown distribution"), std::string::npos)
      << status;
  EXPECT_NE(status.find("2\tfailed\t1\t0\trank 0: bad.json: error: data variable 'y'"), std::string::npos) << status;
  EXPECT_NE(status.find("3\tok\t2\t0\t"), std::string::npos) << status;
  EXPECT_NE(status.find("4\tok\t2\t0\t"), std::string::npos) << status;
}

// An interrupted batch (SIGTERM: kill, timeout, a scheduler's limit) died at once: each fit in
// flight left its out_K.csv.<hex>.tmp behind, unnamed, and nothing said how to go on. It now
// stops its fits, removes their temporaries and says the same command continues (exit 143).
TEST(Batch, InterruptedBatchSaysHowToContinueAndLeavesNoTemporaries) {
  const auto d = fresh_dir("interrupted");
  std::ofstream(d / "fits.txt") << kEight << ".stan " << kEight << ".data.json\n"
                                << kEight << ".stan " << kEight << ".data.json\n";
  const std::string cmd = "cd '" + d.string() + "' && (" + kExmc +
                          " batch --manifest fits.txt --output runs --seed 1 --chains 2 --warmup 100 --draws 1000000 "
                          "--jobs 2 > log.txt 2>&1 & P=$!; for i in $(seq 400); do ls runs/item_0002/*.tmp > /dev/null "
                          "2>&1 && break; sleep 0.05; done; sleep 0.3; kill -TERM $P; wait $P; echo $? > rc.txt)";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const auto log = read(d / "log.txt");
  EXPECT_EQ(read(d / "rc.txt"), "143\n") << log;
  EXPECT_NE(log.find("exmc batch: interrupted (SIGTERM): 0 of 2 fits done, recorded in runs/items; the same command "
                     "again continues with the other 2"),
            std::string::npos)
      << log;
  for (const auto& e : fs::recursive_directory_iterator(d))
    EXPECT_NE(e.path().extension(), ".tmp") << e.path() << " left behind";
}

std::string sbc_args(int simulations) {
  return " batch --sbc " + kSbc + ".stan --simulator " + kSbc + ".sim.stan --data " + kSbc +
         ".data.json --simulations " + std::to_string(simulations) +
         " --seed 21 --warmup 200 --draws 200 --bins 5 --output out --heartbeat-timeout 2";
}

// An undisturbed run in one process: the reference for the disturbed ones.
const std::string& reference_ranks() {
  static const std::string ranks = [] {
    const auto d = fresh_dir("sbc_reference");
    EXPECT_EQ(run_in(d, kExmc + sbc_args(20)), 0) << read(d / "log.txt");
    return read(d / "out/ranks.csv");
  }();
  return ranks;
}

// One machine without mpirun: --jobs 3 runs three fits at once in child processes; the ranks are
// those of one-at-a-time, and a killed fit is retried.
TEST(Batch, LocalJobsGiveTheSameRanksAndRetryAKilledFit) {
  const auto d = fresh_dir("sbc_jobs");
  const int rc = run_in(d, "EXMC_BATCH_KILL_FIT=4 " + kExmc + sbc_args(20) + " --jobs 3");
  const auto log = read(d / "log.txt");
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("killed by signal 9"), std::string::npos) << log;
  EXPECT_EQ(read(d / "out/ranks.csv"), reference_ranks());
}

TEST(MpiBatch, SbcSurvivesAKilledFitAndAThrowingFit) {
  REQUIRE_MPI();
  const auto d = fresh_dir("sbc_faults");
  // Simulation 3's first attempt is SIGKILLed half-way through sampling; simulation 6's throws.
  const int rc = run_in(d, "EXMC_BATCH_KILL_FIT=3 EXMC_BATCH_THROW=6 " +
                               mpirun(2, "-x EXMC_BATCH_KILL_FIT -x EXMC_BATCH_THROW") + sbc_args(20));
  const auto log = read(d / "log.txt");
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("killed by signal 9"), std::string::npos) << log;
  EXPECT_NE(log.find("injected failure"), std::string::npos) << log;
  EXPECT_EQ(read(d / "out/ranks.csv"), reference_ranks());
  const auto summary = nlohmann::json::parse(read(d / "out/sbc_summary.json"));
  EXPECT_EQ(summary["simulations"], 20);
  EXPECT_EQ(summary["quantities"].size(), 18u);  // mu, tau, theta_tilde[8], theta[8]
  for (const auto& q : summary["quantities"]) EXPECT_GE(q["p_value"].get<double>(), 0.0);
  EXPECT_GT(summary["min_p_value"].get<double>(), 1e-4) << "ranks far from uniform";
}

TEST(MpiBatch, SbcSurvivesAKilledRankAndResumes) {
  REQUIRE_MPI();
  // With --enable-recovery mpirun lets the others go on: rank 1 dies fitting its 2nd item, the
  // coordinator hears nothing for 2 s and hands that item to another rank.
  const auto d = fresh_dir("sbc_rank_killed");
  const int rc = run_in(d, "EXMC_BATCH_KILL_RANK=1:2 " + mpirun(3, "--enable-recovery -x EXMC_BATCH_KILL_RANK") +
                               sbc_args(20));
  const auto log = read(d / "log.txt");
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("presumed dead"), std::string::npos) << log;
  EXPECT_EQ(read(d / "out/ranks.csv"), reference_ranks());

  // Without it mpirun ends the job; the same command again skips what was recorded.
  const auto r = fresh_dir("sbc_resume");
  EXPECT_NE(run_in(r, "EXMC_BATCH_KILL_RANK=1:2 " + mpirun(2, "-x EXMC_BATCH_KILL_RANK") + sbc_args(20)), 0);
  ASSERT_EQ(run_in(r, mpirun(2) + sbc_args(20)), 0) << read(r / "log.txt");
  EXPECT_NE(read(r / "log.txt").find("done earlier"), std::string::npos);
  EXPECT_EQ(read(r / "out/ranks.csv"), reference_ranks());
}

// Workers beat every 0.5 s whatever --heartbeat-timeout said: under 0.5 s every busy worker was
// presumed dead before its first beat, its item went to rank 0 while it fitted on, the two
// attempts removed each other's temporaries, and the items failed 3 times over ("1 of 3 done"),
// their records giving the fits' start-up banner as the reason. Beats now come 4 per timeout.
TEST(MpiBatch, AHeartbeatTimeoutUnderHalfASecondKeepsBusyWorkersAlive) {
  REQUIRE_MPI();
  const auto d = fresh_dir("short_heartbeat");
  std::ofstream(d / "fits.txt") << kEight << ".stan " << kEight << ".data.json a/fit.csv\n"
                                << kEight << ".stan " << kEight << ".data.json b/fit.csv\n";
  const int rc = run_in(d, mpirun(2) + " batch --manifest fits.txt --output out --seed 1 --warmup 200 --draws 200000 "
                                       "--thin 100 --heartbeat-timeout 0.45");
  const auto log = read(d / "log.txt");
  EXPECT_EQ(rc, 0) << log;
  EXPECT_EQ(log.find("presumed dead"), std::string::npos) << log;
  const auto status = read(d / "out/status.tsv");
  EXPECT_NE(status.find("1\tok\t1\t"), std::string::npos) << status;
  EXPECT_NE(status.find("2\tok\t1\t"), std::string::npos) << status;
}

// A worker that stalls (no heartbeats) while its fit runs on is presumed dead and the item fitted
// again elsewhere: both attempts wrote the same files, each removed the other's temporaries,
// both failed at their rename ("cannot rename a/fit_1.csv.<hex>.tmp", a line the record left
// out) and the item failed. The second attempt now waits for the first (a lock per item), and a
// duplicate still fitting when the item completes is stopped and its temporaries removed.
TEST(MpiBatch, ARankPresumedDeadThatFitsOnDoesNotSpoilItsItem) {
  REQUIRE_MPI();
  const auto d = fresh_dir("stalled_rank");
  std::ofstream(d / "fits.txt") << kEight << ".stan " << kEight << ".data.json a/fit.csv\n";
  const int rc = run_in(d, "EXMC_BATCH_STALL_RANK=1:1:3 " + mpirun(2, "--enable-recovery -x EXMC_BATCH_STALL_RANK") +
                               " batch --manifest fits.txt --output out --seed 1 --warmup 200 --draws 200000 "
                               "--thin 100 --heartbeat-timeout 0.5 --no-coordinator-fits");
  const auto log = read(d / "log.txt");
  EXPECT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("presumed dead"), std::string::npos) << log;
  EXPECT_EQ(log.find("cannot rename"), std::string::npos) << log;
  EXPECT_NE(read(d / "out/status.tsv").find("1\tok\t"), std::string::npos) << read(d / "out/status.tsv");
  for (int c = 1; c <= 4; ++c) EXPECT_TRUE(fs::exists(d / fmt::format("a/fit_{}.csv", c))) << c;
  for (const auto& e : fs::directory_iterator(d / "a"))
    EXPECT_NE(e.path().extension(), ".tmp") << e.path() << " left behind";
}

// A rank presumed dead that speaks again before the end is alive: every rank finalises MPI. All
// of them abandoned it after any presumed death, so mpirun (without --enable-recovery) failed a
// batch that had done all its items: "3 of 3 done", then "rank 0 exiting improperly", exit 1.
TEST(MpiBatch, ARankThatSpokeAgainLetsACompletedBatchExitZero) {
  REQUIRE_MPI();
  const auto d = fresh_dir("spoke_again");
  std::ofstream out(d / "fits.txt");
  for (const char* f : {"a", "b", "c"}) out << kEight << ".stan " << kEight << ".data.json " << f << "/fit.csv\n";
  out.close();
  const int rc = run_in(d, "EXMC_BATCH_STALL_RANK=1:1:1.2 " + mpirun(2, "-x EXMC_BATCH_STALL_RANK") +
                               " batch --manifest fits.txt --output out --seed 1 --warmup 200 --draws 200000 "
                               "--thin 100 --heartbeat-timeout 0.5");
  const auto log = read(d / "log.txt");
  ASSERT_NE(log.find("rank 1 speaks again"), std::string::npos) << log;
  EXPECT_NE(log.find("3 of 3 done, 0 failed"), std::string::npos) << log;
  EXPECT_EQ(rc, 0) << log;
}

// A worker sent SIGTERM alone (its node taken back) killed its fit and went quiet: its item went
// to another rank only after --heartbeat-timeout (20 s by default), counted as a failed attempt,
// and MPI was abandoned at the end. It now hands the item back at once and asks for no more.
TEST(MpiBatch, AnInterruptedWorkerHandsItsItemBackAtOnce) {
  REQUIRE_MPI();
  const auto d = fresh_dir("worker_interrupted");
  std::ofstream out(d / "fits.txt");
  for (const char* f : {"a", "b", "c"}) out << kEight << ".stan " << kEight << ".data.json " << f << "/fit.csv\n";
  out.close();
  const auto t0 = std::chrono::steady_clock::now();
  run_in(d, "EXMC_BATCH_TERM_RANK=1:1 " + mpirun(2, "-x EXMC_BATCH_TERM_RANK") +
                " batch --manifest fits.txt --output out --seed 1 --warmup 200 --draws 200000 --thin 100 "
                "--heartbeat-timeout 60");
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto log = read(d / "log.txt");
  EXPECT_NE(log.find("rank 1 was interrupted: item "), std::string::npos) << log;
  EXPECT_EQ(log.find("presumed dead"), std::string::npos) << log;
  EXPECT_NE(log.find("3 of 3 done, 0 failed"), std::string::npos) << log;
  EXPECT_LT(wall, 40.0) << "waited for the heartbeat timeout\n" << log;
  const auto status = read(d / "out/status.tsv");
  for (const char* line : {"1\tok\t1\t0\t", "2\tok\t1\t0\t", "3\tok\t1\t0\t"})
    EXPECT_NE(status.find(line), std::string::npos) << line << "\n" << status;
}

}  // namespace
