// libexmc_mpi.so: World's MPI calls (mpi_module.hpp), loaded by world.cc only in a process an MPI
// launcher started with more than one rank.
#include "mpi_module.hpp"

#include <mpi.h>

namespace {

int init(int* rank, int* size, int* initialized_here) {
  *initialized_here = 0;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if (const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided); rc != MPI_SUCCESS) return rc;
    *initialized_here = 1;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (const int rc = MPI_Comm_rank(MPI_COMM_WORLD, rank); rc != MPI_SUCCESS) return rc;
  return MPI_Comm_size(MPI_COMM_WORLD, size);
}

int broadcast(void* bytes, int64_t n, int root) {
  return MPI_Bcast(bytes, static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD);
}

int send(const void* bytes, int64_t n, int dest, int tag) {
  return MPI_Send(bytes, static_cast<int>(n), MPI_BYTE, dest, tag, MPI_COMM_WORLD);
}

int probe(int* found, int* source, int* tag, int64_t* n) {
  MPI_Status st;
  if (const int rc = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, found, &st); rc != MPI_SUCCESS) return rc;
  if (!*found) return MPI_SUCCESS;
  int count = 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  *source = st.MPI_SOURCE;
  *tag = st.MPI_TAG;
  *n = count;
  return MPI_SUCCESS;
}

int receive(void* bytes, int64_t n, int source, int tag) {
  return MPI_Recv(bytes, static_cast<int>(n), MPI_BYTE, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

void finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

constexpr ExmcMpiOps kOps{&init, &broadcast, &send, &probe, &receive, &finalize};

}  // namespace

extern "C" __attribute__((visibility("default"))) const ExmcMpiOps* exmc_mpi_ops() { return &kOps; }
