// GGUF v3 files (llama.cpp's format): a validating mmap reader of the metadata and tensor infos.
// Layout: magic "GGUF", u32 version, u64 tensor count, u64 kv count, kv pairs, tensor infos, padding to
// general.alignment (default 32), tensor data; every string is u64 length + bytes; little-endian throughout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "io/ggml_type.h"

namespace tune {

// GGUF metadata value types (gguf_type numbers).
enum class GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, U64 = 10, I64 = 11,
  F64 = 12,
};

// "U8", "STRING", "ARRAY", ...; nullptr for a number that is no GGUF value type.
const char* gguf_value_type_name(uint32_t type);

// One metadata value. Scalars are widened (integers to int64/uint64, floats to double); arrays hold one element type.
struct GgufValue {
  GgufValueType type = GgufValueType::U8;
  GgufValueType elem_type = GgufValueType::U8;  // for ARRAY
  std::variant<int64_t, uint64_t, double, bool, std::string> scalar;
  // ARRAY payloads (the one matching elem_type is filled): integers, floats, bools as ints, strings. U64 elements
  // above INT64_MAX are refused by the reader.
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
};

struct GgufTensorInfo {
  std::string name;            // "blk.0.attn_q.weight"
  GgmlType type;
  std::vector<int64_t> ne;     // ggml order: ne[0] is the contiguous (innermost) dimension
  uint64_t offset = 0;         // relative to the data section, a multiple of the alignment
  uint64_t nbytes = 0;         // ggml_row_bytes(type, ne[0]) * prod(ne[1..])
  int64_t rows() const;        // prod(ne[1..]) (1 for a vector)
  int64_t cols() const { return ne.empty() ? 1 : ne[0]; }
};

class GgufFile {
 public:
  // Maps the file and validates it completely: magic, version 3 (2 also read), counts bounded by the file size,
  // string lengths, value and array types (arrays of arrays refused, BOOL bytes 0 or 1), duplicate keys and tensor
  // names, general.alignment (a U32 power of 2), tensor types (ggml_type_info), dimension counts (1..4) and sizes,
  // ne[0] a multiple of the block size, offsets aligned, in bounds and not overlapping. Trailing bytes after the
  // last tensor are allowed. Throws tune::Error naming the file and the problem.
  static GgufFile open(const std::filesystem::path& path);
  // Same validation over bytes already in memory (the fuzzer's entry point). `source` names them in errors.
  static GgufFile parse(std::span<const std::byte> bytes, std::string source);

  const std::string& source() const { return source_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;  // nullptr when absent
  // Typed getters: tune::Error naming the key when it is absent (the ones without a fallback) or has another type.
  // Integer getters accept any integer type whose value fits; get_float accepts F32/F64.
  std::string get_string(std::string_view key) const;
  std::optional<std::string> get_string_or(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  std::optional<int64_t> get_int_or(std::string_view key) const;
  double get_float(std::string_view key) const;
  std::optional<double> get_float_or(std::string_view key) const;
  std::optional<bool> get_bool_or(std::string_view key) const;
  const std::vector<std::string>& get_strings(std::string_view key) const;  // ARRAY of STRING
  const std::vector<double>& get_floats(std::string_view key) const;        // ARRAY of F32/F64
  const std::vector<int64_t>& get_ints(std::string_view key) const;         // ARRAY of an integer type

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // in file order
  const GgufTensorInfo* find_tensor(std::string_view name) const;          // nullptr when absent
  const GgufTensorInfo& tensor(std::string_view name) const;               // throws when absent
  std::span<const std::byte> data(const GgufTensorInfo& t) const;          // nbytes bytes
  // The mapping's owner: hold it to keep data() spans alive after the GgufFile is gone (quantized weights).
  std::shared_ptr<const void> mapping() const { return mapping_; }

 private:
  std::string source_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::shared_ptr<const void> mapping_;  // keeps the mmap (or copied bytes) alive
  std::span<const std::byte> buffer_;    // the data section
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;  // name -> position in tensors_

  static GgufFile from_bytes(std::shared_ptr<const void> owner, std::span<const std::byte> bytes, std::string source);
};

}  // namespace tune
