// Tests for the GGUF reader: a well-formed file read fully, every malformed case refused with one clear
// tune::Error, the typed getters, and the two real GGUF models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "gguf_bytes.h"
#include "io/gguf.h"
#include "kernels/cpu/dequant.h"
#include "real_gguf.h"

namespace tune {
namespace {

using test::GgufBytes;

constexpr uint32_t kF32 = 0, kQ4_0 = 2, kQ8_0 = 8;

// A small valid file: 3 metadata entries, a Q8_0 [32, 2] tensor and an F32 [3] tensor, data 32-aligned.
GgufBytes valid_file() {
  GgufBytes b;
  b.header(2, 3).kv_string("general.architecture", "llama").kv_u32("llama.block_count", 2);
  b.str("tokenizer.ggml.tokens").u32(9).u32(8).u64(2).str("<s>").str("hi");
  b.tensor_info("w", {32, 2}, kQ8_0, 0).tensor_info("v", {3}, kF32, 96);
  b.pad_to(32);
  for (int blk = 0; blk < 2; ++blk) {  // Q8_0 blocks: f16 scale 1.0, then 32 int8
    b.u8(0x00).u8(0x3C);
    for (int i = 0; i < 32; ++i) b.u8(static_cast<uint8_t>(i + blk));
  }
  b.pad_to(32);
  b.f32(1.5f).f32(-2.0f).f32(0.25f);
  return b;
}

std::string parse_error(const std::vector<std::byte>& bytes) {
  try {
    GgufFile::parse(bytes, "bad.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

void expect_rejected(const GgufBytes& b, const std::string& needle) {
  const std::string msg = parse_error(b.bytes);
  EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg << "\nexpected to contain: " << needle;
}

// A file with one metadata entry whose key and type are given, the value bytes written by `value`.
template <class F>
GgufBytes one_kv(uint32_t type, F value) {
  GgufBytes b;
  b.header(0, 1).str("k").u32(type);
  value(b);
  return b;
}

TEST(Gguf, ReadsAValidFile) {
  const GgufBytes b = valid_file();
  const GgufFile f = GgufFile::parse(b.bytes, "ok.gguf");
  EXPECT_EQ(f.source(), "ok.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.metadata().size(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 2);
  EXPECT_EQ(f.get_strings("tokenizer.ggml.tokens"), (std::vector<std::string>{"<s>", "hi"}));
  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensorInfo& w = f.tensor("w");
  EXPECT_EQ(w.type, GgmlType::Q8_0);
  EXPECT_EQ(w.ne, (std::vector<int64_t>{32, 2}));
  EXPECT_EQ(w.cols(), 32);
  EXPECT_EQ(w.rows(), 2);
  EXPECT_EQ(w.nbytes, 68u);
  const std::span<const std::byte> wd = f.data(w);
  ASSERT_EQ(wd.size(), 68u);
  EXPECT_EQ(std::to_integer<int>(wd[1]), 0x3C);
  EXPECT_EQ(std::to_integer<int>(wd[2 + 5]), 5);
  EXPECT_EQ(std::to_integer<int>(wd[34 + 2 + 5]), 6);
  const GgufTensorInfo& v = f.tensor("v");
  EXPECT_EQ(v.rows(), 1);
  float vals[3];
  std::memcpy(vals, f.data(v).data(), 12);
  EXPECT_EQ(vals[0], 1.5f);
  EXPECT_EQ(vals[1], -2.0f);
  EXPECT_EQ(vals[2], 0.25f);
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
  EXPECT_EQ(&f.tensors()[0], &w);  // file order
}

TEST(Gguf, DataOutlivesTheFileThroughTheMapping) {
  std::shared_ptr<const void> keep;
  std::span<const std::byte> span;
  {
    const GgufBytes b = valid_file();
    const GgufFile f = GgufFile::parse(b.bytes, "ok.gguf");
    keep = f.mapping();
    span = f.data(f.tensor("v"));
  }
  float first;
  std::memcpy(&first, span.data(), 4);
  EXPECT_EQ(first, 1.5f);
}

TEST(Gguf, ReadsVersion2) {
  GgufBytes b;
  b.header(0, 1, 2).kv_u32("a", 7);
  const GgufFile f = GgufFile::parse(b.bytes, "v2.gguf");
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.get_int("a"), 7);
}

TEST(Gguf, HonoursGeneralAlignment) {
  GgufBytes b;
  b.header(2, 1).kv_u32("general.alignment", 64);
  b.tensor_info("a", {1}, kF32, 0).tensor_info("b", {2}, kF32, 64);
  b.pad_to(64);
  EXPECT_EQ(b.bytes.size() % 64, 0u);
  b.f32(3.0f).zeros(60).f32(4.0f).f32(5.0f);
  const GgufFile f = GgufFile::parse(b.bytes, "a64.gguf");
  EXPECT_EQ(f.alignment(), 64u);
  float x;
  std::memcpy(&x, f.data(f.tensor("b")).data() + 4, 4);
  EXPECT_EQ(x, 5.0f);
  std::memcpy(&x, f.data(f.tensor("a")).data(), 4);
  EXPECT_EQ(x, 3.0f);

  GgufBytes misaligned;  // offset 32 is fine for the default alignment, not for 64
  misaligned.header(1, 1).kv_u32("general.alignment", 64).tensor_info("a", {1}, kF32, 32).pad_to(64).zeros(64);
  expect_rejected(misaligned, "data offset 32, which is not a multiple of the alignment 64");
}

TEST(Gguf, ReadsEveryScalarType) {
  GgufBytes b;
  b.header(0, 13);
  b.str("u8").u32(0).u8(200);
  b.str("i8").u32(1).u8(0xFF);
  b.str("u16").u32(2).u8(0x34).u8(0x12);
  b.str("i16").u32(3).u8(0xFE).u8(0xFF);
  b.str("u32").u32(4).u32(4000000000u);
  b.str("i32").u32(5).i32(-7);
  b.str("f32").u32(6).f32(0.5f);
  b.str("bool").u32(7).u8(1);
  b.str("str").u32(8).str("text");
  b.str("u64").u32(10).u64(1ull << 40);
  b.str("i64").u32(11).u64(static_cast<uint64_t>(-5ll));
  const double d = -1.25;
  b.str("f64").u32(12).raw(&d, 8);
  b.str("big").u32(10).u64(~0ull);
  const GgufFile f = GgufFile::parse(b.bytes, "s.gguf");
  EXPECT_EQ(f.get_int("u8"), 200);
  EXPECT_EQ(f.get_int("i8"), -1);
  EXPECT_EQ(f.get_int("u16"), 0x1234);
  EXPECT_EQ(f.get_int("i16"), -2);
  EXPECT_EQ(f.get_int("u32"), 4000000000ll);
  EXPECT_EQ(f.get_int("i32"), -7);
  EXPECT_EQ(f.get_float("f32"), 0.5);
  EXPECT_EQ(f.get_bool_or("bool"), true);
  EXPECT_EQ(f.get_string("str"), "text");
  EXPECT_EQ(f.get_int("u64"), 1ll << 40);
  EXPECT_EQ(f.get_int("i64"), -5);
  EXPECT_EQ(f.get_float("f64"), -1.25);
  EXPECT_EQ(f.find("u32")->type, GgufValueType::U32);
  EXPECT_EQ(std::get<uint64_t>(f.find("big")->scalar), ~0ull);
}

TEST(Gguf, GettersNameTheKeyAndTheType) {
  const GgufBytes b = valid_file();
  const GgufFile f = GgufFile::parse(b.bytes, "ok.gguf");
  auto error_of = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error>";
  };
  EXPECT_EQ(f.get_string_or("missing"), std::nullopt);
  EXPECT_EQ(f.get_int_or("missing"), std::nullopt);
  EXPECT_EQ(f.get_float_or("missing"), std::nullopt);
  EXPECT_EQ(f.get_bool_or("missing"), std::nullopt);
  EXPECT_EQ(f.get_int_or("llama.block_count"), 2);
  std::string msg = error_of([&] { f.get_int("llama.head_count"); });
  EXPECT_NE(msg.find("ok.gguf: GGUF metadata has no key 'llama.head_count'"), std::string::npos) << msg;
  msg = error_of([&] { f.get_int("general.architecture"); });
  EXPECT_NE(msg.find("'general.architecture' is STRING, expected an integer"), std::string::npos) << msg;
  msg = error_of([&] { f.get_float_or("llama.block_count"); });
  EXPECT_NE(msg.find("'llama.block_count' is U32, expected F32 or F64"), std::string::npos) << msg;
  msg = error_of([&] { f.get_ints("tokenizer.ggml.tokens"); });
  EXPECT_NE(msg.find("is ARRAY of STRING, expected ARRAY of integers"), std::string::npos) << msg;
  msg = error_of([&] { f.get_strings("llama.block_count"); });
  EXPECT_NE(msg.find("is U32, expected ARRAY of STRING"), std::string::npos) << msg;
  msg = error_of([&] { f.tensor("nope"); });
  EXPECT_NE(msg.find("no tensor named 'nope' (the file has 2 tensors, e.g. 'w')"), std::string::npos) << msg;

  GgufBytes big;
  big.header(0, 1).str("n").u32(10).u64(~0ull);
  const GgufFile g = GgufFile::parse(big.bytes, "big.gguf");
  msg = error_of([&] { g.get_int("n"); });
  EXPECT_NE(msg.find("too large for a signed 64-bit integer"), std::string::npos) << msg;
}

TEST(Gguf, ReadsArraysOfEveryElementType) {
  GgufBytes b;
  b.header(0, 4);
  b.str("ints").u32(9).u32(5).u64(3).i32(-1).i32(0).i32(70000);
  b.str("bytes").u32(9).u32(0).u64(2).u8(255).u8(1);
  b.str("floats").u32(9).u32(6).u64(2).f32(0.5f).f32(-3.0f);
  b.str("bools").u32(9).u32(7).u64(2).u8(0).u8(1);
  const GgufFile f = GgufFile::parse(b.bytes, "a.gguf");
  EXPECT_EQ(f.get_ints("ints"), (std::vector<int64_t>{-1, 0, 70000}));
  EXPECT_EQ(f.get_ints("bytes"), (std::vector<int64_t>{255, 1}));
  EXPECT_EQ(f.get_floats("floats"), (std::vector<double>{0.5, -3.0}));
  EXPECT_EQ(f.find("bools")->elem_type, GgufValueType::BOOL);
  EXPECT_EQ(f.find("bools")->ints, (std::vector<int64_t>{0, 1}));
}

TEST(Gguf, RefusesBadMagicAndVersions) {
  GgufBytes magic;
  magic.raw("GGML", 4).u32(3).u64(0).u64(0);
  expect_rejected(magic, "not a GGUF file");
  for (const uint32_t version : {1u, 4u}) {
    GgufBytes b;
    b.header(0, 0, version);
    expect_rejected(b, cat("GGUF version ", version, " is not supported"));
  }
  GgufBytes big_endian;
  big_endian.header(0, 0, 0x03000000);
  expect_rejected(big_endian, "big-endian");
  expect_rejected(GgufBytes().raw("GG", 2), "too few for a GGUF header");
}

// Every cut of a valid file before its last data byte is refused, whichever field the cut lands in.
TEST(Gguf, RefusesTheFileTruncatedAnywhere) {
  const GgufBytes full = valid_file();
  for (size_t n = 0; n < full.bytes.size(); ++n) {
    GgufBytes cut;
    cut.bytes.assign(full.bytes.begin(), full.bytes.begin() + static_cast<ptrdiff_t>(n));
    const std::string msg = parse_error(cut.bytes);
    EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << "cut at " << n << ": " << msg;
    const bool says_truncated = msg.find("truncated") != std::string::npos;
    EXPECT_TRUE(says_truncated) << "cut at " << n << ": " << msg;
  }
}

TEST(Gguf, RefusesBadStringsAndValues) {
  GgufBytes long_key;
  long_key.header(0, 1).u64(1000).raw("abc", 3).zeros(10);
  expect_rejected(long_key, "the key of metadata entry 0 at byte 24 has length 1000 but only 13 bytes remain");
  expect_rejected(one_kv(8, [](GgufBytes& b) { b.u64(1ull << 62).raw("x", 1); }),
                  "the value of metadata key 'k' at byte 37 has length 4611686018427387904");
  expect_rejected(one_kv(13, [](GgufBytes& b) { b.u32(0); }), "metadata key 'k' has unknown value type 13");
  expect_rejected(one_kv(7, [](GgufBytes& b) { b.u8(2); }), "is a BOOL stored as byte 2 (must be 0 or 1)");
  expect_rejected(one_kv(9, [](GgufBytes& b) { b.u32(9).u64(1).u32(4).u64(0); }), "is an array of arrays");
  expect_rejected(one_kv(9, [](GgufBytes& b) { b.u32(42).u64(0); }), "array with unknown element type 42");
  expect_rejected(one_kv(9, [](GgufBytes& b) { b.u32(8).u64(1ull << 60); }),
                  "is an array of 1152921504606846976 STRING values, which cannot fit");
  expect_rejected(one_kv(9, [](GgufBytes& b) { b.u32(10).u64(1).u64(~0ull); }),
                  "element 0 of metadata key 'k' = 18446744073709551615 does not fit a signed 64-bit integer");
  expect_rejected(one_kv(9, [](GgufBytes& b) { b.u32(8).u64(2).str("a").u64(5).raw("b", 1); }),
                  "element 1 of metadata key 'k'");
  GgufBytes dup;
  dup.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
  expect_rejected(dup, "metadata key 'a.b' appears twice");
}

TEST(Gguf, RefusesCountsTheFileCannotHold) {
  GgufBytes kvs;
  kvs.header(0, 1ull << 40).kv_u32("a", 1);
  expect_rejected(kvs, "declares 1099511627776 metadata entries, which cannot fit");
  GgufBytes tensors;
  tensors.header(1ull << 40, 0).tensor_info("a", {1}, kF32, 0);
  expect_rejected(tensors, "declares 1099511627776 tensors, which cannot fit");
}

TEST(Gguf, RefusesBadAlignment) {
  GgufBytes three;
  three.header(0, 1).kv_u32("general.alignment", 3);
  expect_rejected(three, "general.alignment = 3 is not a power of 2");
  GgufBytes zero;
  zero.header(0, 1).kv_u32("general.alignment", 0);
  expect_rejected(zero, "general.alignment = 0 is not a power of 2");
  GgufBytes typed;
  typed.header(0, 1).str("general.alignment").u32(5).i32(32);
  expect_rejected(typed, "general.alignment is a I32, but GGUF stores it as a U32");
}

TEST(Gguf, RefusesBadTensorInfos) {
  auto one_tensor = [](const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset) {
    GgufBytes b;
    b.header(1, 0).tensor_info("t", ne, type, offset).pad_to(32).zeros(64);
    return b;
  };
  expect_rejected(one_tensor({}, kF32, 0), "tensor 't' has 0 dimensions (GGUF tensors have 1 to 4)");
  expect_rejected(one_tensor({1, 1, 1, 1, 1}, kF32, 0), "tensor 't' has 5 dimensions");
  expect_rejected(one_tensor({4}, 16, 0), "tensor 't' has ggml type 16 (IQ2_XXS), which tune.cpp does not read");
  expect_rejected(one_tensor({4}, 99, 0), "ggml type 99 (unknown)");
  expect_rejected(one_tensor({33}, kQ4_0, 0), "tensor 't' has ne[0] = 33, which is not a multiple of the Q4_0 block");
  expect_rejected(one_tensor({4}, kF32, 4), "data offset 4, which is not a multiple of the alignment 32");
  expect_rejected(one_tensor({17}, kF32, 0), "runs past the end of the file");
  expect_rejected(one_tensor({4}, kF32, 64), "runs past the end of the file");
  expect_rejected(one_tensor({1ull << 40, 1ull << 40}, kF32, 0), "element count overflow");
  expect_rejected(one_tensor({0, 1ull << 40, 1ull << 40}, kF32, 0), "element count overflow");
  expect_rejected(one_tensor({1ull << 63}, kF32, 0), "element count overflow");
  expect_rejected(one_tensor({1ull << 62}, kF32, 0), "overflows 64 bits");
  expect_rejected(one_tensor({1ull << 61}, kF32, 0), "runs past the end of the file");

  GgufBytes dup;
  dup.header(2, 0).tensor_info("t", {1}, kF32, 0).tensor_info("t", {1}, kF32, 32).pad_to(32).zeros(64);
  expect_rejected(dup, "tensor 't' appears twice");
  GgufBytes overlap;
  overlap.header(2, 0).tensor_info("a", {16}, kF32, 0).tensor_info("b", {8}, kF32, 32).pad_to(32).zeros(96);
  expect_rejected(overlap, "tensor 'b' data (bytes [32, 64)) overlaps tensor 'a' (bytes [0, 64))");
  GgufBytes same;
  same.header(2, 0).tensor_info("b", {8}, kF32, 0).tensor_info("a", {8}, kF32, 0).pad_to(32).zeros(32);
  expect_rejected(same, "overlaps tensor");
}

TEST(Gguf, AcceptsEmptyTensorsAndTrailingBytes) {
  GgufBytes b;
  b.header(2, 0).tensor_info("e", {0, 5}, kQ4_0, 0).tensor_info("x", {2}, kF32, 0).pad_to(32).f32(1).f32(2).zeros(9);
  const GgufFile f = GgufFile::parse(b.bytes, "e.gguf");
  EXPECT_EQ(f.tensor("e").nbytes, 0u);
  EXPECT_EQ(f.tensor("e").rows(), 5);
  EXPECT_EQ(f.data(f.tensor("x")).size(), 8u);
}

TEST(Gguf, OpenNamesTheFileWhenItCannot) {
  try {
    GgufFile::open("/nonexistent/m.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open /nonexistent/m.gguf"), std::string::npos) << e.what();
  }
  try {
    GgufFile::open("/tmp");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("it is a folder, expected a .gguf file"), std::string::npos) << e.what();
  }
}

const std::string kData = std::string(TUNE_TEST_DATA) + "/gguf/";

nlohmann::json fixture(const std::string& name) { return nlohmann::json::parse(read_text_file(kData + name)); }

// gguf-py's GGUFValueType names, in the order of their numbers.
GgufValueType value_type_named(const std::string& name) {
  static const std::vector<std::string> kNames = {"UINT8", "INT8",   "UINT16", "INT16",  "UINT32", "INT32", "FLOAT32",
                                                  "BOOL",  "STRING", "ARRAY",  "UINT64", "INT64",  "FLOAT64"};
  const auto it = std::find(kNames.begin(), kNames.end(), name);
  EXPECT_NE(it, kNames.end()) << name;
  return static_cast<GgufValueType>(it - kNames.begin());
}

// One metadata value against gguf-py's reading of it ({type, elem_type?, value}).
void expect_value(const GgufFile& f, const std::string& key, const nlohmann::json& want) {
  SCOPED_TRACE(key);
  const GgufValue* v = f.find(key);
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->type, value_type_named(want["type"]));
  const nlohmann::json& value = want["value"];
  if (v->type == GgufValueType::ARRAY) {
    const GgufValueType elem = value_type_named(want["elem_type"]);
    ASSERT_EQ(v->elem_type, elem);
    if (elem == GgufValueType::STRING) {
      EXPECT_EQ(v->strings, value.get<std::vector<std::string>>());
    } else if (elem == GgufValueType::F32 || elem == GgufValueType::F64) {
      EXPECT_EQ(v->floats, value.get<std::vector<double>>());
    } else if (elem == GgufValueType::BOOL) {
      std::vector<int64_t> bools;
      for (const bool b : value.get<std::vector<bool>>()) bools.push_back(b ? 1 : 0);
      EXPECT_EQ(v->ints, bools);
    } else {
      EXPECT_EQ(v->ints, value.get<std::vector<int64_t>>());
    }
  } else if (v->type == GgufValueType::STRING) {
    EXPECT_EQ(f.get_string(key), value.get<std::string>());
  } else if (v->type == GgufValueType::BOOL) {
    EXPECT_EQ(f.get_bool_or(key), value.get<bool>());
  } else if (v->type == GgufValueType::F32 || v->type == GgufValueType::F64) {
    EXPECT_EQ(f.get_float(key), value.get<double>());
  } else if (value.is_number_unsigned()) {
    EXPECT_EQ(std::get<uint64_t>(v->scalar), value.get<uint64_t>());
  } else {
    EXPECT_EQ(f.get_int(key), value.get<int64_t>());
  }
}

// Every element of tensor `t` dequantized, row by row (ggml rows are ne[0] contiguous elements).
template <class F>
void for_each_value(const GgufFile& f, const GgufTensorInfo& t, F visit) {
  const std::span<const std::byte> data = f.data(t);
  const int64_t row_bytes = ggml_row_bytes(t.type, t.cols());
  std::vector<float> row(static_cast<size_t>(t.cols()));  // [ne0]
  for (int64_t r = 0; r < t.rows(); ++r) {
    cpu::dequantize_row(t.type, reinterpret_cast<const uint8_t*>(data.data()) + r * row_bytes, row.data(), t.cols());
    for (int64_t c = 0; c < t.cols(); ++c) visit(r * t.cols() + c, row[static_cast<size_t>(c)]);
  }
}

// The file gguf.GGUFWriter wrote (every value type, alignment 64, six tensor types) reads as gguf.GGUFReader reads it.
TEST(Gguf, ReadsTheFileGgufPyWrote) {
  const nlohmann::json want = fixture("python_written.json");
  const GgufFile f = GgufFile::open(kData + "python_written.gguf");
  EXPECT_EQ(f.version(), want["version"].get<uint32_t>());
  EXPECT_EQ(f.alignment(), want["alignment"].get<uint64_t>());
  EXPECT_EQ(f.alignment(), 64u);
  ASSERT_EQ(f.metadata().size(), want["metadata"].size());
  for (const auto& [key, value] : want["metadata"].items()) expect_value(f, key, value);
  ASSERT_EQ(f.tensors().size(), want["tensors"].size());
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const nlohmann::json& w = want["tensors"][i];
    const GgufTensorInfo& t = f.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, w["name"].get<std::string>());
    EXPECT_EQ(ggml_type_info(t.type).name, w["type"].get<std::string>());
    EXPECT_EQ(t.ne, w["ne"].get<std::vector<int64_t>>());
    EXPECT_EQ(t.offset, w["offset"].get<uint64_t>());
    EXPECT_EQ(t.nbytes, w["nbytes"].get<uint64_t>());
    const std::vector<double> values = w["values"].get<std::vector<double>>();
    ASSERT_EQ(static_cast<int64_t>(values.size()), t.rows() * t.cols());
    for_each_value(f, t, [&](int64_t k, float x) { EXPECT_EQ(x, values[static_cast<size_t>(k)]) << "element " << k; });
  }
}

