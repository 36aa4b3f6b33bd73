// Tests for the GGUF writer: gguf-py's own file rewritten byte for byte, writer -> reader round trips, atomic
// writes, and the validation that keeps it from writing a file the reader would refuse.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(TUNE_TEST_DATA) + "/gguf/";

std::string serialize_error(const GgufWriter& w) {
  try {
    w.serialize();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

void expect_refused(const GgufWriter& w, const std::string& needle) {
  const std::string msg = serialize_error(w);
  EXPECT_NE(msg.find("cannot write GGUF"), std::string::npos) << msg;
  EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg << "\nexpected to contain: " << needle;
}

GgufValue int_value(GgufValueType type, int64_t v) {
  GgufValue g;
  g.type = type;
  g.scalar = v;
  return g;
}

GgufValue uint_value(GgufValueType type, uint64_t v) {
  GgufValue g;
  g.type = type;
  g.scalar = v;
  return g;
}

// gguf.GGUFWriter's file, read by our reader and written again by our writer in the same key order, is the same bytes.
TEST(GgufWriter, RewritesGgufPysFileByteForByte) {
  const std::string original = read_text_file(kData + "python_written.gguf");
  const GgufFile f = GgufFile::open(kData + "python_written.gguf");
  const auto want = nlohmann::ordered_json::parse(read_text_file(kData + "python_written.json"));  // file order
  GgufWriter w;
  for (const auto& [key, value] : want["metadata"].items()) w.add(key, *f.find(key));
  for (const GgufTensorInfo& t : f.tensors()) w.add_tensor({t.name, t.type, t.ne, f.data(t)});
  const std::vector<std::byte> bytes = w.serialize();
  ASSERT_EQ(bytes.size(), original.size());
  EXPECT_EQ(std::memcmp(bytes.data(), original.data(), bytes.size()), 0);
}

TEST(GgufWriter, RoundTripsThroughTheReader) {
  std::vector<float> f32 = {1.5f, -2.0f, 0.0f, 3.25f, 7.0f, -0.5f};  // [3, 2]
  std::vector<uint8_t> q8(2 * 34);                                   // Q8_0 [32, 2]
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i * 7 + 1);
  std::vector<uint8_t> q4k(144, 0x5A);  // Q4_K [256]

  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.block_count", 4000000000u);
  w.add_i32("llama.offset", -12);
  w.add_f32("llama.eps", 1e-6f);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_strings("tokenizer.ggml.tokens", {"<s>", "", "▁hi"});
  w.add("u8", uint_value(GgufValueType::U8, 255));
  w.add("i16", int_value(GgufValueType::I16, -300));
  w.add("u64", uint_value(GgufValueType::U64, ~0ull));
  GgufValue scores;
  scores.type = GgufValueType::ARRAY;
  scores.elem_type = GgufValueType::F32;
  scores.floats = {0.5, -1.25};
  w.add("tokenizer.ggml.scores", scores);
  GgufValue types;
  types.type = GgufValueType::ARRAY;
  types.elem_type = GgufValueType::I32;
  types.ints = {1, -1, 3};
  w.add("tokenizer.ggml.token_type", types);
  w.add_tensor({"w", GgmlType::F32, {3, 2}, std::as_bytes(std::span(f32))});
  w.add_tensor({"q", GgmlType::Q8_0, {32, 2}, std::as_bytes(std::span(q8))});
  w.add_tensor({"k", GgmlType::Q4_K, {256}, std::as_bytes(std::span(q4k))});

  const std::vector<std::byte> bytes = w.serialize();
  const GgufFile f = GgufFile::parse(bytes, "written.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.metadata().size(), 11u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 4000000000ll);
  EXPECT_EQ(f.find("llama.block_count")->type, GgufValueType::U32);
  EXPECT_EQ(f.get_int("llama.offset"), -12);
  EXPECT_EQ(f.get_float("llama.eps"), static_cast<double>(1e-6f));
  EXPECT_EQ(f.get_bool_or("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(f.get_strings("tokenizer.ggml.tokens"), (std::vector<std::string>{"<s>", "", "▁hi"}));
  EXPECT_EQ(f.get_int("u8"), 255);
  EXPECT_EQ(f.find("i16")->type, GgufValueType::I16);
  EXPECT_EQ(f.get_int("i16"), -300);
  EXPECT_EQ(std::get<uint64_t>(f.find("u64")->scalar), ~0ull);
  EXPECT_EQ(f.get_floats("tokenizer.ggml.scores"), (std::vector<double>{0.5, -1.25}));
  EXPECT_EQ(f.get_ints("tokenizer.ggml.token_type"), (std::vector<int64_t>{1, -1, 3}));

  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "w");  // add order
  uint64_t previous_end = 0;
  for (const GgufTensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_EQ(t.offset, (previous_end + 31) / 32 * 32) << t.name;  // packed, each padded to the alignment
    previous_end = t.offset + t.nbytes;
  }
  EXPECT_EQ(f.tensor("q").ne, (std::vector<int64_t>{32, 2}));
  const auto q = f.data(f.tensor("q"));
  EXPECT_EQ(std::memcmp(q.data(), q8.data(), q8.size()), 0);
  const auto k = f.data(f.tensor("k"));
  EXPECT_EQ(std::memcmp(k.data(), q4k.data(), q4k.size()), 0);
  const auto wd = f.data(f.tensor("w"));
  EXPECT_EQ(std::memcmp(wd.data(), f32.data(), 24), 0);
  EXPECT_EQ(bytes.size() % 32, 0u);  // the last tensor is padded too, as gguf-py pads it
}

TEST(GgufWriter, HonoursACustomAlignment) {
  std::vector<float> a = {1, 2, 3};
  GgufWriter w;
  w.add_u32("general.alignment", 128);
  w.add_tensor({"a", GgmlType::F32, {3}, std::as_bytes(std::span(a))});
  w.add_tensor({"b", GgmlType::F32, {3}, std::as_bytes(std::span(a))});
  const std::vector<std::byte> bytes = w.serialize();
  const GgufFile f = GgufFile::parse(bytes, "a128.gguf");
  EXPECT_EQ(f.alignment(), 128u);
  EXPECT_EQ(f.tensor("b").offset, 128u);
  EXPECT_EQ(bytes.size() % 128, 0u);
}

TEST(GgufWriter, WritesAtomically) {
  const fs::path dir = fs::temp_directory_path() / ("tune_gguf_writer_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<float> a = {4, 5};
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_tensor({"a", GgmlType::F32, {2}, std::as_bytes(std::span(a))});
  w.write(dir / "m.gguf");
  const GgufFile f = GgufFile::open(dir / "m.gguf");
  EXPECT_EQ(f.get_string("general.architecture"), "llama");

  GgufWriter bad = w;
  bad.add_string("general.architecture", "gemma");
  try {
    bad.write(dir / "bad.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "bad.gguf").string() + ": cannot write GGUF: metadata key "
                                         "'general.architecture' is added twice"),
              std::string::npos)
        << e.what();
  }
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);  // no bad.gguf, no temp file left behind
  fs::remove_all(dir);
}

TEST(GgufWriter, RefusesWhatTheReaderWouldRefuse) {
  std::vector<uint8_t> block(34);
  const auto data = std::as_bytes(std::span(block));
  {
    GgufWriter w;
    w.add_tensor({"t", GgmlType::Q8_0, {32}, data});
    w.add_tensor({"t", GgmlType::Q8_0, {32}, data});
    expect_refused(w, "two tensors are named 't'");
  }
  {
    GgufWriter w;
    w.add_tensor({"t", GgmlType::Q8_0, {32, 2}, data});
    expect_refused(w, "tensor 't' has 34 bytes of data but Q8_0 with ne [32, 2] needs 68");
  }
  {
    GgufWriter w;
    w.add_tensor({"t", GgmlType::Q8_0, {17}, data});
    expect_refused(w, "tensor 't' has ne[0] = 17, which is not a multiple of the Q8_0 block size 32");
  }
  {
    GgufWriter w;
    w.add_tensor({"t", GgmlType::Q8_0, {}, data});
    expect_refused(w, "tensor 't' has 0 dimensions");
  }
  {
    GgufWriter w;
    w.add_tensor({"t", static_cast<GgmlType>(16), {32}, data});
    expect_refused(w, "tensor 't' has unsupported ggml type 16");
  }
  {
    GgufWriter w;
    w.add_u32("general.alignment", 48);
    expect_refused(w, "general.alignment = 48 is not a power of 2");
  }
  {
    GgufWriter w;
    w.add_i32("general.alignment", 32);
    expect_refused(w, "general.alignment must be a U32");
  }
  {
    GgufWriter w;
    w.add("x", uint_value(GgufValueType::U8, 256));
    expect_refused(w, "metadata key 'x' = 256 does not fit a U8");
  }
  {
    GgufWriter w;
    w.add("x", int_value(GgufValueType::U32, 5));  // declared unsigned, holds a signed value
    expect_refused(w, "metadata key 'x' is declared U32 but holds another kind of value");
  }
  {
    GgufValue nested;
    nested.type = GgufValueType::ARRAY;
    nested.elem_type = GgufValueType::ARRAY;
    GgufWriter w;
    w.add("x", nested);
    expect_refused(w, "metadata key 'x' is an array whose element type is ARRAY");
  }
  {
    GgufValue ints;
    ints.type = GgufValueType::ARRAY;
    ints.elem_type = GgufValueType::I8;
    ints.ints = {1, 200};
    GgufWriter w;
    w.add("x", ints);
    expect_refused(w, "element 1 of metadata key 'x' = 200 does not fit a I8");
  }
}

}  // namespace
}  // namespace tune
