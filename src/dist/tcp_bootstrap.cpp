// Plain POSIX sockets for the one-off rendezvous (see tcp_bootstrap.h).
#include "dist/tcp_bootstrap.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "core/error.h"

namespace tune::dist {

namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string where(const LaunchEnv& env) { return env.master_addr + ":" + std::to_string(env.master_port); }

int ms_left(Clock::time_point deadline) {
  return static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
}

// Waits until fd is readable/writable or the deadline passes.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    const int r = ::poll(&p, 1, ms_left(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

void send_all(int fd, std::span<const std::byte> bytes, const LaunchEnv& env, Clock::time_point deadline) {
  size_t done = 0;
  while (done < bytes.size()) {
    TUNE_CHECK(wait_fd(fd, POLLOUT, deadline), "rendezvous at ", where(env), ": timed out sending the NCCL id");
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    TUNE_CHECK(n > 0 || errno == EINTR, "rendezvous at ", where(env), ": send failed (", std::strerror(errno), ")");
    if (n > 0) done += static_cast<size_t>(n);
  }
}

void recv_all(int fd, std::span<std::byte> bytes, const LaunchEnv& env, Clock::time_point deadline) {
  size_t done = 0;
  while (done < bytes.size()) {
    TUNE_CHECK(wait_fd(fd, POLLIN, deadline), "rendezvous at ", where(env), ": timed out waiting for rank 0's NCCL id");
    const ssize_t n = ::recv(fd, bytes.data() + done, bytes.size() - done, 0);
    TUNE_CHECK(n != 0, "rendezvous at ", where(env), ": rank 0 closed the connection early");
    TUNE_CHECK(n > 0 || errno == EINTR, "rendezvous at ", where(env), ": recv failed (", std::strerror(errno), ")");
    if (n > 0) done += static_cast<size_t>(n);
  }
}

addrinfo* resolve(const LaunchEnv& env, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(env.master_port);
  const int rc = ::getaddrinfo(env.master_addr.c_str(), port.c_str(), &hints, &res);
  TUNE_CHECK(rc == 0 && res, "MASTER_ADDR '", env.master_addr, "' does not resolve (", ::gai_strerror(rc),
             "); set it to rank 0's address");
  return res;
}

void serve(const LaunchEnv& env, std::span<const std::byte> bytes, Clock::time_point deadline) {
  addrinfo* res = resolve(env, true);
  Fd listener(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool bound = listener.get() >= 0 && ::bind(listener.get(), res->ai_addr, res->ai_addrlen) == 0 &&
                     ::listen(listener.get(), env.world_size) == 0;
  const int bind_errno = errno;
  ::freeaddrinfo(res);
  TUNE_CHECK(bound, "rank 0 cannot listen on ", where(env), " (", std::strerror(bind_errno),
             "); choose a free MASTER_PORT");
  for (int served = 1; served < env.world_size; ++served) {
    TUNE_CHECK(wait_fd(listener.get(), POLLIN, deadline), "rank 0 waited for ", env.world_size - served,
               " more rank(s) to connect to ", where(env), " until ddp_timeout; start every rank with the same ",
               "MASTER_ADDR, MASTER_PORT and WORLD_SIZE");
    Fd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    TUNE_CHECK(peer.get() >= 0, "rank 0: accept on ", where(env), " failed (", std::strerror(errno), ")");
    send_all(peer.get(), bytes, env, deadline);
  }
}

void fetch(const LaunchEnv& env, std::span<std::byte> bytes, Clock::time_point deadline) {
  while (true) {  // rank 0 may not be listening yet
    addrinfo* res = resolve(env, false);
    Fd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const bool connected = fd.get() >= 0 && ::connect(fd.get(), res->ai_addr, res->ai_addrlen) == 0;
    ::freeaddrinfo(res);
    if (connected) return recv_all(fd.get(), bytes, env, deadline);
    TUNE_CHECK(Clock::now() < deadline, "rank ", env.rank, " could not reach rank 0 at ", where(env),
               " until ddp_timeout (", std::strerror(errno), "); check MASTER_ADDR and MASTER_PORT");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

void tcp_broadcast_from_rank0(const LaunchEnv& env, std::span<std::byte> bytes, int timeout_s) {
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  if (env.world_size == 1) return;
  if (env.rank == 0) return serve(env, bytes, deadline);
  fetch(env, bytes, deadline);
}

}  // namespace tune::dist
