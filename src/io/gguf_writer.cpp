// GGUF writer: validates the metadata and tensors as the reader would, then lays out header, key/values, tensor
// infos and tensor data (each padded to the alignment) the way gguf-py's GGUFWriter does.
#include "io/gguf_writer.h"

#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"

namespace tune {
namespace {

constexpr uint32_t kVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;

class Bytes {
 public:
  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out.insert(out.end(), p, p + s.size());
  }
  void pad_to(uint64_t alignment) { out.resize((out.size() + alignment - 1) / alignment * alignment); }

  std::vector<std::byte> out;
};

struct IntegerRange {
  int64_t lo;
  uint64_t hi;
  size_t bytes;
};

std::optional<IntegerRange> integer_range(GgufValueType type) {
  switch (type) {
    case GgufValueType::U8: return IntegerRange{0, 0xFF, 1};
    case GgufValueType::I8: return IntegerRange{-128, 127, 1};
    case GgufValueType::U16: return IntegerRange{0, 0xFFFF, 2};
    case GgufValueType::I16: return IntegerRange{-32768, 32767, 2};
    case GgufValueType::U32: return IntegerRange{0, 0xFFFFFFFF, 4};
    case GgufValueType::I32: return IntegerRange{INT32_MIN, INT32_MAX, 4};
    case GgufValueType::U64: return IntegerRange{0, std::numeric_limits<uint64_t>::max(), 8};
    case GgufValueType::I64: return IntegerRange{INT64_MIN, INT64_MAX, 8};
    case GgufValueType::BOOL: return IntegerRange{0, 1, 1};
    default: return std::nullopt;
  }
}

// An integer stored as `type` (the low bytes of its two's complement, little-endian); refused when it does not fit.
void put_integer(Bytes& b, GgufValueType type, int64_t v, const std::string& what) {
  const std::optional<IntegerRange> range = integer_range(type);
  TUNE_CHECK(range, "cannot write GGUF: ", what, " is not of an integer type");
  TUNE_CHECK(v >= range->lo && (v < 0 || static_cast<uint64_t>(v) <= range->hi), "cannot write GGUF: ", what, " = ",
             v, " does not fit a ", gguf_value_type_name(static_cast<uint32_t>(type)));
  const auto bits = static_cast<uint64_t>(v);
  for (size_t i = 0; i < range->bytes; ++i) b.out.push_back(static_cast<std::byte>((bits >> (8 * i)) & 0xFF));
}

std::string ne_text(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += cat(i ? ", " : "", ne[i]);
  return s + "]";
}

void put_scalar(Bytes& b, const GgufValue& v, const std::string& what) {
  const char* type = gguf_value_type_name(static_cast<uint32_t>(v.type));
  auto held = [&](auto* p) {
    TUNE_CHECK(p, "cannot write GGUF: ", what, " is declared ", type, " but holds another kind of value");
    return *p;
  };
  switch (v.type) {
    case GgufValueType::U8: case GgufValueType::U16: case GgufValueType::U32: case GgufValueType::U64: {
      const uint64_t u = held(std::get_if<uint64_t>(&v.scalar));
      if (v.type == GgufValueType::U64) return b.put(u);
      TUNE_CHECK(u <= 0xFFFFFFFFu, "cannot write GGUF: ", what, " = ", u, " does not fit a ", type);
      return put_integer(b, v.type, static_cast<int64_t>(u), what);
    }
    case GgufValueType::I8: case GgufValueType::I16: case GgufValueType::I32: case GgufValueType::I64:
      return put_integer(b, v.type, held(std::get_if<int64_t>(&v.scalar)), what);
    case GgufValueType::F32: return b.put(static_cast<float>(held(std::get_if<double>(&v.scalar))));
    case GgufValueType::F64: return b.put(held(std::get_if<double>(&v.scalar)));
    case GgufValueType::BOOL: return b.put<uint8_t>(held(std::get_if<bool>(&v.scalar)) ? 1 : 0);
    case GgufValueType::STRING: return b.put_string(held(std::get_if<std::string>(&v.scalar)));
    case GgufValueType::ARRAY: break;
  }
  fail("cannot write GGUF: ", what, " has value type number ", static_cast<uint32_t>(v.type),
       ", which is no GGUF value type");
}

void put_array(Bytes& b, const GgufValue& v, const std::string& what) {
  const GgufValueType elem = v.elem_type;
  const char* elem_name = gguf_value_type_name(static_cast<uint32_t>(elem));
  TUNE_CHECK(elem_name && elem != GgufValueType::ARRAY, "cannot write GGUF: ", what,
             " is an array whose element type is ", elem_name ? elem_name : "unknown",
             " (arrays hold scalars or strings)");
  b.put(static_cast<uint32_t>(elem));
  if (elem == GgufValueType::STRING) {
    b.put<uint64_t>(v.strings.size());
    for (const std::string& s : v.strings) b.put_string(s);
  } else if (elem == GgufValueType::F32 || elem == GgufValueType::F64) {
    b.put<uint64_t>(v.floats.size());
    for (const double x : v.floats) elem == GgufValueType::F32 ? b.put(static_cast<float>(x)) : b.put(x);
  } else {
    b.put<uint64_t>(v.ints.size());
    for (size_t i = 0; i < v.ints.size(); ++i) put_integer(b, elem, v.ints[i], cat("element ", i, " of ", what));
  }
}

// general.alignment when the caller set it (a U32 power of 2), else 32.
uint64_t alignment_of(const GgufValue* v) {
  if (!v) return kDefaultAlignment;
  TUNE_CHECK(v->type == GgufValueType::U32 && std::holds_alternative<uint64_t>(v->scalar),
             "cannot write GGUF: general.alignment must be a U32");
  const uint64_t a = std::get<uint64_t>(v->scalar);
  TUNE_CHECK(a != 0 && a <= 0xFFFFFFFFu && std::has_single_bit(a), "cannot write GGUF: general.alignment = ", a,
             " is not a power of 2");
  return a;
}

// The byte count of a tensor of type `type` and dims `ne`, checked as the reader checks it.
uint64_t tensor_bytes(const GgufTensorToWrite& t) {
  const std::string what = cat("cannot write GGUF: tensor '", t.name, "'");
  TUNE_CHECK(!t.ne.empty() && t.ne.size() <= 4, what, " has ", t.ne.size(), " dimensions (GGUF tensors have 1 to 4)");
  const GgmlTypeInfo* info = ggml_type_info(static_cast<uint32_t>(t.type));
  TUNE_CHECK(info, what, " has unsupported ggml type ", static_cast<uint32_t>(t.type));
  int64_t rows = 1;
  for (size_t d = 0; d < t.ne.size(); ++d) {
    TUNE_CHECK(t.ne[d] >= 0, what, " has a negative dimension ne[", d, "] = ", t.ne[d]);
    if (d > 0) {
      TUNE_CHECK(t.ne[d] == 0 || rows <= std::numeric_limits<int64_t>::max() / t.ne[d], what, " is too large");
      rows *= t.ne[d];
    }
  }
  TUNE_CHECK(t.ne[0] % info->block_size == 0, what, " has ne[0] = ", t.ne[0], ", which is not a multiple of the ",
             info->name, " block size ", info->block_size);
  const auto row_bytes = static_cast<uint64_t>(ggml_row_bytes(t.type, t.ne[0]));
  TUNE_CHECK(rows == 0 || row_bytes <= std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(rows), what,
             " is too large");
  return row_bytes * static_cast<uint64_t>(rows);
}

}  // namespace

