// The MPI calls World makes, as a table of C functions that the MPI module (mpi_module.cc,
// built as libexmc_mpi.so) fills. The module is what links OpenMPI: a process loads OpenMPI
// (~6 ms of dynamic linking at every start when the command links it) only when a launcher
// started it with more than one rank. Each call returns MPI's error code (MPI_SUCCESS is 0).
#pragma once

#include <cstdint>

extern "C" {

struct ExmcMpiOps {
  // MPI_Init_thread (thread level "funneled") unless MPI is initialised already; errors are
  // returned from here on, not an abort of the job. *initialized_here says whether it ran.
  int (*init)(int* rank, int* size, int* initialized_here);
  int (*broadcast)(void* bytes, int64_t n, int root);
  int (*send)(const void* bytes, int64_t n, int dest, int tag);
  // A waiting message's source, tag and size in bytes (*found = 0: none), without blocking.
  int (*probe)(int* found, int* source, int* tag, int64_t* n);
  int (*receive)(void* bytes, int64_t n, int source, int tag);
  // MPI_Finalize unless MPI is finalised already.
  void (*finalize)();
};

// The module's one entry point.
using ExmcMpiOpsFn = const ExmcMpiOps* (*)();
const ExmcMpiOps* exmc_mpi_ops();
}
