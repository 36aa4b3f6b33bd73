// How this process was launched for data parallelism: by mpirun (OpenMPI's OMPI_COMM_WORLD_* variables, or PMI's),
// torchrun-style (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), or alone.
#pragma once
#include <string>

namespace tune::dist {

enum class Launcher { Alone, Mpirun, EnvVars };

struct LaunchEnv {
  Launcher launcher = Launcher::Alone;
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;        // rank among the processes on this machine
  int local_world_size = 1;  // processes on this machine (each should use cores / local_world_size threads)
  std::string master_addr;   // EnvVars only: where rank 0 listens for the NCCL bootstrap
  int master_port = 0;
};

// Reads the environment. Malformed or inconsistent values (RANK >= WORLD_SIZE, a non-number, a port outside
// 1..65535) are a tune::Error naming the variable.
LaunchEnv read_launch_env();

// Processes of this job on this machine (OMPI_COMM_WORLD_LOCAL_SIZE, else LOCAL_WORLD_SIZE, else 1), readable
// before any communicator exists: the thread policy divides the cores by it.
int local_world_size();

}  // namespace tune::dist
