// The thread policy (core/threads): cgroup cpu.max parsing, the team size rule (never above the available cores,
// OMP_NUM_THREADS honoured when smaller), and apply_threads setting the OpenMP count.
#include "core/threads.h"

#include <gtest/gtest.h>
#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace tune {
namespace {

TEST(CpuMax, WholeCoresOfTheQuota) {
  EXPECT_EQ(cpu_max_cores("max 100000\n"), std::nullopt);
  EXPECT_EQ(cpu_max_cores("200000 100000\n"), 2);
  EXPECT_EQ(cpu_max_cores("150000 100000"), 2);  // 1.5 cores: a second thread still has work
  EXPECT_EQ(cpu_max_cores("50000 100000"), 1);
  EXPECT_EQ(cpu_max_cores(""), std::nullopt);
  EXPECT_EQ(cpu_max_cores("abc 100000"), std::nullopt);
  EXPECT_EQ(cpu_max_cores("100000 0"), std::nullopt);
}

TEST(AvailableCores, AtMostTheAffinitySet) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_GE(available_cores(), 1);
  EXPECT_LE(available_cores(), CPU_COUNT(&set));
}

// Sets or clears OMP_NUM_THREADS for one test and restores it.
class OmpNumThreadsEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* s = std::getenv("OMP_NUM_THREADS")) saved_ = s;
    unsetenv("OMP_NUM_THREADS");
  }
  void TearDown() override {
    if (saved_.empty()) unsetenv("OMP_NUM_THREADS");
    else setenv("OMP_NUM_THREADS", saved_.c_str(), 1);
  }
  std::string saved_;
};

TEST_F(OmpNumThreadsEnv, TeamNeverExceedsTheCores) {
  const int cores = available_cores();
  EXPECT_EQ(team_size(0), cores);
  EXPECT_EQ(team_size(1), 1);
  EXPECT_EQ(team_size(cores), cores);
  EXPECT_EQ(team_size(cores + 7), cores);
}

TEST_F(OmpNumThreadsEnv, RanksOnOneMachineShareItsCores) {
  const int cores = available_cores();
  EXPECT_EQ(team_size(0, 1), cores);
  EXPECT_EQ(team_size(0, 2), std::max(1, cores / 2));
  EXPECT_EQ(team_size(0, cores * 4), 1) << "more ranks than cores: one thread each, never zero";
  EXPECT_EQ(team_size(cores, 2), std::max(1, cores / 2)) << "an explicit threads value is capped at the share";
  EXPECT_EQ(team_size(1, 0), 1) << "a local count below 1 counts as 1";
  EXPECT_EQ(team_size(0, 0), cores);
}

TEST_F(OmpNumThreadsEnv, DefaultTakesASmallerOmpNumThreads) {
  setenv("OMP_NUM_THREADS", "1", 1);
  EXPECT_EQ(team_size(0), 1);
  EXPECT_EQ(team_size(3), std::min(3, available_cores())) << "an explicit threads value wins";
  setenv("OMP_NUM_THREADS", "1000,2", 1);  // a nested list: the outer level counts, capped at the cores
  EXPECT_EQ(team_size(0), available_cores());
  setenv("OMP_NUM_THREADS", "junk", 1);
  EXPECT_EQ(team_size(0), available_cores());
}

TEST_F(OmpNumThreadsEnv, ApplySetsTheOpenMpCount) {
  const int saved = omp_get_max_threads();
  EXPECT_EQ(apply_threads(1), 1);
  EXPECT_EQ(omp_get_max_threads(), 1);
  EXPECT_EQ(apply_threads(0), available_cores());
  EXPECT_EQ(omp_get_max_threads(), available_cores());
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace tune
