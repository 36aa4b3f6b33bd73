// The HF tokenizer side files of a model folder: tokenizer_config.json and special_tokens_map.json, read with HF's
// precedence into the token strings they declare (private to src/text).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tune::text_detail {

// Parses a JSON object file; nullopt when the file does not exist. Malformed JSON or a non-object -> Error.
std::optional<nlohmann::json> read_json_object_if_present(const std::filesystem::path& path);

// A token string from one of the files, with where it came from (for error messages).
struct DeclaredToken {
  std::string text;
  std::filesystem::path file;
  std::string key;
};

struct DeclaredTokens {
  // bos_token/eos_token/pad_token/unk_token -> the declared string, or nullopt when declared null (no such token).
  // A key that no file mentions is absent.
  std::map<std::string, std::optional<DeclaredToken>> named;
  std::vector<DeclaredToken> additional;  // additional_special_tokens
  struct Added {
    std::string content;
    bool lstrip, rstrip, special;
  };
  std::map<int32_t, Added> added;  // tokenizer_config.json added_tokens_decoder: id -> token
  bool has_added_decoder = false;
  std::optional<bool> add_bos_token, add_eos_token;  // tokenizer_config.json, when it says
  bool clean_up_tokenization_spaces = false;         // tokenizer_config.json (HF's default for a missing key: false)
};

// Reads <dir>/tokenizer_config.json and, only when it has no added_tokens_decoder, <dir>/special_tokens_map.json
// (whose entries then replace the config's), as PreTrainedTokenizerBase._from_pretrained does. A token may be a
// plain string or an {"content": ...} object. Missing files declare nothing.
DeclaredTokens read_declared_tokens(const std::filesystem::path& dir);

}  // namespace tune::text_detail
