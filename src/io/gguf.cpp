// GGUF: the validating reader. Every count and length is bounded by the bytes left before anything is allocated,
// every type number, dimension and offset is checked, and every problem is one tune::Error naming the file.
#include "io/gguf.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <set>

#include "core/error.h"
#include "core/mapped_file.h"

namespace tune {
namespace {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, value type, a one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, one dim, type, offset
constexpr const char* kCorrupt = "; the file is truncated or corrupt (download or convert it again)";

bool is_integer(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::U16: case GgufValueType::I16:
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::U64: case GgufValueType::I64:
      return true;
    default:
      return false;
  }
}

bool is_float(GgufValueType t) { return t == GgufValueType::F32 || t == GgufValueType::F64; }

// Bytes one value of a fixed-size type takes (0 for STRING and ARRAY).
uint64_t fixed_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::BOOL: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
    default: return 0;
  }
}

// Little-endian reads over the file's bytes; each names what it reads, so running out of bytes says where.
class Cursor {
 public:
  Cursor(std::span<const std::byte> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }

  template <class T>
  T read(std::string_view what) {
    TUNE_CHECK(sizeof(T) <= remaining(), source_, ": the file ends at byte ", bytes_.size(), " while reading ", what,
               " (", sizeof(T), " bytes at byte ", pos_, ")", kCorrupt);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(std::string_view what) {
    const uint64_t at = pos_;
    const auto len = read<uint64_t>(cat(what, " (its length)"));
    TUNE_CHECK(len <= remaining(), source_, ": ", what, " at byte ", at, " has length ", len, " but only ",
               remaining(), " bytes remain in the file", kCorrupt);
    std::string s(reinterpret_cast<const char*>(bytes_.data()) + pos_, len);
    pos_ += len;
    return s;
  }

 private:
  std::span<const std::byte> bytes_;
  const std::string& source_;
  uint64_t pos_ = 0;
};

GgufValueType read_value_type(Cursor& in, const std::string& source, const std::string& what) {
  const auto type = in.read<uint32_t>(cat("the value type of ", what));
  TUNE_CHECK(gguf_value_type_name(type), source, ": ", what, " has unknown value type ", type,
             " (GGUF value types are 0..12)", kCorrupt);
  return static_cast<GgufValueType>(type);
}

bool read_bool(Cursor& in, const std::string& source, const std::string& what) {
  const auto b = in.read<uint8_t>(what);
  TUNE_CHECK(b <= 1, source, ": ", what, " is a BOOL stored as byte ", static_cast<int>(b), " (must be 0 or 1)",
             kCorrupt);
  return b == 1;
}

// A fixed-size or string scalar, widened as GgufValue holds it.
std::variant<int64_t, uint64_t, double, bool, std::string> read_scalar(Cursor& in, GgufValueType type,
                                                                       const std::string& source,
                                                                       const std::string& what) {
  switch (type) {
    case GgufValueType::U8: return static_cast<uint64_t>(in.read<uint8_t>(what));
    case GgufValueType::I8: return static_cast<int64_t>(in.read<int8_t>(what));
    case GgufValueType::U16: return static_cast<uint64_t>(in.read<uint16_t>(what));
    case GgufValueType::I16: return static_cast<int64_t>(in.read<int16_t>(what));
    case GgufValueType::U32: return static_cast<uint64_t>(in.read<uint32_t>(what));
    case GgufValueType::I32: return static_cast<int64_t>(in.read<int32_t>(what));
    case GgufValueType::U64: return in.read<uint64_t>(what);
    case GgufValueType::I64: return in.read<int64_t>(what);
    case GgufValueType::F32: return static_cast<double>(in.read<float>(what));
    case GgufValueType::F64: return in.read<double>(what);
    case GgufValueType::BOOL: return read_bool(in, source, what);
    case GgufValueType::STRING: return in.read_string(what);
    case GgufValueType::ARRAY: break;
  }
  fail(source, ": ", what, ": an array cannot be read as a scalar");
}

void read_array(Cursor& in, GgufValue& v, const std::string& source, const std::string& key) {
  const std::string what = cat("metadata key '", key, "'");
  const auto elem = in.read<uint32_t>(cat("the element type of ", what));
  TUNE_CHECK(gguf_value_type_name(elem), source, ": ", what, " is an array with unknown element type ", elem,
             " (GGUF value types are 0..12)", kCorrupt);
  v.elem_type = static_cast<GgufValueType>(elem);
  TUNE_CHECK(v.elem_type != GgufValueType::ARRAY, source, ": ", what,
             " is an array of arrays, which neither tune.cpp nor llama.cpp reads", kCorrupt);
  const auto count = in.read<uint64_t>(cat("the element count of ", what));
  const uint64_t min_bytes = v.elem_type == GgufValueType::STRING ? 8 : fixed_size(v.elem_type);
  TUNE_CHECK(count <= in.remaining() / min_bytes, source, ": ", what, " is an array of ", count, " ",
             gguf_value_type_name(elem), " values, which cannot fit in the ", in.remaining(), " bytes left in the file",
             kCorrupt);
  if (v.elem_type == GgufValueType::STRING) {
    v.strings.reserve(count);
    for (uint64_t i = 0; i < count; ++i) v.strings.push_back(in.read_string(cat("element ", i, " of ", what)));
  } else if (is_float(v.elem_type)) {
    v.floats.reserve(count);
    for (uint64_t i = 0; i < count; ++i)
      v.floats.push_back(v.elem_type == GgufValueType::F32 ? in.read<float>(what) : in.read<double>(what));
  } else {
    v.ints.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      const std::string elem_what = cat("element ", i, " of ", what);
      const auto x = read_scalar(in, v.elem_type, source, elem_what);
      if (const auto* u = std::get_if<uint64_t>(&x)) {
        TUNE_CHECK(*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), source, ": ", elem_what, " = ",
                   *u, " does not fit a signed 64-bit integer, which tune.cpp stores array integers as");
        v.ints.push_back(static_cast<int64_t>(*u));
      } else if (const auto* b = std::get_if<bool>(&x)) {
        v.ints.push_back(*b ? 1 : 0);
      } else {
        v.ints.push_back(std::get<int64_t>(x));
      }
    }
  }
}

