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

[[noreturn]] void report_and_abort(Communicator& comm, const std::string& message, int exit_code) {
  if (!comm.is_main()) std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::string where =
      comm.is_main() ? "" : cat("rank ", comm.rank(), " of ", comm.world_size(), ": ");
  print_to_terminal((exit_code == 2 ? "error: " : "internal error: ") + where + message);
  comm.abort(exit_code);
  std::_Exit(exit_code);  // abort() does not return; this tells the compiler
}

}  // namespace

int run_guarded(Communicator& comm, const std::function<int()>& body) {
  if (comm.world_size() == 1) return body();
  try {
    return body();
  } catch (const Error& e) {
    report_and_abort(comm, e.what(), 2);
  } catch (const std::filesystem::filesystem_error& e) {
    report_and_abort(comm, cat("cannot use ", e.path1().string(), ": ", e.code().message(),
                               "; check the path (its length, its folders and their permissions)"),
                     2);
  } catch (const std::exception& e) {
    report_and_abort(comm, cat(e.what(), "; please report this with the command you ran"), 1);
  }
}

}  // namespace tune::dist
