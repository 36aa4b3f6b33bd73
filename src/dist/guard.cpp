// One message and one exit status for an error on any rank (see guard.h).
#include "dist/guard.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>

#include "core/error.h"
#include "dist/rank_output.h"

namespace tune::dist {

namespace {

[[noreturn]] void report_and_end(const LaunchEnv& env, Communicator* comm, const std::string& message,
                                 int exit_code) {
  if (env.rank != 0) std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::string where = env.rank == 0 ? "" : cat("rank ", env.rank, " of ", env.world_size, ": ");
  print_to_terminal((exit_code == 2 ? "error: " : "internal error: ") + where + message);
  // mpirun forwards a rank's output asynchronously and drops what it has not read when the job is aborted.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  if (comm) comm->abort(exit_code);
  std::_Exit(exit_code);
}

}  // namespace

int run_guarded(const LaunchEnv& env, const std::function<std::unique_ptr<Communicator>()>& connect,
                const std::function<int(Communicator&)>& body) {
  if (env.world_size == 1) return body(*connect());
  std::unique_ptr<Communicator> comm;
  try {
    comm = connect();
    return body(*comm);
  } catch (const Error& e) {
    report_and_end(env, comm.get(), e.what(), 2);
  } catch (const std::filesystem::filesystem_error& e) {
    report_and_end(env, comm.get(),
                   cat("cannot use ", e.path1().string(), ": ", e.code().message(),
                       "; check the path (its length, its folders and their permissions)"),
                   2);
  } catch (const std::exception& e) {
    report_and_end(env, comm.get(), cat(e.what(), "; please report this with the command you ran"), 1);
  }
}

}  // namespace tune::dist
