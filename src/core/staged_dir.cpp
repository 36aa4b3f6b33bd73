#include "core/staged_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

#include "core/error.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

fs::path sibling(const fs::path& dest, const char* tag) {
  return dest.parent_path() / cat(".", dest.filename().string(), tag, ::getpid());
}

void fsync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data files were fsynced when they were written
  ::fsync(fd);
  ::close(fd);
}

void rename_or_fail(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  TUNE_CHECK(!ec, "cannot rename ", from.string(), " to ", to.string(), ": ", ec.message(),
             " (check that the folder is writable)");
}

}  // namespace

StagedDir::StagedDir(fs::path dest) : dest_(fs::absolute(std::move(dest)).lexically_normal()) {
  if (!dest_.has_filename()) dest_ = dest_.parent_path();  // "out/" -> "out"
  tmp_ = sibling(dest_, ".tmp-");
  std::error_code ec;
  fs::create_directories(dest_.parent_path(), ec);
  TUNE_CHECK(!ec, "cannot create ", dest_.parent_path().string(), ": ", ec.message());
  fs::remove_all(tmp_, ec);  // left by an earlier process with the same pid that was killed
  fs::create_directory(tmp_, ec);
  TUNE_CHECK(!ec, "cannot create the temp folder ", tmp_.string(), ": ", ec.message(),
             " (check that the folder is writable)");
}

StagedDir::~StagedDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(tmp_, ec);
}

void StagedDir::commit() {
  fsync_path(tmp_);
  const bool replacing = fs::exists(dest_);
  // Swap the two folders in one step where the file system can (Linux renameat2): dest is never missing, even when
  // the process dies here, and the temp name then holds the previous folder until it is removed.
  if (replacing && ::renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, dest_.c_str(), RENAME_EXCHANGE) == 0) {
    committed_ = true;
    fsync_path(dest_.parent_path());
    std::error_code ec;
    fs::remove_all(tmp_, ec);
    return;
  }
  const fs::path old = sibling(dest_, ".old-");
  if (replacing) rename_or_fail(dest_, old);
  try {
    rename_or_fail(tmp_, dest_);
  } catch (const Error&) {
    std::error_code ec;
    if (replacing) fs::rename(old, dest_, ec);  // put the previous folder back
    throw;
  }
  committed_ = true;
  fsync_path(dest_.parent_path());
  if (replacing) {
    std::error_code ec;
    fs::remove_all(old, ec);
  }
}

}  // namespace tune
