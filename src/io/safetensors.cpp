// safetensors: a reader that maps the file and validates every header rule, and a writer whose bytes match the
// reference (Rust `safetensors`) writer.
//
// Writer layout, as in safetensors/src/tensor.rs `prepare`: tensors sorted by the reference Dtype enum order
// descending (U64 > I64 > F64 > F32 > U32 > I32 > BF16 > F16 > U16 > I16 > F8_E4M3 > F8_E5M2 > I8 > U8 > BOOL), ties
// by name (bytewise ascending); data packed in that order with no padding; header = compact JSON with
// "__metadata__" first (keys sorted; omitted when the map is empty) then the tensors in offset order, each as
// {"dtype":..,"shape":[..],"data_offsets":[b,e]}, strings escaped like serde_json, then right-padded with spaces
// so the header length is a multiple of 8.
#include "io/safetensors.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/mapped_file.h"

namespace tune {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kSupportedDTypes = "BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64, F8_E4M3, F8_E5M2";

// Position in the reference writer's Dtype enum (safetensors/src/tensor.rs); the writer sorts by it descending.
int reference_dtype_rank(DType t) {
  switch (t) {
    case DType::BOOL: return 0;
    case DType::U8: return 1;
    case DType::I8: return 2;
    case DType::F8_E5M2: return 3;
    case DType::F8_E4M3: return 4;
    case DType::I16: return 5;
    case DType::U16: return 6;
    case DType::F16: return 7;
    case DType::BF16: return 8;
    case DType::I32: return 9;
    case DType::U32: return 10;
    case DType::F32: return 11;
    case DType::F64: return 12;
    case DType::I64: return 13;
    case DType::U64: return 14;
  }
  fail("unknown dtype enum value ", static_cast<int>(t));
}

// Byte offset of the first invalid UTF-8 sequence (overlong, surrogate, > U+10FFFF, truncated), or npos.
size_t invalid_utf8_offset(std::string_view s) {
  static constexpr uint32_t kMinCodePoint[5] = {0, 0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07u;
    } else {
      return i;
    }
    if (len > s.size() - i) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < kMinCodePoint[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

// Parses the header JSON; nlohmann keeps only one of two equal keys, so duplicates are caught in the callback.
json parse_header_json(std::string_view text, const std::string& source) {
  std::vector<std::set<std::string>> open_objects;  // keys seen so far, one set per object being parsed
  std::optional<std::string> duplicate;
  const json::parser_callback_t on_event = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second && !duplicate) duplicate = key;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), on_event);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for numbers like 1e400
    fail(source, ": safetensors header is not valid JSON: ", e.what());
  }
  TUNE_CHECK(!duplicate, source, ": safetensors header has duplicate key '", *duplicate,
             "'; each tensor name (and __metadata__ key) may appear only once");
  return header;
}

std::optional<uint64_t> as_u64(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() == 0) return 0;  // "-0"
  return std::nullopt;
}

