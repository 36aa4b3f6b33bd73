// Read-only memory maps of whole files (mmap, MAP_PRIVATE), owned by a shared_ptr that unmaps.
#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.h"

namespace tune {
namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

}  // namespace

MappedFile map_file(const std::filesystem::path& path, std::string_view expected) {
  const std::string source = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    fail("cannot open ", source, ": ", errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot open ", source, ": ", errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("cannot open ", source, ": ", S_ISDIR(st.st_mode) ? "it is a folder" : "it is not a regular file",
         ", expected ", expected);
  }
  MappedFile out;
  const auto size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail("cannot map ", source, " into memory: ", errno_text(err));
    }
    out.owner = std::shared_ptr<const void>(p, [size](const void* q) { ::munmap(const_cast<void*>(q), size); });
    out.bytes = std::span<const std::byte>(static_cast<const std::byte*>(p), size);
  }
  ::close(fd);
  return out;
}

MappedFile copy_to_mapping(std::span<const std::byte> bytes) {
  auto copy = std::make_shared<const std::vector<std::byte>>(bytes.begin(), bytes.end());
  return {std::shared_ptr<const void>(copy, copy->data()), std::span<const std::byte>(*copy)};
}

}  // namespace tune
