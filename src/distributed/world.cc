// World over MPI when the build has it (EXMC_HAVE_MPI), a world of one otherwise. The MPI calls
// are the MPI module's (libexmc_mpi.so, mpi_module.hpp), loaded only when a launcher started
// more than one rank: a plain run neither initialises nor loads OpenMPI.
#include "exmc/distributed/world.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <stdexcept>

#ifdef EXMC_HAVE_MPI
#include <dlfcn.h>

#include "mpi_module.hpp"
#endif

namespace exmc::distributed {

bool built_with_mpi() {
#ifdef EXMC_HAVE_MPI
  return true;
#else
  return false;
#endif
}

int launcher_world_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(var)) {
      const int n = std::atoi(v);
      if (n > 0) return n;
    }
  return 1;
}

#ifdef EXMC_HAVE_MPI
namespace {
// The module's calls; loaded once, never unloaded. RTLD_GLOBAL: OpenMPI's own plugins, which it
// loads at MPI_Init, look for libmpi's symbols in the global scope.
const ExmcMpiOps& ops() {
  static const ExmcMpiOps* table = [] {
    void* h = dlopen(EXMC_MPI_MODULE, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
      const char* e = dlerror();
      throw std::runtime_error(std::string("cannot load the MPI module ") + EXMC_MPI_MODULE + ": " + (e ? e : "?"));
    }
    auto fn = reinterpret_cast<ExmcMpiOpsFn>(dlsym(h, "exmc_mpi_ops"));
    if (!fn) throw std::runtime_error(std::string("the MPI module ") + EXMC_MPI_MODULE + " lacks its entry point");
    return fn();
  }();
  return *table;
}

// Finalises MPI at exit (after main returns), when it was initialised here.
struct Finalizer {
  bool active = false;
  ~Finalizer() {
    if (active) ops().finalize();
  }
};
Finalizer& finalizer() {
  static Finalizer f;
  return f;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}
}  // namespace
#endif

World& World::get() {
  static World* world = [] {
    auto* w = new World();
    if (launcher_world_size() <= 1) return w;
#ifdef EXMC_HAVE_MPI
    auto& fin = finalizer();
    int here = 0;
    // Errors come back as return codes (turned into exceptions), not an abort of the job.
    const int rc = ops().init(&w->rank_, &w->size_, &here);
    fin.active = here != 0;
    check(rc, "MPI_Init_thread");
#else
    throw std::runtime_error(
        "started by an MPI launcher with " + std::to_string(launcher_world_size()) +
        " ranks, but this exmc was built without MPI (install libopenmpi-dev and reconfigure)");
#endif
    return w;
  }();
  return *world;
}

void World::broadcast(std::string& value, int root) {
  if (size_ <= 1) return;
#ifdef EXMC_HAVE_MPI
  uint64_t n = value.size();
  broadcast(n, root);
  value.resize(n);
  check(ops().broadcast(value.data(), static_cast<int64_t>(n), root), "MPI_Bcast");
#endif
}

void World::broadcast(uint64_t& value, int root) {
  if (size_ <= 1) return;
#ifdef EXMC_HAVE_MPI
  check(ops().broadcast(&value, sizeof value, root), "MPI_Bcast");
#endif
}

void World::send(int dest, int tag, const std::string& payload) {
#ifdef EXMC_HAVE_MPI
  if (size_ > 1) {
    check(ops().send(payload.data(), static_cast<int64_t>(payload.size()), dest, tag), "MPI_Send");
    return;
  }
#endif
  (void)dest, (void)tag, (void)payload;
  throw std::logic_error("World::send in a world of one rank");
}

std::optional<Message> World::poll() {
  if (size_ <= 1) return std::nullopt;
#ifdef EXMC_HAVE_MPI
  int found = 0;
  Message m;
  int64_t n = 0;
  check(ops().probe(&found, &m.source, &m.tag, &n), "MPI_Iprobe");
  if (!found) return std::nullopt;
  m.payload.assign(static_cast<size_t>(n), '\0');
  check(ops().receive(m.payload.data(), n, m.source, m.tag), "MPI_Recv");
  return m;
#else
  return std::nullopt;
#endif
}

void World::abandon() {
#ifdef EXMC_HAVE_MPI
  finalizer().active = false;
#endif
}

int World::max_to_root(int value) {
  if (size_ <= 1) return value;
  constexpr int kTag = 900;
  if (rank_ != 0) {
    send(0, kTag, std::to_string(value));
    return value;
  }
  int worst = value;
  for (int heard = 1; heard < size_;) {
    if (auto m = poll()) {
      if (m->tag != kTag) throw std::runtime_error("unexpected message while gathering statuses");
      worst = std::max(worst, std::stoi(m->payload));
      ++heard;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return worst;
}

}  // namespace exmc::distributed
