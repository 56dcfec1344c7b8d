// The ranks a command was started as by an MPI launcher (`mpirun -n K exmc ...`), or a world of
// one: a plain run, or a build without MPI. MPI is initialised only when the launcher's
// environment says there is more than one rank, so a plain run never loads it (the MPI calls are
// a module of their own, libexmc_mpi.so, loaded then).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace exmc::distributed {

// Whether this build has MPI (Debian's libopenmpi-dev found at configure time).
bool built_with_mpi();

// The world size an MPI launcher announced in the environment (OpenMPI's OMPI_COMM_WORLD_SIZE,
// MPICH/Hydra's PMI_SIZE); 1 when there is none.
int launcher_world_size();

struct Message {
  int source = 0;
  int tag = 0;
  std::string payload;
};

class World {
 public:
  // The process's world. The first call initialises MPI (thread level "funneled": only the
  // thread that called it uses MPI) when launcher_world_size() > 1; throws std::runtime_error
  // when this build has no MPI then, since K copies each running the whole job would write the
  // same files K times. MPI is finalised when the process exits.
  static World& get();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }

  // Rank `root`'s value, on every rank (collective: every rank calls it).
  void broadcast(std::string& value, int root = 0);
  void broadcast(uint64_t& value, int root = 0);

  // Point to point, tagged text. send() returns when the payload may be reused (small
  // messages go eagerly: a dead receiver does not block it). poll() returns a waiting message
  // from any rank, or nothing, without blocking (the callers sleep between polls, so waiting
  // ranks leave the cores to the ones that compute).
  void send(int dest, int tag, const std::string& payload);
  std::optional<Message> poll();

  // The largest `value` of all ranks, on rank 0 (others get their own). Every rank calls it;
  // rank 0 waits by polling and sleeping rather than in a spinning collective. No other
  // messages may be in flight.
  int max_to_root(int value);

  // Exit without MPI_Finalize: after a rank died, OpenMPI's finalize can wait for it forever
  // (mpirun --enable-recovery), so every surviving rank leaves without it.
  void abandon();

 private:
  World() = default;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace exmc::distributed
