// StagedDir: the folder appears at its destination only on commit, replacing an existing one without leaving
// anything behind, even when a stale `.<name>.old-<pid>` folder is in the way.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/staged_dir.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

class StagedDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tune_staged_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }
  static void write(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }
  static std::string read(const fs::path& file) {
    std::ostringstream s;
    s << std::ifstream(file).rdbuf();
    return s.str();
  }
  int entries() const { return static_cast<int>(std::distance(fs::directory_iterator(root_), {})); }
  fs::path root_;
};

TEST_F(StagedDirTest, NewFolderAppearsOnlyOnCommit) {
  const fs::path dest = root_ / "out";
  {
    StagedDir d(dest);
    write(d.path() / "a.txt", "new");
    EXPECT_FALSE(fs::exists(dest));
    d.commit();
  }
  EXPECT_EQ(read(dest / "a.txt"), "new");
  EXPECT_EQ(entries(), 1);  // no temp folder left
}

TEST_F(StagedDirTest, ReplacesAnExistingFolderEvenWithAStaleOldFolderBeside) {
  const fs::path dest = root_ / "out";
  fs::create_directories(dest);
  write(dest / "old.txt", "previous");
  // A folder left by a killed process whose pid this process now has.
  const fs::path stale = root_ / (".out.old-" + std::to_string(::getpid()));
  fs::create_directories(stale);
  write(stale / "x", "stale");
  {
    StagedDir d(dest);
    write(d.path() / "a.txt", "new");
    d.commit();
  }
  EXPECT_EQ(read(dest / "a.txt"), "new");
  EXPECT_FALSE(fs::exists(dest / "old.txt"));
  EXPECT_EQ(entries(), 2);  // out and the stale folder, which is not this run's to remove
}

TEST_F(StagedDirTest, NothingAppearsWithoutCommit) {
  const fs::path dest = root_ / "out";
  {
    StagedDir d(dest);
    write(d.path() / "a.txt", "new");
  }
  EXPECT_EQ(entries(), 0);
}

}  // namespace
}  // namespace tune
