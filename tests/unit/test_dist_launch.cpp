// Tests for reading the launch environment (mpirun's and torchrun's variables) and the single-process communicator.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "dist/communicator.h"
#include "dist/launch_env.h"

namespace tune::dist {
namespace {

// Sets variables for one test and removes every launcher variable before and after it.
class Env : public ::testing::Test {
 protected:
  void SetUp() override { clear(); }
  void TearDown() override { clear(); }
  static void clear() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK",
                          "OMPI_COMM_WORLD_LOCAL_SIZE", "PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS", "MPI_LOCALRANKID",
                          "WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"})
      ::unsetenv(v);
  }
  static void set(const char* name, const char* value) { ::setenv(name, value, 1); }
};

TEST_F(Env, AloneIsRankZeroOfOne) {
  const LaunchEnv e = read_launch_env();
  EXPECT_EQ(e.launcher, Launcher::Alone);
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.world_size, 1);
  EXPECT_EQ(local_world_size(), 1);
}

TEST_F(Env, OpenMpiVariables) {
  set("OMPI_COMM_WORLD_SIZE", "4");
  set("OMPI_COMM_WORLD_RANK", "3");
  set("OMPI_COMM_WORLD_LOCAL_RANK", "1");
  set("OMPI_COMM_WORLD_LOCAL_SIZE", "2");
  const LaunchEnv e = read_launch_env();
  EXPECT_EQ(e.launcher, Launcher::Mpirun);
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 2);
  EXPECT_EQ(local_world_size(), 2);
}

TEST_F(Env, TorchrunVariables) {
  set("WORLD_SIZE", "2");
  set("RANK", "1");
  set("LOCAL_RANK", "1");
  set("LOCAL_WORLD_SIZE", "2");
  set("MASTER_ADDR", "127.0.0.1");
  set("MASTER_PORT", "29500");
  const LaunchEnv e = read_launch_env();
  EXPECT_EQ(e.launcher, Launcher::EnvVars);
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.master_addr, "127.0.0.1");
  EXPECT_EQ(e.master_port, 29500);
  EXPECT_EQ(local_world_size(), 2);
}

std::string error_of_read() {
  try {
    read_launch_env();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST_F(Env, BadValuesAreErrorsNamingTheVariable) {
  set("WORLD_SIZE", "two");
  EXPECT_NE(error_of_read().find("WORLD_SIZE='two'"), std::string::npos) << error_of_read();
  set("WORLD_SIZE", "2");
  set("RANK", "2");
  EXPECT_NE(error_of_read().find("RANK=2 is not below WORLD_SIZE=2"), std::string::npos) << error_of_read();
  set("RANK", "0");
  EXPECT_NE(error_of_read().find("MASTER_ADDR"), std::string::npos) << error_of_read();
  set("MASTER_ADDR", "127.0.0.1");
  set("MASTER_PORT", "70000");
  EXPECT_NE(error_of_read().find("MASTER_PORT"), std::string::npos) << error_of_read();
}

TEST_F(Env, CpuProcessesStartedWithoutMpirunAreToldToUseIt) {
  set("WORLD_SIZE", "2");
  set("RANK", "0");
  set("MASTER_ADDR", "127.0.0.1");
  set("MASTER_PORT", "29500");
  try {
    connect(read_launch_env(), "cpu", 60);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mpirun -np 2"), std::string::npos) << e.what();
  }
}

TEST_F(Env, WorldSizeOneIsASingleProcessThatChangesNothing) {
  set("WORLD_SIZE", "1");
  const auto comm = connect(read_launch_env(), "cpu", 60);
  EXPECT_STREQ(comm->backend(), "single");
  EXPECT_EQ(comm->world_size(), 1);
  std::vector<double> d = {1.5, -2.0};
  std::vector<float> f = {3.0f};
  comm->all_reduce(std::span<double>(d), ReduceOp::Mean);
  comm->all_reduce(std::span<float>(f), ReduceOp::Sum);
  comm->barrier();
  EXPECT_EQ(d, (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(f, (std::vector<float>{3.0f}));
  EXPECT_EQ(all_reduce_scalar(*comm, 0.25, ReduceOp::Mean), 0.25);
}

}  // namespace
}  // namespace tune::dist
