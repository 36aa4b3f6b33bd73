// The communicator's all-reduce cost: run under `mpirun -np N build/dist_allreduce [VALUES] [ITERS]`; after a barrier
// every rank all-reduces VALUES doubles (default 176385: the bench model's LoRA + value-head gradient) ITERS times,
// and rank 0 prints one JSON line with the mean time per all-reduce and per barrier.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "dist/communicator.h"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  try {
    const long values = argc > 1 ? std::atol(argv[1]) : 176385;
    const int iters = argc > 2 ? std::atoi(argv[2]) : 50;
    const auto comm = tune::dist::connect(tune::dist::read_launch_env(), "cpu", 600);
    std::vector<double> buf(static_cast<size_t>(values), 1.0 + comm->rank());
    comm->barrier();
    auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) comm->all_reduce(std::span<double>(buf), tune::dist::ReduceOp::Mean);
    const double reduce_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / iters;
    t0 = Clock::now();
    for (int i = 0; i < iters; ++i) comm->barrier();
    const double barrier_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / iters;
    if (comm->is_main())
      std::printf("{\"bench\": \"tune_dist_allreduce\", \"backend\": \"%s\", \"ranks\": %d, \"values\": %ld, "
                  "\"bytes\": %ld, \"iters\": %d, \"ms_per_allreduce\": %.4f, \"ms_per_barrier\": %.4f}\n",
                  comm->backend(), comm->world_size(), values, values * 8, iters, reduce_ms, barrier_ms);
    return 0;
  } catch (const tune::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
