// The text stages of an HF tokenizer.json around its model: normalizers, pre-tokenizers and decoders, parsed from
// the file's JSON into functions that act as HF `tokenizers` does (private to src/text).
#pragma once
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tune::text_detail {

// A piece of the input on its way to the model. at_start: it begins at offset 0 of the original text (Metaspace's
// prepend_scheme "first" and HF's offsets rule).
struct Piece {
  std::string text;
  bool at_start;
};

using Normalizer = std::function<std::string(std::string)>;
using PreTokenizer = std::function<std::vector<Piece>(std::vector<Piece>)>;  // drops empty pieces
using Decoder = std::function<std::vector<std::string>(std::vector<std::string>)>;  // HF decode_chain

// Each accepts JSON null (the stage is absent: identity; a missing decoder joins the tokens with spaces) and the types the families' files use:
//   normalizers:    Sequence, Prepend, Replace (String or Regex pattern), NFC, NFD, NFKC, NFKD
//   pre_tokenizers: Sequence, ByteLevel, Split (String or Regex; every behavior; invert), Metaspace, Digits
//   decoders:       Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace
// Another type, or a malformed entry -> Error naming `file` and the entry.
Normalizer parse_normalizer(const nlohmann::json& j, const std::string& file);
PreTokenizer parse_pre_tokenizer(const nlohmann::json& j, const std::string& file);
Decoder parse_decoder(const nlohmann::json& j, const std::string& file);

// GPT-2's byte -> printable character map (bytes_to_unicode) and its inverse for one character (nullopt: not a
// byte-level character).
const std::string& byte_level_char(unsigned char b);
std::optional<unsigned char> byte_level_byte(char32_t cp);

}  // namespace tune::text_detail