std::string json_text(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

TensorInfo parse_entry(const std::string& name, const json& entry, const std::string& source) {
  const std::string where = cat(source, ": tensor '", name, "'");
  TUNE_CHECK(entry.is_object(), where, ": header entry must be an object with dtype, shape and data_offsets, got ",
             entry.type_name());
  for (const auto& item : entry.items())
    TUNE_CHECK(item.key() == "dtype" || item.key() == "shape" || item.key() == "data_offsets", where,
               ": unexpected field '", item.key(), "' in the header entry (allowed: dtype, shape, data_offsets)");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    TUNE_CHECK(entry.contains(field), where, ": header entry is missing the field '", field, "'");

  TensorInfo t;
  t.name = name;
  const json& dtype = entry["dtype"];
  TUNE_CHECK(dtype.is_string(), where, ": dtype must be a string, got ", json_text(dtype));
  const std::optional<DType> parsed = dtype_from_name(dtype.get_ref<const std::string&>());
  TUNE_CHECK(parsed, where, ": unknown dtype '", dtype.get_ref<const std::string&>(), "' (supported: ",
             kSupportedDTypes, ")");
  t.dtype = *parsed;

  const json& shape = entry["shape"];
  TUNE_CHECK(shape.is_array(), where, ": shape must be a list of non-negative integers, got ", json_text(shape));
  uint64_t numel = 1;
  for (const json& d : shape) {
    const std::optional<uint64_t> dim = as_u64(d);
    TUNE_CHECK(dim, where, ": shape must be a list of non-negative integers, got ", json_text(shape));
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    TUNE_CHECK(*dim <= kMax && (*dim == 0 || numel <= kMax / *dim), where, ": shape ", json_text(shape),
               " has too many elements (the element count overflows 64 bits)");
    numel *= *dim;
    t.shape.push_back(static_cast<int64_t>(*dim));
  }

  const json& offsets = entry["data_offsets"];
  const bool pair = offsets.is_array() && offsets.size() == 2 && as_u64(offsets[0]) && as_u64(offsets[1]);
  TUNE_CHECK(pair, where, ": data_offsets must be two non-negative integers [begin, end], got ", json_text(offsets));
  t.begin = *as_u64(offsets[0]);
  t.end = *as_u64(offsets[1]);
  TUNE_CHECK(t.begin <= t.end, where, ": data_offsets [", t.begin, ", ", t.end, "] has begin > end");

  const uint64_t size = dtype_size(t.dtype);
  TUNE_CHECK(numel <= std::numeric_limits<uint64_t>::max() / size, where, ": shape ", shape_str(t.shape),
             " has too many bytes (the byte count overflows 64 bits)");
  TUNE_CHECK(t.end - t.begin == numel * size, where, ": data_offsets [", t.begin, ", ", t.end, "] span ",
             t.end - t.begin, " bytes but ", dtype_name(t.dtype), " with shape ", shape_str(t.shape), " needs ",
             numel * size);
  return t;
}

struct ParsedFile {
  std::span<const std::byte> buffer;  // the data section
  std::vector<TensorInfo> tensors;    // in offset order
  std::map<std::string, std::string> metadata;
};

ParsedFile parse_file(std::span<const std::byte> bytes, const std::string& source) {
  TUNE_CHECK(bytes.size() >= 8, source, ": file is only ", bytes.size(),
             " bytes; a safetensors file starts with an 8-byte header length (is the file truncated?)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | std::to_integer<uint64_t>(bytes[i]);
  TUNE_CHECK(header_len != 0, source, ": safetensors header length is 0 (not a safetensors file?)");
  TUNE_CHECK(header_len <= kMaxHeaderBytes, source, ": safetensors header length ", header_len,
             " exceeds the 100,000,000-byte limit (not a safetensors file?)");
  TUNE_CHECK(header_len <= bytes.size() - 8, source, ": safetensors header length ", header_len,
             " runs past the end of the file (", bytes.size(), " bytes); the file is truncated or corrupt");

  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8, header_len);
  const auto first = static_cast<unsigned char>(text.front());
  TUNE_CHECK(first == '{', source, ": safetensors header must be a JSON object starting with '{', but it starts with ",
             first > 0x20 && first < 0x7F ? cat("'", text.front(), "'") : cat("byte ", static_cast<int>(first)));
  const size_t bad = invalid_utf8_offset(text);
  TUNE_CHECK(bad == std::string_view::npos, source, ": safetensors header is not valid UTF-8 (bad byte at header ",
             "offset ", bad, ")");
  // nlohmann stops at a NUL byte as if the input ended there, so reject NUL before parsing.
  const size_t nul = text.find('\0');
  TUNE_CHECK(nul == std::string_view::npos, source, ": safetensors header contains a NUL byte at header offset ", nul,
             "; the header must be JSON text padded with spaces");
  const json header = parse_header_json(text, source);

  ParsedFile out;
  out.buffer = bytes.subspan(8 + header_len);
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") {
      TUNE_CHECK(item.value().is_object(), source, ": __metadata__ must be an object of string values, got ",
                 item.value().type_name());
      for (const auto& m : item.value().items()) {
        TUNE_CHECK(m.value().is_string(), source, ": __metadata__ must be an object of string values, but '",
                   m.key(), "' is ", json_text(m.value()));
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    out.tensors.push_back(parse_entry(item.key(), item.value(), source));
  }

  std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t covered = 0;  // the data buffer is tiled exactly up to here
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& t : out.tensors) {
    TUNE_CHECK(t.begin >= covered, source, ": tensor '", t.name, "' (bytes [", t.begin, ", ", t.end,
               ")) overlaps tensor '", previous ? previous->name : "", "' (ending at ", covered, ")");
    TUNE_CHECK(t.begin == covered, source, ": data buffer bytes [", covered, ", ", t.begin,
               ") belong to no tensor (gap before tensor '", t.name, "')");
    covered = t.end;
    previous = &t;
  }
  TUNE_CHECK(covered <= out.buffer.size(), source, ": tensor '", previous ? previous->name : "", "' ends at byte ",
             covered, " of the data buffer but the buffer has only ", out.buffer.size(),
             " bytes; the file is truncated");
  TUNE_CHECK(covered == out.buffer.size(), source, ": the data buffer has ", out.buffer.size(),
             " bytes but the tensors cover only ", covered, "; unexpected trailing bytes at the end of the file");
  return out;
}