std::map<std::string, int> type_counts(const GgufFile& f) {
  std::map<std::string, int> counts;
  for (const GgufTensorInfo& t : f.tensors()) ++counts[std::string(ggml_type_info(t.type).name)];
  return counts;
}

// A real model against what gguf-py reads from it: metadata, vocab lengths, tensor types, and for tensors of each
// type the sequential float64 sum of the dequantized values and sampled elements.
void expect_real_file(const std::filesystem::path& path, const std::string& file) {
  const nlohmann::json want = fixture("real_gguf.json")[file];
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.version(), 3u);
  for (const auto& [key, value] : want["metadata"].items()) expect_value(f, key, value);
  for (const auto& [key, length] : want["array_lengths"].items()) {
    const GgufValue* v = f.find(key);
    ASSERT_NE(v, nullptr) << key;
    EXPECT_EQ(v->strings.size() + v->ints.size() + v->floats.size(), length.get<size_t>()) << key;
  }
  EXPECT_EQ(f.tensors().size(), want["tensor_count"].get<size_t>());
  const auto want_counts = want["type_counts"].get<std::map<std::string, int>>();
  EXPECT_EQ(type_counts(f), want_counts);
  std::set<std::string> types_checked;
  for (const nlohmann::json& w : want["tensors"]) {
    const GgufTensorInfo& t = f.tensor(w["name"].get<std::string>());
    SCOPED_TRACE(t.name);
    EXPECT_EQ(ggml_type_info(t.type).name, w["type"].get<std::string>());
    EXPECT_EQ(t.ne, w["ne"].get<std::vector<int64_t>>());
    std::map<int64_t, double> samples;
    for (const nlohmann::json& s : w["samples"]) samples[s[0].get<int64_t>()] = s[1].get<double>();
    double sum = 0;
    size_t seen = 0;
    for_each_value(f, t, [&](int64_t k, float x) {
      sum += x;
      const auto it = samples.find(k);
      if (it != samples.end()) {
        EXPECT_EQ(x, it->second) << "element " << k;
        ++seen;
      }
    });
    EXPECT_EQ(seen, samples.size());
    EXPECT_EQ(sum, w["sum"].get<double>());
    types_checked.insert(w["type"].get<std::string>());
  }
  EXPECT_GE(types_checked.size(), 3u);
}

TEST(GgufReal, SmolLM2) {
  TUNE_REAL_GGUF(path, test::kSmolLM2Gguf);
  expect_real_file(path, test::kSmolLM2Gguf);
  const GgufFile f = GgufFile::open(path);  // a few facts spelled out, as the model loader relies on them
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 30);
  EXPECT_EQ(f.get_float("llama.attention.layer_norm_rms_epsilon"), static_cast<double>(1e-5f));
  EXPECT_EQ(f.get_bool_or("tokenizer.ggml.add_bos_token"), false);
  EXPECT_EQ(f.get_strings("tokenizer.ggml.merges").size(), 48900u);
  EXPECT_EQ(f.tensor("token_embd.weight").ne, (std::vector<int64_t>{576, 49152}));
}

TEST(GgufReal, Gemma3) {
  TUNE_REAL_GGUF(path, test::kGemma3Gguf);
  expect_real_file(path, test::kGemma3Gguf);
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.get_string("general.architecture"), "gemma3");
  EXPECT_EQ(f.get_int("gemma3.attention.sliding_window"), 512);
  EXPECT_EQ(f.get_floats("tokenizer.ggml.scores").size(), 262144u);
}

}  // namespace
}  // namespace tune