void GgufWriter::add(std::string key, GgufValue value) { metadata_.push_back({std::move(key), std::move(value)}); }

void GgufWriter::add_string(std::string key, std::string value) {
  GgufValue v;
  v.type = GgufValueType::STRING;
  v.scalar = std::move(value);
  add(std::move(key), std::move(v));
}

void GgufWriter::add_u32(std::string key, uint32_t value) {
  GgufValue v;
  v.type = GgufValueType::U32;
  v.scalar = static_cast<uint64_t>(value);
  add(std::move(key), std::move(v));
}

void GgufWriter::add_i32(std::string key, int32_t value) {
  GgufValue v;
  v.type = GgufValueType::I32;
  v.scalar = static_cast<int64_t>(value);
  add(std::move(key), std::move(v));
}

void GgufWriter::add_f32(std::string key, float value) {
  GgufValue v;
  v.type = GgufValueType::F32;
  v.scalar = static_cast<double>(value);
  add(std::move(key), std::move(v));
}

void GgufWriter::add_bool(std::string key, bool value) {
  GgufValue v;
  v.type = GgufValueType::BOOL;
  v.scalar = value;
  add(std::move(key), std::move(v));
}

void GgufWriter::add_strings(std::string key, std::vector<std::string> values) {
  GgufValue v;
  v.type = GgufValueType::ARRAY;
  v.elem_type = GgufValueType::STRING;
  v.strings = std::move(values);
  add(std::move(key), std::move(v));
}

