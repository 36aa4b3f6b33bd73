// Tokenizer: loading tokenizer.model + the HF special-token files, and encode/decode around SentencePiece.
#include "text/tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace tune {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kNamedSpecials[] = {"bos_token", "eos_token", "pad_token", "unk_token"};

// Parses <dir>/<name> when it exists; nullopt when it does not.
std::optional<json> read_json_if_present(const fs::path& path) {
  if (!fs::exists(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  TUNE_CHECK(in, path.string(), ": cannot open for reading; check its permissions");
  std::stringstream text;
  text << in.rdbuf();
  json doc;
  try {
    doc = json::parse(text.str());
  } catch (const json::exception& e) {
    fail(path.string(), ": invalid JSON (", e.what(), "); fix the file or delete it to use tokenizer.model's own ",
         "special tokens");
  }
  TUNE_CHECK(doc.is_object(), path.string(), ": expected a JSON object at the top level; fix the file or delete it");
  return doc;
}

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

// The token strings a folder declares: named specials, additional_special_tokens, and added_tokens_decoder entries.
struct DeclaredTokens {
  struct Source {
    std::string text;
    fs::path file;
    std::string key;
  };
  std::map<std::string, std::optional<Source>> named;  // bos_token/eos_token/pad_token/unk_token -> string or none
  struct Added {
    std::string content;
    bool lstrip, rstrip, special;
  };
  std::vector<Source> additional;
  std::map<int32_t, Added> added;  // added_tokens_decoder: id -> token
  bool has_added_decoder = false;
};

void read_named(const json& doc, const fs::path& file, DeclaredTokens& out) {
  for (const char* key : kNamedSpecials) {
    if (!doc.contains(key)) continue;
    auto s = token_string(doc[key], file, key);
    out.named[key] = s ? std::optional<DeclaredTokens::Source>({*s, file, key}) : std::nullopt;
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

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const fs::path& dir) {
  const fs::path model_path = dir / "tokenizer.model";
  TUNE_CHECK(fs::is_regular_file(model_path), model_path.string(),
             " not found; the model folder must hold the SentencePiece tokenizer.model from its Hugging Face repo "
             "(tokenizer.json alone is not supported)");
  Tokenizer tok;
  tok.sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = tok.sp_->Load(model_path.string());
  TUNE_CHECK(status.ok(), model_path.string(), ": not a SentencePiece model (", status.ToString(),
             "); replace it with the tokenizer.model from the model's Hugging Face repo");
  const int sp_size = tok.sp_->GetPieceSize();

  // HF precedence (PreTrainedTokenizerBase._from_pretrained): tokenizer_config.json first; special_tokens_map.json
  // only when the config has no added_tokens_decoder, and then its entries replace the config's.
  DeclaredTokens declared;
  const fs::path config_path = dir / "tokenizer_config.json";
  if (auto config = read_json_if_present(config_path)) {
    read_named(*config, config_path, declared);
    if (config->contains("added_tokens_decoder"))
      read_added_decoder((*config)["added_tokens_decoder"], config_path, declared);
  }
  if (!declared.has_added_decoder) {
    const fs::path map_path = dir / "special_tokens_map.json";
    if (auto map = read_json_if_present(map_path)) read_named(*map, map_path, declared);
  }

  int32_t max_id = sp_size - 1;
  std::map<std::string, AddedToken> by_content;
  for (const auto& [id, added] : declared.added) {
    by_content[added.content] = {added.content, id, added.lstrip, added.rstrip};
    tok.added_by_id_[id] = added.content;
    if (added.special) tok.special_ids_.insert(id);
    max_id = std::max(max_id, id);
  }
  // A special token not in added_tokens_decoder is split out as well and takes its id from tokenizer.model.
  auto resolve = [&](const DeclaredTokens::Source& s) -> int32_t {
    if (auto it = by_content.find(s.text); it != by_content.end()) return it->second.id;
    const int id = tok.sp_->PieceToId(s.text);
    TUNE_CHECK(tok.sp_->IdToPiece(id) == s.text, s.file.string(), ": ", s.key, " \"", s.text,
               "\" is neither in added_tokens_decoder nor a piece of tokenizer.model; fix the file");
    by_content[s.text] = {s.text, id, false, false};
    tok.added_by_id_[id] = s.text;
    return id;
  };
  auto named_id = [&](const char* key, int sp_fallback) -> int32_t {
    if (auto it = declared.named.find(key); it != declared.named.end()) return it->second ? resolve(*it->second) : -1;
    if (sp_fallback < 0) return -1;  // the model has no such piece either
    return resolve({tok.sp_->IdToPiece(sp_fallback), model_path, key});
  };
  tok.bos_id_ = named_id("bos_token", tok.sp_->bos_id());
  tok.eos_id_ = named_id("eos_token", tok.sp_->eos_id());
  tok.pad_id_ = named_id("pad_token", tok.sp_->pad_id());
  tok.unk_id_ = named_id("unk_token", tok.sp_->unk_id());
  for (const auto& s : declared.additional) tok.special_ids_.insert(resolve(s));
  for (const int32_t id : {tok.bos_id_, tok.eos_id_, tok.pad_id_, tok.unk_id_})
    if (id >= 0) tok.special_ids_.insert(id);

  for (auto& [content, token] : by_content) {
    tok.special_.push_back(token);
    if (tok.special_first_bytes_.find(content[0]) == std::string::npos) tok.special_first_bytes_ += content[0];
  }
  std::stable_sort(tok.special_.begin(), tok.special_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  tok.vocab_size_ = max_id + 1;
  return tok;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  // Split into text chunks and special tokens (earliest position, longest token there), as HF's Trie.split does.
  struct Chunk {
    std::string_view text;
    const AddedToken* special;  // non-null for a split-out token
  };
  std::vector<Chunk> chunks;
  size_t start = 0;
  for (size_t pos = text.find_first_of(special_first_bytes_); pos < text.size();) {
    const AddedToken* match = nullptr;
    for (const AddedToken& t : special_) {
      if (t.content[0] == text[pos] && text.compare(pos, t.content.size(), t.content) == 0) {
        match = &t;
        break;
      }
    }
    if (!match) {
      pos = text.find_first_of(special_first_bytes_, pos + 1);
      continue;
    }
    if (pos > start) chunks.push_back({text.substr(start, pos - start), nullptr});
    chunks.push_back({{}, match});
    pos += match->content.size();
    start = pos;
    pos = text.find_first_of(special_first_bytes_, pos);
  }
  if (start < text.size()) chunks.push_back({text.substr(start), nullptr});

  // lstrip/rstrip: the token swallows the whitespace on its left/right side.
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (!chunks[i].special) continue;
    if (chunks[i].special->rstrip && i + 1 < chunks.size() && !chunks[i + 1].special) {
      std::string_view& next = chunks[i + 1].text;
      while (!next.empty() && is_ascii_space(next.front())) next.remove_prefix(1);
    }
    if (chunks[i].special->lstrip && i > 0 && !chunks[i - 1].special) {
      std::string_view& prev = chunks[i - 1].text;
      while (!prev.empty() && is_ascii_space(prev.back())) prev.remove_suffix(1);
    }
  }

  std::vector<int32_t> ids;
  std::vector<int> piece_ids;
  for (const Chunk& c : chunks) {
    if (c.special) {
      ids.push_back(c.special->id);
    } else if (!c.text.empty()) {
      const auto status = sp_->Encode(c.text, &piece_ids);
      TUNE_CHECK(status.ok(), "tokenizer: SentencePiece could not encode a text (", status.ToString(), ")");
      ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    }
  }
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out, piece_text;
  std::vector<int> run;  // ordinary SentencePiece ids waiting to be decoded together
  auto flush = [&] {
    if (run.empty()) return;
    const auto status = sp_->Decode(run, &piece_text);
    TUNE_CHECK(status.ok(), "tokenizer: SentencePiece could not decode ids (", status.ToString(), ")");
    out += piece_text;
    run.clear();
  };
  for (int32_t id : ids) {
    if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
      flush();
      out += it->second;
      continue;
    }
    TUNE_CHECK(id >= 0 && id < sp_->GetPieceSize(), "tokenizer: cannot decode token id ", id,
               ": no such token (vocabulary size ", vocab_size_, ")");
    run.push_back(id);
  }
  flush();
  return out;
}

std::string Tokenizer::id_to_piece(int32_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return it->second;
  TUNE_CHECK(id >= 0 && id < sp_->GetPieceSize(), "tokenizer: token id ", id, " is no token (vocabulary size ",
             vocab_size_, ")");
  return sp_->IdToPiece(id);
}

std::optional<int32_t> Tokenizer::piece_to_id(std::string_view piece) const {
  for (const AddedToken& t : special_)
    if (t.content == piece) return t.id;
  const int id = sp_->PieceToId(piece);
  if (sp_->IdToPiece(id) != piece) return std::nullopt;
  return id;
}

}  // namespace tune
