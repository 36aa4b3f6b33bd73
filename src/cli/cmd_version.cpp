// `tune version`: the version, git revision and compute backends of this build.
#include <cstdio>

#include <omp.h>

#include "cli/commands.h"
#include "core/version.h"

namespace tune::cli {

namespace {

int run_version(const ParsedArgs&) {
  std::printf("tune.cpp %s (git %s)\nbackends: cpu (fp32, OpenBLAS GEMM, %d OpenMP threads)\n", TUNE_VERSION,
              TUNE_GIT_REV, omp_get_max_threads());
  return 0;
}

}  // namespace

const CommandSpec& version_command() {
  static const CommandSpec spec{"version", "print the version and the compute backends of this build", "tune version",
                                "", {}, 0, 0, run_version};
  return spec;
}

}  // namespace tune::cli
