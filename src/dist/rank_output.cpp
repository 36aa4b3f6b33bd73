// Quieting the ranks other than 0 while keeping a way to report their errors (see rank_output.h).
#include "dist/rank_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace tune::dist {

namespace {

int g_terminal_fd = STDERR_FILENO;  // the stderr the job was started with

}  // namespace

void quiet_unless_main(int rank) {
  if (rank == 0 || g_terminal_fd != STDERR_FILENO) return;
  const int saved = ::dup(STDERR_FILENO);
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved < 0 || null_fd < 0) return;  // keep printing rather than lose the error messages
  std::fflush(stdout);
  std::fflush(stderr);
  g_terminal_fd = saved;
  ::dup2(null_fd, STDOUT_FILENO);
  ::dup2(null_fd, STDERR_FILENO);
  ::close(null_fd);
}

void print_to_terminal(const std::string& line) {
  const std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(g_terminal_fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace tune::dist
