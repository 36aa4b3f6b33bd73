// The CPU thread policy: how many threads one OpenMP team (shared by OpenBLAS's OpenMP build) gets, and which loops
// are worth a parallel region at all.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace tune {

// Cores this process may run on: its sched_getaffinity set, capped by the cgroup v2 CPU quota (cpu.max of its cgroup
// and every ancestor, rounded up) when there is one. At least 1.
int available_cores();

// The whole cores a cgroup v2 cpu.max file allows ("max 100000" -> none; "150000 100000" -> 2), or nullopt for no
// quota or a text that is not a cpu.max line.
std::optional<int> cpu_max_cores(std::string_view cpu_max);

// The team size for the plan's `threads` when `local_processes` processes of one job share this machine (mpirun
// ranks; 1 alone): each gets available_cores() / local_processes cores (at least 1). 0 means all of its share (or
// OMP_NUM_THREADS when that is set and smaller); a request above the share is capped there, because threads beyond
// the cores only wait on each other at every barrier.
int team_size(int requested, int local_processes = 1);

// Sets the calling thread's OpenMP team size to team_size(requested, local_processes) and returns it (OpenBLAS's
// OpenMP build shares the team; kernels/cpu/gemm decides how much of it a product uses). OpenMP keeps the count per
// thread: a thread that runs model code (the serve worker) calls this itself.
int apply_threads(int requested, int local_processes = 1);

// Work a loop needs before a parallel region pays off: waking the team and joining it cost 10-25 microseconds on
// an idle machine and a scheduler time slice when a thread has lost its core to another process. Below it a loop
// runs on the calling thread (`#pragma omp parallel for if (tune::parallel_worth(work))`). Thread count never
// changes a result, so these cuts change only speed.
constexpr int64_t kMinParallelWork = int64_t(1) << 18;  // elementwise or row operations (~50-200 us serial)
constexpr int64_t kMinParallelMacs = int64_t(1) << 21;  // SGEMM multiply-adds per block (~40-80 us serial)
constexpr bool parallel_worth(int64_t work) { return work >= kMinParallelWork; }

}  // namespace tune
