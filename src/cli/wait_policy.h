// The `tune` binary's OpenMP wait policy: passive unless the user's environment chooses one.
#pragma once

namespace tune::cli {

// When neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set: sets OMP_WAIT_POLICY=passive and re-executes this binary
// with the same arguments (libgomp reads the variable once, when it loads, so setting it later has no effect). Returns
// when a policy is already chosen, or when the re-exec fails (the run then goes on with libgomp's spinning default).
void use_passive_wait_policy(char** argv);

}  // namespace tune::cli
