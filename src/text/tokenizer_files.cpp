// tokenizer_config.json / special_tokens_map.json -> the declared special and added tokens.
#include "text/tokenizer_files.h"

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace tune::text_detail {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kNamedSpecials[] = {"bos_token", "eos_token", "pad_token", "unk_token"};

// A special-token entry is a string, an {"content": "..."} object (an AddedToken), or null (no such token).
std::optional<std::string> token_string(const json& v, const fs::path& file, const std::string& key) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  fail(file.string(), ": '", key, "' must be a string or an object with a string \"content\"; got ", v.dump());
}

bool flag(const json& token, const char* key, const fs::path& file, const std::string& where) {
  if (!token.contains(key) || token[key].is_null()) return false;
  TUNE_CHECK(token[key].is_boolean(), file.string(), ": ", where, ".", key, " must be true or false");
  return token[key].get<bool>();
}

std::optional<bool> optional_flag(const json& doc, const char* key, const fs::path& file) {
  if (!doc.contains(key) || doc[key].is_null()) return std::nullopt;
  TUNE_CHECK(doc[key].is_boolean(), file.string(), ": '", key, "' must be true or false");
  return doc[key].get<bool>();
}

void read_named(const json& doc, const fs::path& file, DeclaredTokens& out) {
  for (const char* key : kNamedSpecials) {
    if (!doc.contains(key)) continue;
    auto s = token_string(doc[key], file, key);
    out.named[key] = s ? std::optional<DeclaredToken>({*s, file, key}) : std::nullopt;
  }
  if (doc.contains("additional_special_tokens") && !doc["additional_special_tokens"].is_null()) {
    const json& list = doc["additional_special_tokens"];
    TUNE_CHECK(list.is_array(), file.string(), ": 'additional_special_tokens' must be a list");
    out.additional.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      std::string key = cat("additional_special_tokens[", i, "]");
      if (auto s = token_string(list[i], file, key)) out.additional.push_back({*s, file, key});
    }
  }
}

void read_added_decoder(const json& decoder, const fs::path& file, DeclaredTokens& out) {
  TUNE_CHECK(decoder.is_object(), file.string(), ": 'added_tokens_decoder' must be an object {\"id\": {...}}");
  out.has_added_decoder = true;
  for (const auto& [key, token] : decoder.items()) {
    std::string where = cat("added_tokens_decoder[\"", key, "\"]");
    size_t used = 0;
    long id = -1;
    try {
      id = std::stol(key, &used);
    } catch (const std::exception&) {
    }
    TUNE_CHECK(used == key.size() && id >= 0 && id <= INT32_MAX, file.string(), ": ", where,
               ": the key must be a non-negative token id");
    TUNE_CHECK(token.is_object() && token.contains("content") && token["content"].is_string(), file.string(), ": ",
               where, " must be an object with a string \"content\"");
    std::string content = token["content"].get<std::string>();
    TUNE_CHECK(!content.empty(), file.string(), ": ", where, " has an empty \"content\"");
    out.added[static_cast<int32_t>(id)] = {content, flag(token, "lstrip", file, where),
                                           flag(token, "rstrip", file, where), flag(token, "special", file, where)};
  }
}

}  // namespace

std::optional<json> read_json_object_if_present(const fs::path& path) {
  if (!fs::exists(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  TUNE_CHECK(in, path.string(), ": cannot open for reading; check its permissions");
  std::stringstream text;
  text << in.rdbuf();
  json doc;
  try {
    doc = json::parse(text.str());
  } catch (const json::exception& e) {
    fail(path.string(), ": invalid JSON (", e.what(), "); fix the file or replace it with the one from the model's ",
         "Hugging Face repo");
  }
  TUNE_CHECK(doc.is_object(), path.string(), ": expected a JSON object at the top level; fix the file or delete it");
  return doc;
}

DeclaredTokens read_declared_tokens(const fs::path& dir) {
  DeclaredTokens declared;
  const fs::path config_path = dir / "tokenizer_config.json";
  if (auto config = read_json_object_if_present(config_path)) {
    read_named(*config, config_path, declared);
    if (config->contains("added_tokens_decoder"))
      read_added_decoder((*config)["added_tokens_decoder"], config_path, declared);
    declared.add_bos_token = optional_flag(*config, "add_bos_token", config_path);
    declared.add_eos_token = optional_flag(*config, "add_eos_token", config_path);
    declared.clean_up_tokenization_spaces =
        optional_flag(*config, "clean_up_tokenization_spaces", config_path).value_or(false);
  }
  if (!declared.has_added_decoder) {
    const fs::path map_path = dir / "special_tokens_map.json";
    if (auto map = read_json_object_if_present(map_path)) read_named(*map, map_path, declared);
  }
  return declared;
}

}  // namespace tune::text_detail
