// tokenizer.json decoders (HF decode_chain: token strings -> token strings): Sequence, ByteLevel, ByteFallback,
// Fuse, Strip, Replace, Metaspace; and GPT-2's byte-level character map.
#include <array>

#include "core/error.h"
#include "text/hf_json.h"
#include "text/hf_pattern.h"
#include "text/hf_pipeline.h"
#include "text/unicode.h"

namespace tune::text_detail {

using json = nlohmann::json;

namespace {

// bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes for U+0100.. in byte order.
struct ByteLevelMap {
  std::array<std::string, 256> char_of;
  std::array<int, 324> byte_of;  // code point -> byte, -1 when none
  ByteLevelMap() {
    byte_of.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
      append_utf8(char_of[b], cp);
      byte_of[cp] = b;
    }
  }
};

const ByteLevelMap& byte_level_map() {
  static const ByteLevelMap m;
  return m;
}

// "<0xAB>" -> 0xAB, as HF's ByteFallback reads a token (exactly six bytes).
std::optional<unsigned char> byte_token(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(t[3]), lo = hex(t[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<unsigned char>(hi * 16 + lo);
}

std::vector<std::string> byte_fallback(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  std::string bytes;  // a run of byte tokens
  auto flush = [&] {
    if (bytes.empty()) return;
    if (is_valid_utf8(bytes))
      out.push_back(bytes);
    else
      for (size_t i = 0; i < bytes.size(); ++i) out.push_back("\xEF\xBF\xBD");  // one U+FFFD per byte
    bytes.clear();
  };
  for (std::string& t : tokens) {
    if (auto b = byte_token(t)) {
      bytes += static_cast<char>(*b);
      continue;
    }
    flush();
    out.push_back(std::move(t));
  }
  flush();
  return out;
}

std::vector<std::string> byte_level_decode(const std::vector<std::string>& tokens) {
  std::string bytes;
  for (const std::string& t : tokens) {
    std::string mapped;
    bool all = true;
    for (size_t at = 0; at < t.size() && all;) {
      const size_t len = std::min(utf8_char_len(static_cast<unsigned char>(t[at])), t.size() - at);
      if (auto b = byte_level_byte(utf8_code_point(t, at)))
        mapped += static_cast<char>(*b);
      else
        all = false;
      at += len;
    }
    bytes += all ? mapped : t;  // a token with another character (an added token) keeps its own bytes
  }
  return {utf8_lossy(bytes)};
}

// Removes up to `count` leading (or trailing) characters equal to `c`.
std::string strip_chars(const std::string& t, const std::string& c, size_t start, size_t stop) {
  size_t b = 0, e = t.size();
  for (size_t i = 0; i < start && t.compare(b, c.size(), c) == 0 && b + c.size() <= e; ++i) b += c.size();
  for (size_t i = 0; i < stop && e >= b + c.size() && t.compare(e - c.size(), c.size(), c) == 0; ++i) e -= c.size();
  return t.substr(b, e - b);
}

size_t count_field(const json& j, const char* key, const std::string& where) {
  const json& v = hf_field(j, key, where);
  TUNE_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), where, ": \"", key,
             "\" must be a non-negative integer");
  return v.get<size_t>();
}

}  // namespace

const std::string& byte_level_char(unsigned char b) { return byte_level_map().char_of[b]; }

std::optional<unsigned char> byte_level_byte(char32_t cp) {
  if (cp >= byte_level_map().byte_of.size() || byte_level_map().byte_of[cp] < 0) return std::nullopt;
  return static_cast<unsigned char>(byte_level_map().byte_of[cp]);
}

Decoder parse_decoder(const json& j, const std::string& file) {
  if (j.is_null()) {  // HF without a decoder: the token strings joined by spaces
    return [](std::vector<std::string> tokens) {
      std::string all;
      for (size_t i = 0; i < tokens.size(); ++i) all += (i ? " " : "") + tokens[i];
      return std::vector<std::string>{all};
    };
  }
  const std::string where = file + ": decoder";
  const std::string type = hf_type(j, where);
  if (type == "Sequence") {
    const json& list = hf_field(j, "decoders", where);
    TUNE_CHECK(list.is_array(), where, ": \"decoders\" must be a list");
    std::vector<Decoder> steps;
    for (const json& d : list) steps.push_back(parse_decoder(d, file));
    return [steps](std::vector<std::string> tokens) {
      for (const Decoder& d : steps) tokens = d(std::move(tokens));
      return tokens;
    };
  }
  if (type == "ByteLevel") return [](std::vector<std::string> tokens) { return byte_level_decode(tokens); };
  if (type == "ByteFallback") return byte_fallback;
  if (type == "Fuse") {
    return [](std::vector<std::string> tokens) {
      std::string all;
      for (const std::string& t : tokens) all += t;
      return std::vector<std::string>{all};
    };
  }
  if (type == "Strip") {
    const std::string content = hf_string(j, "content", where);
    const size_t start = count_field(j, "start", where), stop = count_field(j, "stop", where);
    TUNE_CHECK(!content.empty(), where, ": Strip \"content\" must be one character");
    return [=](std::vector<std::string> tokens) {
      for (std::string& t : tokens) t = strip_chars(t, content, start, stop);
      return tokens;
    };
  }
  if (type == "Replace") {
    const TextPattern pattern(hf_field(j, "pattern", where), where);
    const std::string content = hf_string(j, "content", where);
    return [=](std::vector<std::string> tokens) {
      for (std::string& t : tokens) t = pattern.replace_all(t, content);
      return tokens;
    };
  }
  if (type == "Metaspace") {  // the replacement becomes a space; in the first token it is dropped (unless "never")
    const std::string replacement = hf_string(j, "replacement", where);
    bool prepends = hf_bool(j, "add_prefix_space", true, where);
    if (j.contains("prepend_scheme")) prepends = hf_string(j, "prepend_scheme", where) != "never";
    const TextPattern marks(json{{"String", replacement}}, where);
    return [=](std::vector<std::string> tokens) {
      for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = marks.replace_all(tokens[i], i == 0 && prepends ? "" : " ");
      return tokens;
    };
  }
  fail(where, ": type \"", type,
       "\" is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace)");
}

}  // namespace tune::text_detail
