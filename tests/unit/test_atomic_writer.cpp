// Tests for AtomicFileWriter: the target appears only on commit, complete; an abandoned writer leaves nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

class AtomicWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_test_atomic_writer_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  size_t entries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }
  fs::path dir_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(AtomicWriter, PiecesAppearOnlyOnCommit) {
  const fs::path target = dir_ / "out.jsonl";
  {
    AtomicFileWriter w(target);
    w.write("{\"a\": 1}\n");
    w.write("{\"b\": 2}\n");
    EXPECT_FALSE(fs::exists(target));
    EXPECT_EQ(entries(), 1u);  // the hidden temp file
    w.commit();
  }
  EXPECT_EQ(slurp(target), "{\"a\": 1}\n{\"b\": 2}\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicWriter, AbandonedWriterLeavesTheOldFileAndNoTemp) {
  const fs::path target = dir_ / "out.jsonl";
  std::ofstream(target) << "old\n";
  {
    AtomicFileWriter w(target);
    w.write("partial");
  }
  EXPECT_EQ(slurp(target), "old\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicWriter, MissingFolderAndDoubleCommitAreErrors) {
  EXPECT_THROW(AtomicFileWriter(dir_ / "no_such_folder" / "x"), Error);
  AtomicFileWriter w(dir_ / "x");
  w.commit();
  EXPECT_THROW(w.commit(), Error);
  EXPECT_THROW(w.write("late"), Error);
  EXPECT_EQ(slurp(dir_ / "x"), "");
}

}  // namespace
}  // namespace tune
