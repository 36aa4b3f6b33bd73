// Writes GGUF v3 files (metadata, then tensor infos, then 32-byte aligned data), atomically.
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
  void add_tensor(GgufTensorToWrite tensor);

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
