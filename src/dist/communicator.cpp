// The single-process communicator and the choice of backend from the launch environment (see communicator.h).
#include "dist/communicator.h"

#include <cstdlib>

#include "core/error.h"
#ifdef TUNE_HAVE_MPI
#include "dist/mpi_communicator.h"
#endif
#ifdef TUNE_HAVE_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace tune::dist {

namespace {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_world_size() const override { return 1; }
  const char* backend() const override { return "single"; }
  void all_reduce(std::span<double>, ReduceOp) override {}
  void all_reduce(std::span<float>, ReduceOp) override {}
  void broadcast(std::span<std::byte>, int root) override {
    TUNE_CHECK(root == 0, "broadcast: root ", root, " is not a rank of a single process");
  }
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override { std::exit(exit_code); }
};

}  // namespace

double all_reduce_scalar(Communicator& comm, double value, ReduceOp op) {
  comm.all_reduce(std::span<double>(&value, 1), op);
  return value;
}

std::unique_ptr<Communicator> single_process() { return std::make_unique<SingleProcess>(); }

bool have_mpi() {
#ifdef TUNE_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool have_nccl() {
#ifdef TUNE_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> connect(const LaunchEnv& env, const std::string& device, int timeout_s) {
  TUNE_CHECK(timeout_s >= 1, "ddp_timeout must be >= 1 second, got ", timeout_s);
  if (env.launcher == Launcher::Mpirun) {
#ifdef TUNE_HAVE_MPI
    if (env.world_size == 1) return single_process();
#ifdef TUNE_HAVE_NCCL
    if (device == "cuda") return nccl_communicator(env, timeout_s, mpi_communicator(env, timeout_s));
#endif
    return mpi_communicator(env, timeout_s);
#else
    if (env.world_size == 1) return single_process();
    fail("tune was started by mpirun with ", env.world_size, " processes, but this build has no MPI; install ",
         "libopenmpi-dev (scripts/setup.sh does) and rebuild");
#endif
  }
  if (env.launcher == Launcher::EnvVars && env.world_size > 1) {
    if (device == "cuda") {
#ifdef TUNE_HAVE_NCCL
      return nccl_communicator(env, timeout_s, nullptr);
#else
      fail("WORLD_SIZE=", env.world_size, " with device: cuda needs NCCL, which this build lacks; build with the ",
           "CUDA toolkit's NCCL (nccl.h, libnccl) or launch CPU processes with mpirun -np ", env.world_size);
#endif
    }
    fail("WORLD_SIZE=", env.world_size, " is set but tune was not started by mpirun: on the CPU, data-parallel ",
         "processes find each other through MPI, so launch them with 'mpirun -np ", env.world_size,
         " tune train CONFIG' (the RANK/WORLD_SIZE/MASTER_ADDR form is for device: cuda over NCCL)");
  }
  return single_process();
}

}  // namespace tune::dist
