// The torchrun-style rendezvous for NCCL: rank 0 listens on MASTER_ADDR:MASTER_PORT and hands the same bytes (the
// NCCL unique id) to every other rank, which connects with retries. Loopback or the job's own hosts only.
#pragma once
#include <cstddef>
#include <span>

#include "dist/launch_env.h"

namespace tune::dist {

// Rank 0: sends `bytes` to each of the world_size - 1 other ranks; others: fill `bytes` from rank 0. Every rank
// passes the same size. Not connecting, or not being connected to, within timeout_s is a tune::Error that names
// MASTER_ADDR:MASTER_PORT.
void tcp_broadcast_from_rank0(const LaunchEnv& env, std::span<std::byte> bytes, int timeout_s);

}  // namespace tune::dist
