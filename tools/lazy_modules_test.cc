// The command loads what a run uses and nothing else: LLVM (libexmc_jit.so) only to compile a
// model, cpp-httplib and OpenSSL (libexmc_http.so) only for --serve, OpenMPI (libexmc_mpi.so)
// only under a launcher's several ranks (mpi_test.cc). Linking them cost every process ~20 ms
// at start. The dynamic loader says what it loads (LD_DEBUG=files); these read that.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli_test_support.hpp"

namespace exmc::cli {
namespace {

// The loader's account of the files `exmc args` loaded (stdout and the command's stderr go with it).
std::string loaded_by(const std::string& args) {
  const std::string cmd = "LD_DEBUG=files " + std::string(EXMC_BINARY_DIR) + "/exmc " + args + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int rc = pclose(p);
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd << "\n" << out;
  return out;
}

bool loads(const std::string& log, const std::string& file) { return log.find("file=" + file) != std::string::npos ||
                                                                       log.find("/" + file + " [") != std::string::npos; }

TEST_F(CliTest, ARunLoadsOnlyTheModulesItUses) {
  const std::string stem = path("out");
  const std::string sample = "sample " + example("eight_schools.stan") + " --data " + example("eight_schools.data.json") +
                             " --chains 1 --warmup 20 --draws 20 --seed 1 --no-progress --output " + stem + ".csv";
  const std::string plain = loaded_by(sample);
  ASSERT_NE(plain.find("file="), std::string::npos) << "LD_DEBUG said nothing:\n" << plain;
  EXPECT_FALSE(loads(plain, "libmpi.so")) << plain;
  EXPECT_FALSE(loads(plain, "libexmc_mpi.so"));
  EXPECT_FALSE(loads(plain, "libcpp-httplib.so"));
  EXPECT_FALSE(loads(plain, "libssl.so"));
  EXPECT_FALSE(loads(plain, "libexmc_http.so"));

  const std::string summary = loaded_by("summary " + stem + ".csv");
  EXPECT_FALSE(loads(summary, "libexmc_jit.so")) << summary;
  EXPECT_FALSE(loads(summary, "libexmc_http.so"));

  // What --serve needs comes with it (a build with the dashboard and the JIT: CI's).
  const char* ci = std::getenv("CI");
  const bool strict = ci && std::string(ci) == "true";
  const std::string served = loaded_by(sample + " --serve 0");
  if (strict || served.find("built without the dashboard") == std::string::npos)
    EXPECT_TRUE(loads(served, "libexmc_http.so")) << served;
  if (strict || plain.find("machine code") != std::string::npos) EXPECT_TRUE(loads(plain, "libexmc_jit.so")) << plain;
}

// "-" is standard input for the commands that read CSV files, as for cat and stansummary: a
// pipe summarises as the file does ("File does not exist: -" before).
TEST_F(CliTest, SummaryDiagnoseAndLooReadStandardInputAsDash) {
  const std::string stem = path("one");
  const std::string bin = std::string(EXMC_BINARY_DIR) + "/exmc ";
  ASSERT_EQ(std::system((bin + "sample " + example("eight_schools.stan") + " --data " + example("eight_schools.data.json") +
                         " --chains 1 --warmup 100 --draws 100 --seed 1 --no-progress --output " + stem +
                         ".csv > /dev/null 2>&1").c_str()), 0);
  auto output_of = [](const std::string& cmd) {
    std::string out;
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
    return out;
  };
  for (const std::string cmd : {"summary", "diagnose", "loo --log-lik theta"}) {
    const std::string from_file = output_of(bin + cmd + " " + stem + ".csv");
    const std::string from_pipe = output_of("cat " + stem + ".csv | " + bin + cmd + " -");
    EXPECT_FALSE(from_file.empty()) << cmd;
    EXPECT_EQ(from_pipe, from_file) << cmd;
  }
}

}  // namespace
}  // namespace exmc::cli
