// Atomic file writes: write to a temp file in the same folder, fsync, rename over the target, fsync the folder.
#pragma once
#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace tune {

// A file written piece by piece that appears under its name only when commit() succeeds: the bytes go to a hidden
// temp file in the same folder; commit() fsyncs, renames it over `path` and fsyncs the folder. Destroyed without a
// commit (an error, an exception) it removes the temp file, so `path` is either untouched or complete.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path path);  // creates the temp file; tune::Error when it cannot
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::span<const std::byte> bytes);
  void write(std::string_view text);
  void commit();

 private:
  std::filesystem::path path_, tmp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);
void write_file_atomic(const std::filesystem::path& path, std::string_view text);

// Reads a whole file; throws tune::Error naming the path when it is missing or unreadable.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace tune
