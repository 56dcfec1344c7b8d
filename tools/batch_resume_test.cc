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

// The same fit listed twice (the same model, data and seed) ran twice and gave identical draws
// without a word, where a user listing it twice most likely wanted replicates. Warned of, naming
// both items; items with seeds of their own are not.
TEST_F(BatchResumeTest, TheSameFitListedTwiceIsWarnedOf) {
  write("twice.txt", "es.stan a.json x.csv\nes.stan b.json y.csv\n./es.stan a.json z.csv\n");
  auto r = exmc({"batch", "--manifest", path("twice.txt"), "--output", path("twice"), "--seed", "7", "--chains", "1",
                 "--warmup", "30", "--draws", "20"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: items 1 and 3 are the same fit (model " + path("es.stan") + ", data " +
                       path("a.json") + ", seed 7): their draws will be identical"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("items 1 and 2"), std::string::npos) << r.err;
  EXPECT_EQ(data_lines(path("x.csv")), data_lines(path("z.csv")));  // what it warns of
  write("seeds.json", R"([{"model": "es.stan", "data": "a.json", "output": "s1.csv", "seed": 1},
                          {"model": "es.stan", "data": "a.json", "output": "s2.csv", "seed": 2}])");
  r = exmc({"batch", "--manifest", path("seeds.json"), "--output", path("seeds"), "--seed", "7", "--chains", "1",
            "--warmup", "30", "--draws", "20"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("same fit"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace exmc::cli
