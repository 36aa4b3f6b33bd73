// Tests for the torchrun-style rendezvous that hands rank 0's NCCL id to the other ranks over loopback TCP.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "dist/tcp_bootstrap.h"

namespace tune::dist {
namespace {

// A loopback port nobody listens on right now (bound to port 0 and released).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

LaunchEnv rank_env(int rank, int world, int port) {
  LaunchEnv e;
  e.launcher = Launcher::EnvVars;
  e.rank = rank;
  e.world_size = world;
  e.master_addr = "127.0.0.1";
  e.master_port = port;
  return e;
}

TEST(TcpBootstrap, EveryRankGetsRankZerosBytes) {
  const int world = 4, port = free_port();
  std::vector<std::array<std::byte, 128>> ids(world);
  for (size_t i = 0; i < 128; ++i) ids[0][i] = static_cast<std::byte>(i * 7 + 3);
  std::vector<std::string> errors(world);
  std::vector<std::thread> ranks;
  for (int r = world - 1; r >= 0; --r)  // the others start first and retry until rank 0 listens
    ranks.emplace_back([&, r] {
      try {
        tcp_broadcast_from_rank0(rank_env(r, world, port), ids[static_cast<size_t>(r)], 20);
      } catch (const Error& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  for (int r = 0; r < world; ++r) {
    EXPECT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
    EXPECT_EQ(ids[static_cast<size_t>(r)], ids[0]) << "rank " << r;
  }
}

TEST(TcpBootstrap, ARankWithoutRankZeroTimesOutNamingTheAddress) {
  std::array<std::byte, 16> id{};
  try {
    tcp_broadcast_from_rank0(rank_env(1, 2, free_port()), id, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("could not reach rank 0 at 127.0.0.1:"), std::string::npos) << e.what();
  }
}

TEST(TcpBootstrap, RankZeroWithoutTheOthersTimesOut) {
  std::array<std::byte, 16> id{};
  try {
    tcp_broadcast_from_rank0(rank_env(0, 3, free_port()), id, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("waited for 2 more rank(s)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tune::dist
