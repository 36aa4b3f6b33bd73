// Tests for atomic whole-file writes and read_text_file's errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_test_atomic_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST_F(AtomicFile, WritesTextAndBytes) {
  const fs::path p = dir_ / "a.json";
  write_file_atomic(p, std::string_view("{\"x\": 1}\n"));
  EXPECT_EQ(slurp(p), "{\"x\": 1}\n");
  EXPECT_EQ(read_text_file(p), "{\"x\": 1}\n");

  const std::vector<std::byte> bytes = {std::byte{0}, std::byte{0xFF}, std::byte{0x10}};
  const fs::path b = dir_ / "b.bin";
  write_file_atomic(b, bytes);
  EXPECT_EQ(slurp(b), std::string("\x00\xFF\x10", 3));
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.json", "b.bin"}));
}

TEST_F(AtomicFile, OverwritesAndLeavesNoTempFiles) {
  const fs::path p = dir_ / "c.txt";
  write_file_atomic(p, std::string_view("first, longer content"));
  write_file_atomic(p, std::string_view("second"));
  EXPECT_EQ(read_text_file(p), "second");
  write_file_atomic(p, std::string_view(""));
  EXPECT_EQ(read_text_file(p), "");
  EXPECT_EQ(fs::file_size(p), 0u);
  EXPECT_EQ(listing(), std::vector<std::string>{"c.txt"});
}

TEST_F(AtomicFile, LargeWrite) {
  std::string big(5 << 20, 'x');
  big[12345] = 'y';
  const fs::path p = dir_ / "big";
  write_file_atomic(p, big);
  EXPECT_EQ(read_text_file(p), big);
}

TEST_F(AtomicFile, RelativePathInCurrentFolder) {
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  write_file_atomic("rel.txt", std::string_view("r"));
  fs::current_path(old);
  EXPECT_EQ(read_text_file(dir_ / "rel.txt"), "r");
  EXPECT_EQ(listing(), std::vector<std::string>{"rel.txt"});
}

TEST_F(AtomicFile, MissingFolderIsACleanError) {
  const fs::path p = dir_ / "no" / "such" / "x.txt";
  const std::string msg = error_of([&] { write_file_atomic(p, std::string_view("x")); });
  EXPECT_NE(msg.find("cannot write " + p.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir_ / "no"));
}

TEST_F(AtomicFile, TargetIsAFolder) {
  fs::create_directories(dir_ / "sub");
  const std::string msg = error_of([&] { write_file_atomic(dir_ / "sub", std::string_view("x")); });
  EXPECT_NE(msg.find("cannot write"), std::string::npos) << msg;
  // The failed rename must not leave the temp file behind.
  EXPECT_EQ(listing(), std::vector<std::string>{"sub"});
  EXPECT_TRUE(fs::is_directory(dir_ / "sub"));
}

TEST_F(AtomicFile, ReadErrorsNameThePath) {
  const fs::path missing = dir_ / "missing.json";
  EXPECT_EQ(error_of([&] { read_text_file(missing); }),
            "cannot read " + missing.string() + ": No such file or directory");
  const std::string msg = error_of([&] { read_text_file(dir_); });
  EXPECT_NE(msg.find("cannot read " + dir_.string() + ": it is a folder"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tune
