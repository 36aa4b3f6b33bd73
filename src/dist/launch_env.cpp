// Reading mpirun's and torchrun's environment variables (see launch_env.h).
#include "dist/launch_env.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/error.h"

namespace tune::dist {

namespace {

// The integer value of environment variable `name`, or nullopt when it is unset or empty.
std::optional<int> env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  TUNE_CHECK(*end == '\0' && x >= 0 && x <= 1 << 20, "environment variable ", name, "='", v,
             "' is not a non-negative integer; unset it or fix the launcher");
  return static_cast<int>(x);
}

std::string env_str(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void check_rank(int rank, int world, const char* rank_var, const char* world_var) {
  TUNE_CHECK(world >= 1, world_var, " must be >= 1, got ", world);
  TUNE_CHECK(rank < world, rank_var, "=", rank, " is not below ", world_var, "=", world, "; fix the launcher");
}

}  // namespace

LaunchEnv read_launch_env() {
  LaunchEnv e;
  if (auto world = env_int("OMPI_COMM_WORLD_SIZE")) {  // OpenMPI's mpirun
    e.launcher = Launcher::Mpirun;
    e.world_size = *world;
    e.rank = env_int("OMPI_COMM_WORLD_RANK").value_or(0);
    e.local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK").value_or(0);
    e.local_world_size = env_int("OMPI_COMM_WORLD_LOCAL_SIZE").value_or(1);
    check_rank(e.rank, e.world_size, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE");
    return e;
  }
  if (auto world = env_int("PMI_SIZE")) {  // MPICH's and Slurm's PMI launchers
    e.launcher = Launcher::Mpirun;
    e.world_size = *world;
    e.rank = env_int("PMI_RANK").value_or(0);
    e.local_world_size = env_int("MPI_LOCALNRANKS").value_or(1);
    e.local_rank = env_int("MPI_LOCALRANKID").value_or(0);
    check_rank(e.rank, e.world_size, "PMI_RANK", "PMI_SIZE");
    return e;
  }
  if (auto world = env_int("WORLD_SIZE")) {  // torchrun / accelerate launch style
    e.launcher = Launcher::EnvVars;
    e.world_size = *world;
    e.rank = env_int("RANK").value_or(0);
    e.local_rank = env_int("LOCAL_RANK").value_or(e.rank);
    e.local_world_size = env_int("LOCAL_WORLD_SIZE").value_or(e.world_size);
    e.master_addr = env_str("MASTER_ADDR");
    e.master_port = env_int("MASTER_PORT").value_or(0);
    check_rank(e.rank, e.world_size, "RANK", "WORLD_SIZE");
    if (e.world_size > 1) {
      TUNE_CHECK(!e.master_addr.empty(), "WORLD_SIZE=", e.world_size, " is set but MASTER_ADDR is not; set it to ",
                 "rank 0's host (e.g. MASTER_ADDR=127.0.0.1)");
      TUNE_CHECK(e.master_port >= 1 && e.master_port <= 65535, "MASTER_PORT must be a port in 1..65535 when ",
                 "WORLD_SIZE > 1, got '", env_str("MASTER_PORT"), "'");
    }
    return e;
  }
  return e;
}

int local_world_size() {
  if (auto n = env_int("OMPI_COMM_WORLD_LOCAL_SIZE")) return std::max(*n, 1);
  if (auto n = env_int("MPI_LOCALNRANKS")) return std::max(*n, 1);
  if (auto n = env_int("LOCAL_WORLD_SIZE")) return std::max(*n, 1);
  return 1;
}

}  // namespace tune::dist
