// World over MPI when the build has it (EXMC_HAVE_MPI), a world of one otherwise.
#include "exmc/distributed/world.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <stdexcept>

#ifdef EXMC_HAVE_MPI
#include <mpi.h>
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
// Finalises MPI at exit (after main returns), when it was initialised here.
struct Finalizer {
  bool active = false;
  ~Finalizer() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (active && !finalized) MPI_Finalize();
  }
};
Finalizer& finalizer() {
  static Finalizer f;
  return f;
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}
}  // namespace
#endif

World& World::get() {
  static World* world = [] {
    auto* w = new World();
    if (launcher_world_size() <= 1) return w;
#ifdef EXMC_HAVE_MPI
    auto& fin = finalizer();
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      fin.active = true;
    }
    // Errors come back as return codes (turned into exceptions), not an abort of the job.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &w->rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &w->size_);
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
  check(MPI_Bcast(value.data(), static_cast<int>(n), MPI_CHAR, root, MPI_COMM_WORLD), "MPI_Bcast");
#endif
}

void World::broadcast(uint64_t& value, int root) {
  if (size_ <= 1) return;
#ifdef EXMC_HAVE_MPI
  check(MPI_Bcast(&value, 1, MPI_UINT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
#endif
}

void World::send(int dest, int tag, const std::string& payload) {
#ifdef EXMC_HAVE_MPI
  if (size_ > 1) {
    check(MPI_Send(payload.data(), static_cast<int>(payload.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD),
          "MPI_Send");
    return;
  }
#endif
  (void)dest, (void)tag, (void)payload;
  throw std::logic_error("World::send in a world of one rank");
}

std::optional<Message> World::poll() {
  if (size_ <= 1) return std::nullopt;
#ifdef EXMC_HAVE_MPI
  int flag = 0;
  MPI_Status st;
  check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  int count = 0;
  MPI_Get_count(&st, MPI_CHAR, &count);
  Message m{st.MPI_SOURCE, st.MPI_TAG, std::string(static_cast<size_t>(count), '\0')};
  check(MPI_Recv(m.payload.data(), count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
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
