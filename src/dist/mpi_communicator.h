// The MPI communicator (built when CMake finds MPI): collectives as non-blocking MPI calls waited on with a
// deadline, so a peer that is stuck or gone ends the job instead of hanging it.
#pragma once
#include <memory>

#include "dist/communicator.h"

namespace tune::dist {

// Calls MPI_Init (the job must have been started by mpirun) and checks that MPI's world matches `env`.
std::unique_ptr<Communicator> mpi_communicator(const LaunchEnv& env, int timeout_s);

}  // namespace tune::dist
