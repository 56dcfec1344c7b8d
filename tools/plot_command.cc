// exmc plot: the plots of the Python package (python3 -m exmc plot ...), so the command line has
// the same trace, rank, pair, forest, energy and autocorrelation plots as the module.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
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
  if (const char* given = std::getenv("EXMC_PYTHON_DIR"); given && *given) return given;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto dir = exe.parent_path() / "python";
    if (std::filesystem::exists(dir / "exmc" / "__main__.py")) return dir.string();
  }
  return EXMC_PYTHON_DIR;
}

// What is missing for `python3 -m exmc` to run from `dir`: the package's files and its compiled
// module are built by the _exmc target, which `bash scripts/example` (the exmc target) does not
// build; Python's "No module named exmc" said nothing of that.
std::string missing_package(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / "exmc" / "__main__.py", ec)) return "its files";
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "exmc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("_exmc", 0) == 0 && e.path().extension() == ".so") return "";
  }
  return "its compiled module (_exmc*.so)";
}

std::atomic<pid_t> g_plot_child{0};
std::atomic<int> g_plot_signal{0};
extern "C" void forward_to_plot_child(int sig) {
  g_plot_signal.store(sig);
  if (const pid_t child = g_plot_child.load(); child > 0) ::kill(child, sig);
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
  if (const std::string missing = missing_package(dir); !missing.empty()) {
    err << "exmc plot: error: the plots are the Python package's, and " << dir << "/exmc lacks " << missing
        << ": build it with `cmake --build build --target _exmc` (bash scripts/test builds it too)\n";
    return 1;
  }
  const char* old = std::getenv("PYTHONPATH");
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "PYTHONPATH=", 11) != 0) env_s.emplace_back(*e);
  env_s.push_back("PYTHONPATH=" + dir + (old && *old ? ":" + std::string(old) : ""));
  // This process says "interrupted" itself: the interpreter only cleans up and exits.
  env_s.push_back("EXMC_PLOT_FROM_COMMAND=1");
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  // SIGINT and SIGTERM are passed on to the interpreter: sent to this process alone (kill PID, a
  // scheduler), they ended it and left Python running, to write the image after the caller had
  // seen the command end. Blocked until the child's pid is known, so none is lost in between;
  // the child starts with them unblocked and at their default action.
  sigset_t interrupts, previous;
  sigemptyset(&interrupts);
  sigaddset(&interrupts, SIGINT);
  sigaddset(&interrupts, SIGTERM);
  sigprocmask(SIG_BLOCK, &interrupts, &previous);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setsigmask(&attr, &previous);
  posix_spawnattr_setsigdefault(&attr, &interrupts);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, python.c_str(), nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    err << "exmc plot: error: cannot run " << python << ": " << std::strerror(rc)
        << " (the plots need Python 3 with numpy, xarray and matplotlib: scripts/setup installs them)\n";
    return 1;
  }
  g_plot_child.store(pid);
  g_plot_signal.store(0);
  struct sigaction forward {}, old_int {}, old_term {};
  forward.sa_handler = forward_to_plot_child;
  sigemptyset(&forward.sa_mask);
  sigaction(SIGINT, &forward, &old_int);
  sigaction(SIGTERM, &forward, &old_term);
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  int status = 0;
  pid_t got;
  while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  g_plot_child.store(0);
  if (got < 0) return 1;
  if (const int sig = g_plot_signal.load()) {
    err << "exmc plot: interrupted (" << (sig == SIGTERM ? "SIGTERM" : "Ctrl-C") << ")\n";
    return 128 + sig;  // as the other commands: 130 for Ctrl-C, 143 for SIGTERM
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace exmc::cli
