// libFuzzer target: arbitrary bytes through the safetensors validator; whatever it accepts must read and round-trip.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"

// Any tune::Error from parse is an expected rejection. Once a file is accepted, nothing may throw or differ:
// an escaping exception or a trap is reported by libFuzzer as a crash.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<tune::SafetensorsFile> file;
  try {
    file.emplace(tune::SafetensorsFile::parse(std::as_bytes(std::span(data, size)), "fuzz-input"));
  } catch (const tune::Error&) {
    return 0;
  }

  std::vector<tune::TensorToWrite> tensors;
  for (const tune::TensorInfo& t : file->tensors()) {
    const tune::Tensor x = file->read_f32(t.name, &t.shape);
    const std::span<const std::byte> raw = file->data(t);
    if (raw.size() != t.end - t.begin) __builtin_trap();
    if (static_cast<uint64_t>(x.numel()) * tune::dtype_size(t.dtype) != raw.size()) __builtin_trap();
    tensors.push_back({t.name, t.dtype, t.shape, raw});
  }

  // The writer must accept everything the reader accepted, and reading its output must give the same tensors.
  const std::vector<std::byte> written = tune::serialize_safetensors(tensors, file->metadata());
  const tune::SafetensorsFile again = tune::SafetensorsFile::parse(written, "fuzz-rewritten");
  if (again.tensors().size() != file->tensors().size() || again.metadata() != file->metadata()) __builtin_trap();
  for (const tune::TensorInfo& t : file->tensors()) {
    const tune::TensorInfo& u = again.get(t.name);
    const std::span<const std::byte> a = file->data(t), b = again.data(u);
    if (u.dtype != t.dtype || u.shape != t.shape || a.size() != b.size()) __builtin_trap();
    if (!a.empty() && std::memcmp(a.data(), b.data(), a.size()) != 0) __builtin_trap();
  }
  return 0;
}
