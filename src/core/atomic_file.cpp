// Crash-safe whole-file writes (temp file in the same folder, fsync, rename, fsync the folder) and whole-file reads.
#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <system_error>

#include "core/error.h"

namespace tune {
namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// Closes the fd and removes the temp file unless release() was called (after a successful rename).
class TempFile {
 public:
  TempFile(std::filesystem::path p, int fd) : path_(std::move(p)), fd_(fd) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }
  // Closes the descriptor; returns 0 or the errno of a failed close (which can report a failed delayed write).
  int close_fd() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }
  void release() { released_ = true; }

 private:
  std::filesystem::path path_;
  int fd_;
  bool released_ = false;
};

[[noreturn]] void write_failed(const std::filesystem::path& path, const char* step, int err) {
  fail("cannot write ", path.string(), ": ", step, " failed: ", errno_text(err),
       " (check that the folder exists, is writable and has free space)");
}

std::filesystem::path folder_of(const std::filesystem::path& path) {
  const std::filesystem::path parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// A name unique across processes (pid) and across threads of this process (counter), hidden (leading dot).
std::filesystem::path temp_path_for(const std::filesystem::path& path) {
  static std::atomic<uint64_t> counter{0};
  const std::string name = cat(".", path.filename().string(), ".tmp.", ::getpid(), ".", counter.fetch_add(1));
  return folder_of(path) / name;
}

void fsync_folder(const std::filesystem::path& path) {
  const int fd = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) write_failed(path, "opening its folder to fsync", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some filesystems cannot fsync a directory (EINVAL); the rename itself has already happened then.
  if (rc != 0 && err != EINVAL) write_failed(path, "fsync of its folder", err);
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  TUNE_CHECK(!path.filename().empty(), "cannot write ", path.string(), ": the path names a folder, not a file");
  const std::filesystem::path tmp_path = temp_path_for(path);
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    write_failed(path, cat("creating temp file ", tmp_path.string()).c_str(), err);
  }
  TempFile tmp(tmp_path, fd);

  const auto* p = reinterpret_cast<const char*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(tmp.fd(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      write_failed(path, "write", errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(tmp.fd()) != 0) write_failed(path, "fsync", errno);
  if (const int err = tmp.close_fd()) write_failed(path, "close", err);
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) write_failed(path, "rename from the temp file", errno);
  tmp.release();
  fsync_folder(path);
}

void write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  write_file_atomic(path, std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

std::string read_text_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    fail("cannot read ", path.string(), ": ", errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot read ", path.string(), ": ", errno_text(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    fail("cannot read ", path.string(), ": it is a folder, expected a file");
  }
  std::string text;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail("cannot read ", path.string(), ": ", errno_text(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace tune
