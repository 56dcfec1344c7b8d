// Temporaries are locked from the moment their name appears, so that another process can tell
// one a live writer holds from one a dead (kill -9) or finished writer left.
#include "exmc/io/temporaries.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "exmc/io/cmdstan_csv_writer.hpp"

namespace exmc::io {
namespace {

namespace fs = std::filesystem;

class TemporariesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("exmc_temporaries_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string& f) const { return (dir / f).string(); }
  fs::path dir;
};

constexpr int kFlags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC;

TEST_F(TemporariesTest, AnExistingNameIsNotTakenOver) {
  const auto p = path("a.csv.0000000000000001.tmp");
  std::ofstream(p) << "someone's\n";
  errno = 0;
  EXPECT_EQ(create_tracked_temporary(p, kFlags, 0644), -1);
  EXPECT_EQ(errno, EEXIST);
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "someone's");
}

// Held by a process that is then killed with SIGKILL (no handler, no close of its own): left
// while it lives, removable once it is dead.
TEST_F(TemporariesTest, OneAKilledProcessHeldIsAbandonedAndOneALiveProcessHoldsIsNot) {
  const auto p = path("a.csv.0000000000000002.tmp");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = create_tracked_temporary(p, kFlags, 0644);
    const char ok = fd >= 0 ? 1 : 0;
    (void)!::write(ready[1], &ok, 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(ok, 1);
  EXPECT_FALSE(remove_if_abandoned(p));
  EXPECT_TRUE(fs::exists(p));
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(remove_if_abandoned(p));
  EXPECT_FALSE(fs::exists(p));
  EXPECT_FALSE(remove_if_abandoned(p));  // gone: nothing to remove
}

// A writer of this process holds its temporary while it writes; closed as incomplete (an
// interrupted run keeps its draws), the temporary is no writer's any more.
TEST_F(TemporariesTest, AWritersTemporaryIsHeldUntilItIsClosed) {
  CmdStanCsvHeader h;
  CmdStanCsvWriter w(path("b.csv"), h, {"lp__"}, {"x"});
  EXPECT_FALSE(remove_if_abandoned(w.temp_path()));
  EXPECT_TRUE(fs::exists(w.temp_path()));
  w.close_incomplete();
  EXPECT_TRUE(remove_if_abandoned(w.temp_path()));
  EXPECT_FALSE(fs::exists(w.temp_path()));
}

}  // namespace
}  // namespace exmc::io
