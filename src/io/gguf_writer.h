// Writes GGUF v3 files (metadata, then tensor infos, then 32-byte aligned data, each tensor padded to the
// alignment, as gguf-py's GGUFWriter lays them out), atomically.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "io/gguf.h"

namespace tune {

struct GgufTensorToWrite {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;          // ggml order (ne[0] innermost)
  std::span<const std::byte> data;  // exactly the tensor's bytes
};

class GgufWriter {
 public:
  // Metadata in insertion order (the order llama.cpp's gguf-py writes them in is the caller's choice).
  void add_string(std::string key, std::string value);
  void add_u32(std::string key, uint32_t value);
  void add_i32(std::string key, int32_t value);
  void add_f32(std::string key, float value);
  void add_bool(std::string key, bool value);
  void add_strings(std::string key, std::vector<std::string> values);
  // Any value as the reader holds it (e.g. copied from a GgufFile); integers must fit their type.
  void add(std::string key, GgufValue value);
  // `data` is not copied: it must stay alive until serialize()/write().
  void add_tensor(GgufTensorToWrite tensor);

  // Validates everything the reader validates (tune::Error naming the key or tensor otherwise): unique keys and
  // tensor names, 1..4 dimensions, ne[0] a multiple of the block size, data of exactly the tensor's byte count,
  // general.alignment (if added) a U32 power of 2, which then aligns the data instead of 32.
  std::vector<std::byte> serialize() const;
  void write(const std::filesystem::path& path) const;  // serialize() written atomically (core/atomic_file)

 private:
  struct Entry {
    std::string key;
    GgufValue value;
  };
  std::vector<Entry> metadata_;
  std::vector<GgufTensorToWrite> tensors_;
};

}  // namespace tune
