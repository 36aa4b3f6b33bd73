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

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path) : path_(std::move(path)) {
  TUNE_CHECK(!path_.filename().empty(), "cannot write ", path_.string(), ": the path names a folder, not a file");
  tmp_path_ = temp_path_for(path_);
  fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    const int err = errno;
    write_failed(path_, cat("creating temp file ", tmp_path_.string()).c_str(), err);
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_path_.c_str());
}

void AtomicFileWriter::write(std::span<const std::byte> bytes) {
  TUNE_CHECK(fd_ >= 0, "cannot write ", path_.string(), ": the file is already committed");
  const auto* p = reinterpret_cast<const char*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      write_failed(path_, "write", errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::write(std::string_view text) {
  write(std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

void AtomicFileWriter::commit() {
  TUNE_CHECK(fd_ >= 0, "cannot commit ", path_.string(), " twice");
  if (::fsync(fd_) != 0) write_failed(path_, "fsync", errno);
  // close can report a failed delayed write
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) write_failed(path_, "close", errno);
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) write_failed(path_, "rename from the temp file", errno);
  committed_ = true;
  fsync_folder(path_);
}

void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  AtomicFileWriter out(path);
  out.write(bytes);
  out.commit();
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
