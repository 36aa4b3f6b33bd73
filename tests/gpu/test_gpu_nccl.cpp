// The NCCL communicator on one GPU (world 1, which needs no second device): libnccl loads, the communicator
// initialises, and all-reduce, broadcast and barrier go through NCCL and return the buffers unchanged.
#include <gtest/gtest.h>

#include <vector>

#include "gpu/gpu_test.h"
#ifdef TUNE_HAVE_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace tune {
namespace {

TEST(GpuNccl, OneRankCollectivesRunThroughNccl) {
#ifndef TUNE_HAVE_NCCL
  GTEST_SKIP() << "this build has no NCCL";
#else
  TUNE_REQUIRE_GPU();
  dist::LaunchEnv env;
  env.launcher = dist::Launcher::EnvVars;
  auto comm = dist::nccl_communicator(env, 60, nullptr);
  EXPECT_STREQ(comm->backend(), "nccl");
  std::vector<float> f = {1.5f, -2.0f, 3.25f};
  std::vector<double> d = {0.1, 1e300};
  comm->all_reduce(std::span<float>(f), dist::ReduceOp::Sum);
  comm->all_reduce(std::span<double>(d), dist::ReduceOp::Mean);
  EXPECT_EQ(f, (std::vector<float>{1.5f, -2.0f, 3.25f}));
  EXPECT_EQ(d, (std::vector<double>{0.1, 1e300}));
  std::vector<std::byte> b = {std::byte{9}, std::byte{8}};
  comm->broadcast(std::span<std::byte>(b), 0);
  EXPECT_EQ(b[1], std::byte{8});
  comm->barrier();
#endif
}

}  // namespace
}  // namespace tune