void GgufWriter::add_tensor(GgufTensorToWrite tensor) { tensors_.push_back(std::move(tensor)); }

std::vector<std::byte> GgufWriter::serialize() const {
  std::set<std::string_view> keys;
  const GgufValue* alignment_value = nullptr;
  for (const Entry& e : metadata_) {
    TUNE_CHECK(keys.insert(e.key).second, "cannot write GGUF: metadata key '", e.key, "' is added twice");
    if (e.key == "general.alignment") alignment_value = &e.value;
  }
  const uint64_t alignment = alignment_of(alignment_value);
  std::set<std::string_view> names;
  std::vector<uint64_t> sizes;  // per tensor, in add order
  for (const GgufTensorToWrite& t : tensors_) {
    TUNE_CHECK(names.insert(t.name).second, "cannot write GGUF: two tensors are named '", t.name, "'");
    sizes.push_back(tensor_bytes(t));
    TUNE_CHECK(t.data.size() == sizes.back(), "cannot write GGUF: tensor '", t.name, "' has ", t.data.size(),
               " bytes of data but ", ggml_type_info(t.type).name, " with ne ", ne_text(t.ne), " needs ", sizes.back());
  }

  Bytes b;
  b.out.push_back(std::byte{'G'});
  b.out.push_back(std::byte{'G'});
  b.out.push_back(std::byte{'U'});
  b.out.push_back(std::byte{'F'});
  b.put(kVersion);
  b.put<uint64_t>(tensors_.size());
  b.put<uint64_t>(metadata_.size());
  for (const Entry& e : metadata_) {
    const std::string what = cat("metadata key '", e.key, "'");
    b.put_string(e.key);
    b.put(static_cast<uint32_t>(e.value.type));
    if (e.value.type == GgufValueType::ARRAY)
      put_array(b, e.value, what);
    else
      put_scalar(b, e.value, what);
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const GgufTensorToWrite& t = tensors_[i];
    b.put_string(t.name);
    b.put(static_cast<uint32_t>(t.ne.size()));
    for (const int64_t n : t.ne) b.put(static_cast<uint64_t>(n));
    b.put(static_cast<uint32_t>(t.type));
    b.put(offset);
    offset += (sizes[i] + alignment - 1) / alignment * alignment;
  }
  b.pad_to(alignment);
  b.out.reserve(b.out.size() + offset);
  for (const GgufTensorToWrite& t : tensors_) {
    b.out.insert(b.out.end(), t.data.begin(), t.data.end());
    b.pad_to(alignment);
  }
  return std::move(b.out);
}

void GgufWriter::write(const std::filesystem::path& path) const {
  std::vector<std::byte> bytes;
  try {
    bytes = serialize();
  } catch (const Error& e) {
    fail(path.string(), ": ", e.what());
  }
  write_file_atomic(path, bytes);
}

}  // namespace tune
