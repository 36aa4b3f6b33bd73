// Passive OpenMP waiting for the `tune` binary. libgomp's default spins up to ~300,000 iterations at every barrier and
// between parallel regions; beside other processes a spinning thread uses up its share of the core, the thread it
// waits for is not scheduled, and each of the thousands of regions of a training step waits out a time slice
// (bench/run_load_bench.sh: 20 demo steps took 82 s with 2 threads on 2 busy cores, 5.5 s passive). libgomp takes
// OMP_WAIT_POLICY from the environment in its constructor, before main() and also before the executable's
// DT_PREINIT_ARRAY could help (glibc sets `environ` up only after it), so the binary re-executes itself once.
#include "cli/wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace tune::cli {

void use_passive_wait_policy(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only when it fails (no /proc): run on as is
}

}  // namespace tune::cli