GgufValue read_value(Cursor& in, const std::string& source, const std::string& key) {
  GgufValue v;
  v.type = read_value_type(in, source, cat("metadata key '", key, "'"));
  if (v.type == GgufValueType::ARRAY)
    read_array(in, v, source, key);
  else
    v.scalar = read_scalar(in, v.type, source, cat("the value of metadata key '", key, "'"));
  return v;
}

// general.alignment: a U32 power of two when present (as llama.cpp and gguf-py require), else 32.
uint64_t alignment_of(const std::map<std::string, GgufValue>& metadata, const std::string& source) {
  const auto it = metadata.find("general.alignment");
  if (it == metadata.end()) return kDefaultAlignment;
  const GgufValue& v = it->second;
  TUNE_CHECK(v.type == GgufValueType::U32, source, ": general.alignment is a ", gguf_value_type_name(static_cast<uint32_t>(v.type)),
             ", but GGUF stores it as a U32", kCorrupt);
  const uint64_t a = std::get<uint64_t>(v.scalar);
  TUNE_CHECK(a != 0 && std::has_single_bit(a), source, ": general.alignment = ", a, " is not a power of 2",
             kCorrupt);
  return a;
}

GgufTensorInfo read_tensor_info(Cursor& in, uint64_t index, const std::string& source) {
  GgufTensorInfo t;
  t.name = in.read_string(cat("the name of tensor ", index));
  const std::string what = cat("tensor '", t.name, "'");
  const auto n_dims = in.read<uint32_t>(cat("the dimension count of ", what));
  TUNE_CHECK(n_dims >= 1 && n_dims <= kMaxDims, source, ": ", what, " has ", n_dims,
             " dimensions (GGUF tensors have 1 to 4)", kCorrupt);
  uint64_t bound = 1;  // the product of the dimensions, zeros counted as 1: every partial product fits int64
  for (uint32_t d = 0; d < n_dims; ++d) {
    const auto n = in.read<uint64_t>(cat("dimension ", d, " of ", what));
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    const uint64_t factor = std::max<uint64_t>(n, 1);
    TUNE_CHECK(n <= kMax && bound <= kMax / factor, source, ": ", what, " has ne[", d, "] = ", n,
               ", which makes its element count overflow 64 bits", kCorrupt);
    bound *= factor;
    t.ne.push_back(static_cast<int64_t>(n));
  }
  const auto type = in.read<uint32_t>(cat("the ggml type of ", what));
  const GgmlTypeInfo* info = ggml_type_info(type);
  if (!info) {
    const std::string_view name = ggml_type_name(type);
    fail(source, ": ", what, " has ggml type ", type, name.empty() ? " (unknown)" : cat(" (", name, ")"),
         ", which tune.cpp does not read (supported: ", ggml_supported_type_names(),
         "); use a GGUF quantized with one of those, e.g. Q4_K_M or Q8_0");
  }
  t.type = info->type;
  TUNE_CHECK(t.ne[0] % info->block_size == 0, source, ": ", what, " has ne[0] = ", t.ne[0],
             ", which is not a multiple of the ", info->name, " block size ", info->block_size, kCorrupt);
  const auto blocks = static_cast<uint64_t>(t.ne[0] / info->block_size);  // per row
  const auto block_bytes = static_cast<uint64_t>(info->block_bytes);
  const auto rows = static_cast<uint64_t>(t.rows());
  TUNE_CHECK(blocks <= (std::numeric_limits<uint64_t>::max() / block_bytes) / std::max<uint64_t>(rows, 1), source,
             ": ", what, " has too many bytes (the byte count overflows 64 bits)", kCorrupt);
  t.nbytes = blocks * block_bytes * rows;
  t.offset = in.read<uint64_t>(cat("the data offset of ", what));
  return t;
}

