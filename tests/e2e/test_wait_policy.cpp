// The `tune` binary's OpenMP wait policy: passive by default (libgomp then reports a spin count of 0), the
// environment's OMP_WAIT_POLICY when it sets one; the command line and exit status survive the re-exec.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "e2e/e2e_support.h"

namespace tune::e2e {
namespace {

// Sets environment variables for one test (spawned tune processes inherit them) and restores them.
class WaitPolicyEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_DISPLAY_ENV"}) {
      if (const char* v = std::getenv(name)) saved_.emplace_back(name, v);
      unsetenv(name);
    }
    setenv("OMP_DISPLAY_ENV", "verbose", 1);  // libgomp prints its settings to stderr when it loads
  }
  void TearDown() override {
    for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_DISPLAY_ENV"}) unsetenv(name);
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }
  TempDir dir_;
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(WaitPolicyEnv, PassiveByDefault) {
  const TuneRun r = run_tune({"version"}, dir_ / "version.log");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("GOMP_SPINCOUNT = '0'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("OMP_WAIT_POLICY passive"), std::string::npos) << r.output;
}

TEST_F(WaitPolicyEnv, TheEnvironmentWins) {
  setenv("OMP_WAIT_POLICY", "active", 1);
  const TuneRun r = run_tune({"version"}, dir_ / "version.log");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OMP_WAIT_POLICY = 'ACTIVE'"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("GOMP_SPINCOUNT = '0'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("OMP_WAIT_POLICY active"), std::string::npos) << r.output;
}

TEST_F(WaitPolicyEnv, ArgumentsAndExitStatusSurviveTheReExec) {
  const TuneRun r = run_tune({"train", "no/such/config.yaml", "learning_rate=1e-3"}, dir_ / "train.log");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no/such/config.yaml"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tune::e2e
