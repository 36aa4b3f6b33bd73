// The NCCL communicator (built with the CUDA backend when nccl.h is found; libnccl is loaded at run time, so tune runs
// without it until NCCL is asked for): one GPU per rank (LOCAL_RANK), host buffers staged through the device.
#pragma once
#include <memory>

#include "dist/communicator.h"

namespace tune::dist {

// Rank 0 creates the NCCL id and hands it to the others through `bootstrap` (MPI under mpirun) or, when bootstrap is
// null, over TCP at MASTER_ADDR:MASTER_PORT (dist/tcp_bootstrap.h); the bootstrap communicator is kept for the
// communicator's lifetime. Selects GPU env.local_rank. A missing libnccl, too few GPUs or an NCCL error is a
// tune::Error; a collective that waits past timeout_s aborts the NCCL communicator and ends this process (exit 3).
std::unique_ptr<Communicator> nccl_communicator(const LaunchEnv& env, int timeout_s,
                                                std::unique_ptr<Communicator> bootstrap);

}  // namespace tune::dist