// Offsets aligned, every tensor inside the data section, no two tensors sharing a byte.
void check_tensor_data(const std::vector<GgufTensorInfo>& tensors, uint64_t alignment, uint64_t data_bytes,
                       const std::string& source) {
  for (const GgufTensorInfo& t : tensors) {
    TUNE_CHECK(t.offset % alignment == 0, source, ": tensor '", t.name, "' has data offset ", t.offset,
               ", which is not a multiple of the alignment ", alignment, kCorrupt);
    TUNE_CHECK(t.offset <= data_bytes && t.nbytes <= data_bytes - t.offset, source, ": tensor '", t.name,
               "' data (bytes [", t.offset, ", ", t.offset + t.nbytes, ") of the data section) runs past the end of ",
               "the file, whose data section has ", data_bytes, " bytes", kCorrupt);
  }
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& t : tensors)
    if (t.nbytes > 0) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& a = *by_offset[i - 1];
    const GgufTensorInfo& b = *by_offset[i];
    TUNE_CHECK(b.offset >= a.offset + a.nbytes, source, ": tensor '", b.name, "' data (bytes [", b.offset, ", ",
               b.offset + b.nbytes, ")) overlaps tensor '", a.name, "' (bytes [", a.offset, ", ", a.offset + a.nbytes,
               "))", kCorrupt);
  }
}

}  // namespace

const char* gguf_value_type_name(uint32_t type) {
  static constexpr const char* kNames[] = {"U8",   "I8",     "U16",   "I16", "U32", "I32", "F32",
                                           "BOOL", "STRING", "ARRAY", "U64", "I64", "F64"};
  return type < std::size(kNames) ? kNames[type] : nullptr;
}

int64_t GgufTensorInfo::rows() const {
  int64_t n = 1;
  for (size_t d = 1; d < ne.size(); ++d) n *= ne[d];
  return n;
}

GgufFile GgufFile::open(const std::filesystem::path& path) {
  MappedFile mapped = map_file(path, "a .gguf file");
  return from_bytes(std::move(mapped.owner), mapped.bytes, path.string());
}

GgufFile GgufFile::parse(std::span<const std::byte> bytes, std::string source) {
  MappedFile copy = copy_to_mapping(bytes);
  return from_bytes(std::move(copy.owner), copy.bytes, std::move(source));
}

GgufFile GgufFile::from_bytes(std::shared_ptr<const void> owner, std::span<const std::byte> bytes,
                              std::string source) {
  GgufFile f;
  f.source_ = std::move(source);
  f.mapping_ = std::move(owner);
  const std::string& src = f.source_;
  Cursor in(bytes, src);

  TUNE_CHECK(bytes.size() >= 4, src, ": the file has only ", bytes.size(),
             " bytes, too few for a GGUF header (is it truncated?)");
  const auto magic = in.read<uint32_t>("the magic");
  TUNE_CHECK(magic == kMagic, src, ": not a GGUF file (it does not start with the magic \"GGUF\"); give a .gguf ",
             "model file, e.g. one made by llama.cpp's convert_hf_to_gguf.py");
  f.version_ = in.read<uint32_t>("the GGUF version");
  TUNE_CHECK(f.version_ == 2 || f.version_ == 3, src, ": GGUF version ", f.version_,
             (f.version_ & 0xFFFF) == 0 ? " (a big-endian file?)" : "",
             " is not supported; tune.cpp reads little-endian GGUF versions 2 and 3 (convert the model again with a "
             "current llama.cpp)");
  const auto tensor_count = in.read<uint64_t>("the tensor count");
  const auto kv_count = in.read<uint64_t>("the metadata count");
  TUNE_CHECK(kv_count <= in.remaining() / kMinKvBytes, src, ": the header declares ", kv_count,
             " metadata entries, which cannot fit in the ", in.remaining(), " bytes left in the file", kCorrupt);

  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key = in.read_string(cat("the key of metadata entry ", i));
    TUNE_CHECK(!f.metadata_.contains(key), src, ": metadata key '", key, "' appears twice (duplicate key)",
               kCorrupt);
    GgufValue value = read_value(in, src, key);
    f.metadata_.emplace(std::move(key), std::move(value));
  }
  f.alignment_ = alignment_of(f.metadata_, src);

  TUNE_CHECK(tensor_count <= in.remaining() / kMinTensorInfoBytes, src, ": the header declares ", tensor_count,
             " tensors, which cannot fit in the ", in.remaining(), " bytes left in the file", kCorrupt);
  f.tensors_.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo t = read_tensor_info(in, i, src);
    TUNE_CHECK(!f.tensor_index_.contains(t.name), src, ": tensor '", t.name, "' appears twice (duplicate tensor name)",
               kCorrupt);
    f.tensor_index_.emplace(t.name, f.tensors_.size());
    f.tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment (it may be absent when no tensor has bytes).
  const uint64_t data_start = (in.pos() + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  f.buffer_ = data_start <= bytes.size() ? bytes.subspan(data_start) : std::span<const std::byte>();
  check_tensor_data(f.tensors_, f.alignment_, f.buffer_.size(), src);
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = metadata_.find(std::string(key));
  return it == metadata_.end() ? nullptr : &it->second;
}

