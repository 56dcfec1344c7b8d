// exmc batch run again into the same --output: what its records of completed fits still stand for.
#include <string>

#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

class BatchResumeTest : public CliTest {
 protected:
  // A manifest of two fits of eight schools, each with its own copy of the data (so one can be
  // edited), writing a.csv and b.csv; the batch command over it, into runs/.
  void SetUp() override {
    CliTest::SetUp();
    fs::copy_file(example("eight_schools.stan"), path("es.stan"));
    fs::copy_file(example("eight_schools.data.json"), path("a.json"));
    fs::copy_file(example("eight_schools.data.json"), path("b.json"));
    write("fits.txt", "es.stan a.json a.csv\nes.stan b.json b.csv\n");
  }
  Ran batch() {
    return exmc({"batch", "--manifest", path("fits.txt"), "--output", path("runs"), "--seed", "1", "--chains", "1",
                 "--warmup", "30", "--draws", "20"});
  }
};

// A completed fit whose file was deleted (or moved) afterwards was still counted done: the batch
// said "2 of 2 done", listed the missing file on stdout and exited 0. It is now fitted again,
// saying why, and the file is back.
TEST_F(BatchResumeTest, ACompletedFitWhoseFileIsGoneIsFittedAgain) {
  auto r = batch();
  ASSERT_EQ(r.code, 0) << r.err;
  fs::rename(path("b.csv"), path("b.first"));
  r = batch();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("item 2 was done, but " + path("b.csv") + " is gone: it is fitted again"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("2 fits (1 done earlier)"), std::string::npos) << r.err;
  ASSERT_TRUE(fs::exists(path("b.csv")));
  EXPECT_EQ(data_lines(path("b.csv")), data_lines(path("b.first")));
}

// A data file edited after its fit completed: the batch skipped the fit and reported its old
// draws as done (exit 0), while exmc sample --resume refuses an edited input. Refused now,
// naming the item, the file and how to go on; nothing is fitted or removed.
TEST_F(BatchResumeTest, AnInputEditedAfterItsFitCompletedIsRefusedNamingIt) {
  auto r = batch();
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string before = slurp(path("b.csv"));
  std::string data = slurp(path("b.json"));
  data.replace(data.find("28"), 2, "29");
  write("b.json", data);
  r = batch();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("exmc batch: error: item 2: its data file " + path("b.json") +
                       " changed since it was fitted"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(path("runs/items/item_0002.json")), std::string::npos) << r.err;
  EXPECT_EQ(slurp(path("b.csv")), before);
  EXPECT_TRUE(r.out.empty()) << r.out;
}

}  // namespace
}  // namespace exmc::cli
