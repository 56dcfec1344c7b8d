// exmc plot: the plots of the Python package (python3 -m exmc plot ...), so the command line has
// the same trace, rank, pair, forest, energy and autocorrelation plots as the module.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "cli.hpp"

extern char** environ;

namespace exmc::cli {
namespace {

// The package beside this build: <build>/python (the exmc binary lives in <build>).
std::string python_package_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto dir = exe.parent_path() / "python";
    if (std::filesystem::exists(dir / "exmc" / "__main__.py")) return dir.string();
  }
  return EXMC_PYTHON_DIR;
}

}  // namespace

int plot(const std::vector<std::string>& args, std::ostream& err) {
  // Debian's interpreter has the packages the plots need (a pyenv python first on PATH may not).
  const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  std::vector<std::string> argv_s = {python, "-m", "exmc", "plot"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  const std::string dir = python_package_dir();
  const char* old = std::getenv("PYTHONPATH");
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "PYTHONPATH=", 11) != 0) env_s.emplace_back(*e);
  env_s.push_back("PYTHONPATH=" + dir + (old && *old ? ":" + std::string(old) : ""));
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), envp.data());
  if (rc != 0) {
    err << "exmc plot: error: cannot run " << python << ": " << std::strerror(rc)
        << " (the plots need Python 3 with numpy, xarray and matplotlib: scripts/setup installs them)\n";
    return 1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace exmc::cli