// Appends `s` as a JSON string literal escaped exactly like serde_json.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void check_utf8(std::string_view s, std::string_view what) {
  TUNE_CHECK(invalid_utf8_offset(s) == std::string_view::npos, "cannot write safetensors: ", what,
             " is not valid UTF-8 (byte ", invalid_utf8_offset(s), ")");
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  MappedFile mapped = map_file(path, "a .safetensors file");
  SafetensorsFile f;
  f.source_ = path.string();
  f.mapping_ = std::move(mapped.owner);
  ParsedFile parsed = parse_file(mapped.bytes, f.source_);
  f.buffer_ = parsed.buffer;
  f.tensors_ = std::move(parsed.tensors);
  f.metadata_ = std::move(parsed.metadata);
  return f;
}

SafetensorsFile SafetensorsFile::parse(std::span<const std::byte> bytes, std::string source) {
  MappedFile copy = copy_to_mapping(bytes);
  SafetensorsFile f;
  f.source_ = std::move(source);
  f.mapping_ = std::move(copy.owner);
  ParsedFile parsed = parse_file(copy.bytes, f.source_);
  f.buffer_ = parsed.buffer;
  f.tensors_ = std::move(parsed.tensors);
  f.metadata_ = std::move(parsed.metadata);
  return f;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  for (const TensorInfo& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorInfo& SafetensorsFile::get(std::string_view name) const {
  const TensorInfo* t = find(name);
  TUNE_CHECK(t, source_, ": no tensor named '", name, "' (the file has ", tensors_.size(), " tensors",
             tensors_.empty() ? "" : cat(", e.g. '", tensors_.front().name, "'"), ")");
  return *t;
}

std::span<const std::byte> SafetensorsFile::data(const TensorInfo& t) const {
  return buffer_.subspan(t.begin, t.end - t.begin);
}

Tensor SafetensorsFile::read_f32(std::string_view name, const Shape* expected_shape) const {
  const TensorInfo& t = get(name);
  TUNE_CHECK(!expected_shape || t.shape == *expected_shape, source_, ": tensor '", name, "' has shape ",
             shape_str(t.shape), ", expected ", shape_str(*expected_shape));
  Tensor out(t.shape);
  convert_to_f32(t.dtype, data(t).data(), out.ptr(), out.data.size());
  return out;
}

std::vector<std::byte> serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                             const std::map<std::string, std::string>& metadata) {
  std::set<std::string_view> names;
  for (const TensorToWrite& t : tensors) {
    const std::string what = cat("tensor '", t.name, "'");
    check_utf8(t.name, "the tensor name '" + t.name + "'");
    TUNE_CHECK(t.name != "__metadata__", "cannot write safetensors: '__metadata__' is reserved, rename the tensor");
    TUNE_CHECK(names.insert(t.name).second, "cannot write safetensors: two tensors are named '", t.name, "'");
    uint64_t numel = 1;
    for (const int64_t d : t.shape) {
      TUNE_CHECK(d >= 0, "cannot write safetensors: ", what, " has a negative dimension in ", shape_str(t.shape));
      TUNE_CHECK(d == 0 || numel <= std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d),
                 "cannot write safetensors: ", what, " shape ", shape_str(t.shape), " is too large");
      numel *= static_cast<uint64_t>(d);
    }
    TUNE_CHECK(numel <= t.data.size() && numel * dtype_size(t.dtype) == t.data.size(), "cannot write safetensors: ",
               what, " has ", t.data.size(), " bytes of data but ", dtype_name(t.dtype), " with shape ",
               shape_str(t.shape), " needs ", numel, " x ", dtype_size(t.dtype));
  }
  for (const auto& [key, value] : metadata) {
    check_utf8(key, "a __metadata__ key");
    check_utf8(value, "a __metadata__ value");
  }

  std::vector<const TensorToWrite*> order;
  for (const TensorToWrite& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
    const int ra = reference_dtype_rank(a->dtype), rb = reference_dtype_rank(b->dtype);
    return ra != rb ? ra > rb : a->name < b->name;
  });

  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {
      if (!first) header += ',';
      first = false;
      append_json_string(header, key);
      header += ':';
      append_json_string(header, value);
    }
    header += '}';
  }
  uint64_t offset = 0;
  for (const TensorToWrite* t : order) {
    if (header.size() > 1) header += ',';
    append_json_string(header, t->name);
    header += ":{\"dtype\":\"";
    header += dtype_name(t->dtype);
    header += "\",\"shape\":[";
    for (size_t i = 0; i < t->shape.size(); ++i) header += cat(i ? "," : "", t->shape[i]);
    header += cat("],\"data_offsets\":[", offset, ",", offset + t->data.size(), "]}");
    offset += t->data.size();
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');

  std::vector<std::byte> out;
  out.reserve(8 + header.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((header.size() >> (8 * i)) & 0xFF));
  for (const char c : header) out.push_back(static_cast<std::byte>(c));
  for (const TensorToWrite* t : order) out.insert(out.end(), t->data.begin(), t->data.end());
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<std::byte> bytes;
  try {
    bytes = serialize_safetensors(tensors, metadata);
  } catch (const Error& e) {
    fail(path.string(), ": ", e.what());
  }
  write_file_atomic(path, bytes);
}

void write_safetensors_f32(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors, DType dtype,
                           const std::map<std::string, std::string>& metadata) {
  std::vector<std::vector<std::byte>> storage;  // converted bytes, one buffer per tensor
  storage.reserve(tensors.size());
  std::vector<TensorToWrite> to_write;
  for (const NamedTensor& nt : tensors) {
    TUNE_CHECK(nt.tensor, path.string(), ": tensor '", nt.name, "' is null");
    const Tensor& t = *nt.tensor;
    TUNE_CHECK(shape_numel(t.shape) == t.numel(), path.string(), ": tensor '", nt.name, "' has shape ",
               shape_str(t.shape), " but ", t.numel(), " values");
    storage.emplace_back(t.data.size() * dtype_size(dtype));
    convert_from_f32(dtype, t.ptr(), storage.back().data(), t.data.size());
    to_write.push_back({nt.name, dtype, t.shape, storage.back()});
  }
  write_safetensors(path, to_write, metadata);
}

}  // namespace tune
