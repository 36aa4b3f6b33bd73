// safetensors files: a validating mmap reader and an atomic writer (format: u64 header length, JSON header, data).
#pragma once
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace tune {

struct TensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte offsets relative to the data buffer, [begin, end)
};

class SafetensorsFile {
 public:
  // Maps the file and validates it completely (header length, JSON, dtypes, shapes, offsets tiling the buffer
  // exactly to EOF). Throws tune::Error naming the file and the problem.
  static SafetensorsFile open(const std::filesystem::path& path);
  // Same validation over bytes already in memory (the fuzzer's entry point). `source` names them in errors.
  static SafetensorsFile parse(std::span<const std::byte> bytes, std::string source);

  const std::string& source() const { return source_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in offset order
  const TensorInfo* find(std::string_view name) const;                 // nullptr when absent
  const TensorInfo& get(std::string_view name) const;                  // throws when absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::span<const std::byte> data(const TensorInfo& t) const;

  // Converts a tensor to fp32. With expected_shape set, a different shape is an error naming both shapes.
  Tensor read_f32(std::string_view name, const Shape* expected_shape = nullptr) const;

 private:
  std::string source_;
  std::shared_ptr<const void> mapping_;  // keeps the mmap (or copied bytes) alive
  std::span<const std::byte> buffer_;    // the data section
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

struct TensorToWrite {
  std::string name;
  DType dtype;
  Shape shape;
  std::span<const std::byte> data;  // prod(shape) * dtype_size(dtype) bytes, little-endian
};

// Serialises tensors the way the reference writer does: header padded with spaces to a multiple of 8,
// __metadata__ first ({"format":"pt"} unless given), tensors ordered by dtype (descending) then name.
std::vector<std::byte> serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                             const std::map<std::string, std::string>& metadata = {{"format", "pt"}});
// Writes serialize_safetensors(...) atomically (temp file, fsync, rename).
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Convenience: fp32 tensors stored as `dtype` (converted with round-to-nearest-even).
struct NamedTensor {
  std::string name;
  const Tensor* tensor;
};
void write_safetensors_f32(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors, DType dtype,
                           const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace tune
