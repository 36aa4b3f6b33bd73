// The data-parallel communicator: rank, world size and the collectives training needs (all-reduce of float/double
// buffers, broadcast, barrier) over host memory. Single-process (world 1: every call does nothing), MPI and NCCL
// implementations; connect() picks one from how the process was launched.
#pragma once
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "dist/launch_env.h"

namespace tune::dist {

enum class ReduceOp { Sum, Mean };

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual int local_rank() const = 0;
  virtual int local_world_size() const = 0;
  virtual const char* backend() const = 0;  // "single", "mpi", "nccl"
  bool is_main() const { return rank() == 0; }

  // Element-wise reduction across all ranks, in place. Deterministic: element i is the sum over ranks in rank order
  // (0, 1, ..., world-1) accumulated in double and rounded once to the buffer's type (Mean: then divided by the world
  // size), so every rank gets the same bits, run after run. Every rank must pass the same number of elements.
  virtual void all_reduce(std::span<double> data, ReduceOp op) = 0;
  virtual void all_reduce(std::span<float> data, ReduceOp op) = 0;

  // Copies root's bytes into every other rank's buffer (same size on every rank).
  virtual void broadcast(std::span<std::byte> data, int root) = 0;

  // Returns once every rank has called it.
  virtual void barrier() = 0;

  // Ends every rank of the job now with `exit_code` (MPI_Abort). Never returns.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// A scalar all-reduce: the sum (or mean) of `value` over the ranks, in rank order.
double all_reduce_scalar(Communicator& comm, double value, ReduceOp op);

// The world-1 communicator: rank 0 of 1; collectives leave the buffers as they are.
std::unique_ptr<Communicator> single_process();

// The communicator for how this process was launched (read_launch_env()):
// - alone, or WORLD_SIZE=1: single_process();
// - by mpirun (OMPI_COMM_WORLD_SIZE or PMI_SIZE set): MPI (MPI_Init; MPI_Finalize when it is destroyed), or NCCL
//   bootstrapped over MPI when `device` is "cuda" and the build has NCCL; a tune::Error when the build has no MPI;
// - by torchrun-style variables with WORLD_SIZE > 1: NCCL when `device` is "cuda" and the build has NCCL (rank 0
//   serves the NCCL id on MASTER_ADDR:MASTER_PORT); on the CPU a tune::Error saying to use mpirun (MPI processes
//   started on their own are singletons that cannot find each other).
// timeout_s bounds every wait in a collective (ddp_timeout): a rank that waits longer prints which collective and
// aborts the job, so a stuck or vanished peer never hangs it.
std::unique_ptr<Communicator> connect(const LaunchEnv& env, const std::string& device, int timeout_s);

// Whether this build has the MPI / NCCL backends.
bool have_mpi();
bool have_nccl();

}  // namespace tune::dist
