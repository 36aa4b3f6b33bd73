// `tune version`: the version, git revision and compute backends of this build.
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "core/threads.h"
#include "core/version.h"

namespace tune::cli {

namespace {

int run_version(const ParsedArgs&) {
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  std::printf("tune.cpp %s (git %s)\nbackends: cpu (fp32, OpenBLAS GEMM, %d OpenMP threads of %d available cores, "
              "OMP_WAIT_POLICY %s)\n",
              TUNE_VERSION, TUNE_GIT_REV, team_size(0), available_cores(), wait ? wait : "unset");
  return 0;
}

}  // namespace

const CommandSpec& version_command() {
  static const CommandSpec spec{"version", "print the version and the compute backends of this build", "tune version",
                                "", {}, 0, 0, run_version};
  return spec;
}

}  // namespace tune::cli
