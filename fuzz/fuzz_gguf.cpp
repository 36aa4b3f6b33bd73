// libFuzzer target: arbitrary bytes through the GGUF validator; whatever it accepts must be readable in full,
// dequantize, and survive a writer round trip.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "kernels/cpu/dequant.h"

// Any tune::Error from parse is an expected rejection. Once a file is accepted, nothing may throw or differ:
// an escaping exception or a trap is reported by libFuzzer as a crash.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<tune::GgufFile> file;
  try {
    file.emplace(tune::GgufFile::parse(std::as_bytes(std::span(data, size)), "fuzz-input"));
  } catch (const tune::Error&) {
    return 0;
  }

  tune::GgufWriter writer;
  for (const auto& [key, value] : file->metadata()) writer.add(key, value);
  std::vector<float> row;
  for (const tune::GgufTensorInfo& t : file->tensors()) {
    const std::span<const std::byte> bytes = file->data(t);
    if (bytes.size() != t.nbytes || file->find_tensor(t.name) != &t) __builtin_trap();
    if (static_cast<int64_t>(t.nbytes) != tune::ggml_row_bytes(t.type, t.cols()) * t.rows()) __builtin_trap();
    unsigned sum = 0;  // touch every byte of the span (ASan checks it lies inside the input)
    for (const std::byte b : bytes) sum += std::to_integer<unsigned>(b);
    [[maybe_unused]] volatile unsigned sink = sum;
    if (t.nbytes > 0) {  // the first row
      row.resize(static_cast<size_t>(t.cols()));
      tune::cpu::dequantize_row(t.type, reinterpret_cast<const uint8_t*>(bytes.data()), row.data(), t.cols());
    }
    writer.add_tensor({t.name, t.type, t.ne, bytes});
  }

  // The writer takes everything the reader accepted; its output reads back to the same tensors and rewrites to
  // the same bytes. (A huge general.alignment, valid when no tensor has bytes, would pad the rewrite to gigabytes.)
  if (file->alignment() > 4096) return 0;
  const std::vector<std::byte> written = writer.serialize();
  const tune::GgufFile again = tune::GgufFile::parse(written, "fuzz-rewritten");
  if (again.metadata().size() != file->metadata().size() || again.tensors().size() != file->tensors().size())
    __builtin_trap();
  tune::GgufWriter rewriter;
  for (const auto& [key, value] : again.metadata()) rewriter.add(key, value);
  for (size_t i = 0; i < again.tensors().size(); ++i) {
    const tune::GgufTensorInfo& a = file->tensors()[i];
    const tune::GgufTensorInfo& b = again.tensors()[i];
    const std::span<const std::byte> da = file->data(a), db = again.data(b);
    if (a.name != b.name || a.type != b.type || a.ne != b.ne || da.size() != db.size()) __builtin_trap();
    if (!da.empty() && std::memcmp(da.data(), db.data(), da.size()) != 0) __builtin_trap();
    rewriter.add_tensor({b.name, b.type, b.ne, db});
  }
  const std::vector<std::byte> rewritten = rewriter.serialize();
  if (rewritten.size() != written.size() || std::memcmp(rewritten.data(), written.data(), written.size()) != 0)
    __builtin_trap();
  return 0;
}
