// A folder built in a hidden temp folder next to its destination and renamed into place only when complete, so a
// crash or an error never leaves a half-written destination.
#pragma once
#include <filesystem>

namespace tune {

class StagedDir {
 public:
  // Creates `.<name>.tmp-<pid>` next to `dest` (and dest's parent folders).
  explicit StagedDir(std::filesystem::path dest);
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;
  // Removes the temp folder unless commit() succeeded.
  ~StagedDir();

  const std::filesystem::path& path() const { return tmp_; }  // where to write the files
  // fsyncs the temp folder and renames it to `dest`. An existing dest (an empty folder, or one the caller decided
  // to replace) is swapped with it atomically and then removed; where the file system cannot swap, it is first
  // renamed aside and removed after the new folder is in place.
  void commit();

 private:
  std::filesystem::path dest_, tmp_;
  bool committed_ = false;
};

}  // namespace tune
