// Tests for the safetensors reader's validation, the writer's reference byte layout, and round trips.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "io/safetensors.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> to_bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

// 8-byte little-endian length (the header's size unless overridden), the header, then `data`.
std::vector<std::byte> make_file(std::string_view header, std::string_view data = "",
                                 std::optional<uint64_t> length = std::nullopt) {
  const uint64_t n = length.value_or(header.size());
  std::string raw;
  for (int i = 0; i < 8; ++i) raw += static_cast<char>((n >> (8 * i)) & 0xFF);
  raw += header;
  raw += data;
  return to_bytes(raw);
}

std::string parse_error(const std::vector<std::byte>& bytes) {
  try {
    SafetensorsFile::parse(bytes, "bad.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

// Expects parsing to fail with a message naming the source and containing `needle`.
void expect_rejected(const std::vector<std::byte>& bytes, const std::string& needle) {
  const std::string msg = parse_error(bytes);
  EXPECT_NE(msg.find("bad.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg << "\nexpected to contain: " << needle;
}

void expect_header_rejected(std::string_view header, std::string_view data, const std::string& needle) {
  expect_rejected(make_file(header, data), needle);
}

template <class T>
std::span<const std::byte> bytes_of(const std::vector<T>& v) {
  return std::as_bytes(std::span<const T>(v));
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("tune_test_safetensors_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// ---- writer ----

// The exact bytes Python `safetensors.torch.save` (0.8.0) produces for this set of tensors, including a scalar, an
// empty tensor, and a name that needs JSON escaping: dtype-descending order, name ties ascending, space padding.
TEST(SafetensorsWriter, MatchesReferenceBytes) {
  const std::vector<int64_t> s = {7};
  const std::vector<float> a = {1.0f, 2.0f};
  const std::vector<uint16_t> b = {0x3F80, 0xC020};
  const std::vector<uint8_t> u = {1, 2, 3};
  const std::vector<uint8_t> q = {1};
  const std::string odd_name = "q\"\\\n\x01\xC3\xA9";
  const std::vector<TensorToWrite> tensors = {
      {"b", DType::BF16, {2}, bytes_of(b)},
      {"a", DType::F32, {1, 2}, bytes_of(a)},
      {"s", DType::I64, {}, bytes_of(s)},
      {"e", DType::F16, {0, 3}, {}},
      {"u", DType::U8, {3}, bytes_of(u)},
      {odd_name, DType::BOOL, {1}, bytes_of(q)},
  };
  const std::vector<std::byte> out = serialize_safetensors(tensors);

  const std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[8,16]},"
      "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[16,20]},"
      "\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[20,20]},"
      "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[20,23]},"
      "\"q\\\"\\\\\\n\\u0001\xC3\xA9\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[23,24]}}       ";
  ASSERT_EQ(header.size(), 0x180u);
  std::string data;
  data.append(reinterpret_cast<const char*>(s.data()), 8);
  data.append(reinterpret_cast<const char*>(a.data()), 8);
  data.append(reinterpret_cast<const char*>(b.data()), 4);
  data.append(reinterpret_cast<const char*>(u.data()), 3);
  data += '\x01';
  EXPECT_EQ(out, make_file(header, data));
  EXPECT_EQ(out.size(), 416u);
}

TEST(SafetensorsWriter, TinyHeaderIsAlignedAndHasMetadata) {
  const std::vector<float> x = {0.5f};
  const std::vector<std::byte> out = serialize_safetensors({{"x", DType::F32, {1}, bytes_of(x)}});
  const std::string expected =
      "{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  const std::string padded = expected + std::string((8 - expected.size() % 8) % 8, ' ');
  EXPECT_EQ(out, make_file(padded, std::string_view(reinterpret_cast<const char*>(x.data()), 4)));
  EXPECT_EQ((out.size() - 4) % 8, 0u);

  const SafetensorsFile f = SafetensorsFile::parse(out, "tiny");
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
}

TEST(SafetensorsWriter, NoTensorsAndCustomMetadata) {
  EXPECT_EQ(serialize_safetensors({}, {}), make_file("{}      "));
  const std::vector<std::byte> out = serialize_safetensors({}, {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(out, make_file("{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"}}      "));
  const SafetensorsFile f = SafetensorsFile::parse(out, "m");
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.metadata().at("b"), "2");
}

TEST(SafetensorsWriter, RejectsInconsistentTensors) {
  const std::vector<float> x = {1.0f, 2.0f};
  auto error_of = [](const std::vector<TensorToWrite>& t) -> std::string {
    try {
      serialize_safetensors(t);
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error>";
  };
  EXPECT_NE(error_of({{"x", DType::F32, {3}, bytes_of(x)}}).find("tensor 'x' has 8 bytes"), std::string::npos);
  EXPECT_NE(error_of({{"x", DType::F32, {2}, bytes_of(x)}, {"x", DType::F32, {2}, bytes_of(x)}}).find("two tensors"),
            std::string::npos);
  EXPECT_NE(error_of({{"x", DType::F32, {-2}, bytes_of(x)}}).find("negative"), std::string::npos);
  EXPECT_NE(error_of({{"__metadata__", DType::F32, {2}, bytes_of(x)}}).find("reserved"), std::string::npos);
  EXPECT_NE(error_of({{"bad\xFF", DType::F32, {2}, bytes_of(x)}}).find("UTF-8"), std::string::npos);
}

// ---- round trips ----

TEST(Safetensors, RoundTripSeveralDtypes) {
  TempDir dir;
  const fs::path path = dir.path() / "t.safetensors";
  Tensor w({2, 3});
  for (int i = 0; i < 6; ++i) w.data[i] = 0.25f * static_cast<float>(i) - 0.5f;
  Tensor scalar(Shape{});
  scalar.data[0] = -3.0f;
  Tensor empty({0, 4});
  for (const DType dt : {DType::F32, DType::BF16, DType::F16, DType::F64, DType::F8_E4M3, DType::F8_E5M2}) {
    write_safetensors_f32(path, {{"w", &w}, {"scalar", &scalar}, {"empty", &empty}}, dt);
    const SafetensorsFile f = SafetensorsFile::open(path);
    EXPECT_EQ(f.source(), path.string());
    ASSERT_EQ(f.tensors().size(), 3u);
    EXPECT_EQ(f.get("w").dtype, dt);
    const Shape ws = {2, 3};
    EXPECT_EQ(f.read_f32("w", &ws).data, w.data) << dtype_name(dt);
    const Tensor s = f.read_f32("scalar");
    EXPECT_TRUE(s.shape.empty());
    EXPECT_EQ(s.data, std::vector<float>{-3.0f});
    const Tensor e = f.read_f32("empty");
    EXPECT_EQ(e.shape, (Shape{0, 4}));
    EXPECT_TRUE(e.data.empty());
    EXPECT_EQ(f.data(f.get("empty")).size(), 0u);
    EXPECT_EQ(f.metadata().at("format"), "pt");
  }
  // Integers and bool keep integral values.
  Tensor ints({4});
  ints.data = {0.0f, 1.0f, 2.0f, 100.0f};
  for (const DType dt : {DType::U8, DType::I8, DType::I16, DType::U16, DType::I32, DType::U32, DType::I64,
                         DType::U64}) {
    write_safetensors_f32(path, {{"i", &ints}}, dt);
    EXPECT_EQ(SafetensorsFile::open(path).read_f32("i").data, ints.data) << dtype_name(dt);
  }
  write_safetensors_f32(path, {{"i", &ints}}, DType::BOOL);
  EXPECT_EQ(SafetensorsFile::open(path).read_f32("i").data, (std::vector<float>{0, 1, 1, 1}));
}

TEST(Safetensors, Bf16RoundingOnWrite) {
  TempDir dir;
  const fs::path path = dir.path() / "r.safetensors";
  Tensor t({2});
  t.data = {1.00390625f, 1.01171875f};  // 1 + 2^-8 (tie -> 1.0), 1 + 3 * 2^-8 (tie -> 1 + 2^-6)
  write_safetensors_f32(path, {{"t", &t}}, DType::BF16);
  const SafetensorsFile f = SafetensorsFile::open(path);
  const std::span<const std::byte> raw = f.data(f.get("t"));
  ASSERT_EQ(raw.size(), 4u);
  uint16_t bits[2];
  std::memcpy(bits, raw.data(), 4);
  EXPECT_EQ(bits[0], 0x3F80);
  EXPECT_EQ(bits[1], 0x3F82);
}

TEST(Safetensors, ReaderAcceptsAnyOrderUnalignedHeaderAndTrailingSpaces) {
  // Tensors listed out of offset order, a header length that is not a multiple of 8, trailing spaces.
  const std::string header =
      "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]},"
      "\"a\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,2]}}   ";
  std::string data;
  const uint16_t a = 0xC020;
  const float b = 7.5f;
  data.append(reinterpret_cast<const char*>(&a), 2);
  data.append(reinterpret_cast<const char*>(&b), 4);
  const SafetensorsFile f = SafetensorsFile::parse(make_file(header, data), "mem");
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[0].name, "a");
  EXPECT_EQ(f.tensors()[1].name, "b");
  EXPECT_EQ(f.read_f32("a").data, std::vector<float>{-2.5f});
  EXPECT_EQ(f.read_f32("b").data, std::vector<float>{7.5f});
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_EQ(f.find("zzz"), nullptr);
  EXPECT_EQ(f.find("b")->begin, 2u);
}

TEST(Safetensors, ReadF32ShapeMismatchAndMissingTensor) {
  const std::vector<float> x(6, 1.0f);
  const SafetensorsFile f = SafetensorsFile::parse(serialize_safetensors({{"x", DType::F32, {2, 3}, bytes_of(x)}}),
                                                   "w.safetensors");
  const Shape expected = {3, 2};
  try {
    f.read_f32("x", &expected);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "w.safetensors: tensor 'x' has shape [2, 3], expected [3, 2]");
  }
  try {
    f.get("y");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no tensor named 'y'"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, OpenMissingFileOrFolder) {
  TempDir dir;
  try {
    SafetensorsFile::open(dir.path() / "nope.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.safetensors"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SafetensorsFile::open(dir.path()), Error);
}

// ---- malformed files: one test per rule ----

const std::string kEntryA = "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
const std::string kDataA("\x00\x00\x80\x3F", 4);  // 1.0f

TEST(SafetensorsMalformed, ShorterThan8Bytes) { expect_rejected(to_bytes("abc"), "only 3 bytes"); }

TEST(SafetensorsMalformed, EmptyFile) { expect_rejected({}, "only 0 bytes"); }

TEST(SafetensorsMalformed, HeaderLengthZero) { expect_rejected(make_file("", "xxxx"), "header length is 0"); }

TEST(SafetensorsMalformed, HeaderTooLarge) {
  expect_rejected(make_file("{}", "", 100'000'001), "exceeds the 100,000,000-byte limit");
  expect_rejected(make_file("{}", "", std::numeric_limits<uint64_t>::max()), "exceeds");
}

TEST(SafetensorsMalformed, HeaderBeyondEof) { expect_rejected(make_file("{}", "", 50), "runs past the end"); }

TEST(SafetensorsMalformed, HeaderNotUtf8) {
  expect_header_rejected("{\"a\xFF\":1}", "", "not valid UTF-8");
  expect_header_rejected("{\"\xED\xA0\x80\":1}", "", "not valid UTF-8");  // encoded surrogate
  expect_header_rejected("{\"\xC0\xAF\":1}", "", "not valid UTF-8");      // overlong
}

TEST(SafetensorsMalformed, HeaderNotJson) {
  expect_header_rejected("{\"a\":", "", "not valid JSON");
  expect_header_rejected("{} x", "", "not valid JSON");
  expect_header_rejected("{\"a\":1e400}", "", "not valid JSON");  // nlohmann reports this as out_of_range
}

TEST(SafetensorsMalformed, HeaderPaddedWithNul) {
  expect_header_rejected(std::string("{}\0\0\0\0\0\0", 8), "", "contains a NUL byte at header offset 2");
}

TEST(SafetensorsMalformed, HeaderNotStartingWithBrace) {
  expect_header_rejected(" {}", "", "must be a JSON object starting with '{'");
  // A JSON array (or any non-object top level) fails the same check.
  expect_header_rejected("[1]", "", "must be a JSON object starting with '{'");
}

TEST(SafetensorsMalformed, DuplicateKeys) {
  expect_header_rejected("{" + kEntryA + "," + kEntryA + "}", kDataA, "duplicate key 'a'");
  expect_header_rejected("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", "", "duplicate key 'k'");
  expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", kDataA,
                         "duplicate key 'dtype'");
}

TEST(SafetensorsMalformed, MetadataNotObjectOfStrings) {
  expect_header_rejected("{\"__metadata__\":\"pt\"}", "", "__metadata__ must be an object of string values");
  expect_header_rejected("{\"__metadata__\":{\"format\":1}}", "", "'format' is 1");
}

TEST(SafetensorsMalformed, EntryNotObject) {
  expect_header_rejected("{\"a\":[1,2]}", "", "tensor 'a': header entry must be an object");
}

TEST(SafetensorsMalformed, EntryMissingField) {
  expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", kDataA, "missing the field 'data_offsets'");
  expect_header_rejected("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", kDataA, "missing the field 'dtype'");
}

TEST(SafetensorsMalformed, EntryExtraField) {
  expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":0}}", kDataA,
                         "unexpected field 'x'");
}

TEST(SafetensorsMalformed, UnknownDtype) {
  expect_header_rejected("{\"a\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", kDataA,
                         "unknown dtype 'F17'");
  expect_header_rejected("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", kDataA,
                         "dtype must be a string");
}

TEST(SafetensorsMalformed, ShapeNotNonNegativeIntegers) {
  for (const std::string shape : {"[-1]", "[1.0]", "[\"1\"]", "1", "[[1]]", "[18446744073709551616]"})
    expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[0,4]}}", kDataA,
                           "shape must be a list of non-negative integers");
}

TEST(SafetensorsMalformed, ShapeOverflow) {
  expect_header_rejected(
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", kDataA,
      "element count overflows");
  expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807],\"data_offsets\":[0,4]}}",
                         kDataA, "byte count overflows");
  expect_header_rejected("{\"a\":{\"dtype\":\"U8\",\"shape\":[9223372036854775808,0],\"data_offsets\":[0,0]}}", "",
                         "element count overflows");
}

TEST(SafetensorsMalformed, DataOffsetsNotTwoNonNegativeIntegers) {
  for (const std::string off : {"[0]", "[0,4,8]", "[-1,3]", "[0,4.0]", "{}", "[0,\"4\"]"})
    expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":" + off + "}}", kDataA,
                           "data_offsets must be two non-negative integers");
}

TEST(SafetensorsMalformed, DataOffsetsBeginAfterEnd) {
  expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", kDataA,
                         "has begin > end");
}

TEST(SafetensorsMalformed, SizeMismatch) {
  expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", kDataA,
                         "span 4 bytes but F32 with shape [2] needs 8");
}

TEST(SafetensorsMalformed, GapBetweenTensors) {
  expect_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", kDataA + kDataA,
                         "bytes [0, 4) belong to no tensor");
}

TEST(SafetensorsMalformed, OverlappingTensors) {
  expect_header_rejected("{" + kEntryA + ",\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[2,4]}}", kDataA,
                         "overlaps tensor 'a'");
}

TEST(SafetensorsMalformed, TrailingBytesAfterLastTensor) {
  expect_header_rejected("{" + kEntryA + "}", kDataA + "xx", "tensors cover only 4");
  expect_header_rejected("{}", "x", "tensors cover only 0");
}

TEST(SafetensorsMalformed, TruncatedData) {
  expect_header_rejected("{" + kEntryA + "}", kDataA.substr(0, 3), "the file is truncated");
}

}  // namespace
}  // namespace tune