namespace {

std::string type_text(const GgufValue& v) {
  const char* name = gguf_value_type_name(static_cast<uint32_t>(v.type));
  if (v.type != GgufValueType::ARRAY) return name;
  return cat("ARRAY of ", gguf_value_type_name(static_cast<uint32_t>(v.elem_type)));
}

[[noreturn]] void wrong_type(const std::string& source, std::string_view key, const GgufValue& v,
                             std::string_view expected) {
  fail(source, ": GGUF metadata key '", key, "' is ", type_text(v), ", expected ", expected,
       " (is the file from another converter?)");
}

}  // namespace

// The value under `key`, or a tune::Error naming the missing key.
#define TUNE_GGUF_REQUIRE(value_ptr, key)                                                                     \
  TUNE_CHECK(value_ptr, source_, ": GGUF metadata has no key '", key,                                     \
             "' (the file lacks what tune.cpp needs; is it a complete model GGUF from llama.cpp's converter?)")

std::optional<std::string> GgufFile::get_string_or(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::STRING) wrong_type(source_, key, *v, "STRING");
  return std::get<std::string>(v->scalar);
}

std::string GgufFile::get_string(std::string_view key) const {
  TUNE_GGUF_REQUIRE(find(key), key);
  return *get_string_or(key);
}

std::optional<int64_t> GgufFile::get_int_or(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!is_integer(v->type)) wrong_type(source_, key, *v, "an integer");
  if (const auto* u = std::get_if<uint64_t>(&v->scalar)) {
    TUNE_CHECK(*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), source_, ": GGUF metadata key '",
               key, "' = ", *u, " is too large for a signed 64-bit integer");
    return static_cast<int64_t>(*u);
  }
  return std::get<int64_t>(v->scalar);
}

int64_t GgufFile::get_int(std::string_view key) const {
  TUNE_GGUF_REQUIRE(find(key), key);
  return *get_int_or(key);
}

std::optional<double> GgufFile::get_float_or(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!is_float(v->type)) wrong_type(source_, key, *v, "F32 or F64");
  return std::get<double>(v->scalar);
}

double GgufFile::get_float(std::string_view key) const {
  TUNE_GGUF_REQUIRE(find(key), key);
  return *get_float_or(key);
}

std::optional<bool> GgufFile::get_bool_or(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::BOOL) wrong_type(source_, key, *v, "BOOL");
  return std::get<bool>(v->scalar);
}

const std::vector<std::string>& GgufFile::get_strings(std::string_view key) const {
  const GgufValue* v = find(key);
  TUNE_GGUF_REQUIRE(v, key);
  if (v->type != GgufValueType::ARRAY || v->elem_type != GgufValueType::STRING)
    wrong_type(source_, key, *v, "ARRAY of STRING");
  return v->strings;
}

const std::vector<double>& GgufFile::get_floats(std::string_view key) const {
  const GgufValue* v = find(key);
  TUNE_GGUF_REQUIRE(v, key);
  if (v->type != GgufValueType::ARRAY || !is_float(v->elem_type)) wrong_type(source_, key, *v, "ARRAY of F32 or F64");
  return v->floats;
}

const std::vector<int64_t>& GgufFile::get_ints(std::string_view key) const {
  const GgufValue* v = find(key);
  TUNE_GGUF_REQUIRE(v, key);
  if (v->type != GgufValueType::ARRAY || !is_integer(v->elem_type)) wrong_type(source_, key, *v, "ARRAY of integers");
  return v->ints;
}

#undef TUNE_GGUF_REQUIRE

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor(std::string_view name) const {
  const GgufTensorInfo* t = find_tensor(name);
  TUNE_CHECK(t, source_, ": no tensor named '", name, "' (the file has ", tensors_.size(), " tensors",
             tensors_.empty() ? "" : cat(", e.g. '", tensors_.front().name, "'"), ")");
  return *t;
}

std::span<const std::byte> GgufFile::data(const GgufTensorInfo& t) const { return buffer_.subspan(t.offset, t.nbytes); }

}  // namespace tune
