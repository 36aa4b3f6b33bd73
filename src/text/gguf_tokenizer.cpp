// GGUF tokenizer metadata -> tokenizer.json as transformers' integrations/gguf builds it (get_gguf_tokenizer,
// convert_gguf_tokenizer, then the tokenizer class's special tokens and post-processor).
#include "text/gguf_tokenizer.h"

#include <algorithm>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "io/gguf.h"
#include "text/hf_pipeline.h"
#include "text/hf_tokenizer.h"
#include "text/unicode.h"

namespace tune {
namespace text_detail {

using json = nlohmann::json;

namespace {

// llama.cpp's token types (tokenizer.ggml.token_type).
constexpr int64_t kControl = 3, kUserDefined = 4;

const char* const kMetaspace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// The split regexes transformers gives each tokenizer.ggml.pre (GGUF_PRE_TOKENIZER_SPLITS); other pre types keep
// GPT-2's own ByteLevel regex.
const char* const kLlama3Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kTekkenSplit =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
    "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kGpt4oSplit =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const char* split_regex_for(std::string_view pre) {
  static const std::unordered_map<std::string_view, const char*> kSplits = {
      {"llama3", kLlama3Split},       {"llama-v3", kLlama3Split},  {"llama-bpe", kLlama3Split},
      {"falcon3", kLlama3Split},      {"falcon-h1", kLlama3Split}, {"pixtral", kLlama3Split},
      {"midm-2.0", kLlama3Split},     {"lfm2", kLlama3Split},      {"jina-v5-nano", kLlama3Split},
      {"dbrx", kLlama3Split},         {"smaug-bpe", kLlama3Split}, {"tekken", kTekkenSplit},
      {"qwen2", kQwen2Split},         {"deepseek-r1-qwen", kQwen2Split}, {"kormo", kQwen2Split},
      {"f2llmv2", kQwen2Split},       {"megrez", kQwen2Split},     {"gpt-4o", kGpt4oSplit},
      {"llama4", kGpt4oSplit},        {"kanana2", kGpt4oSplit},    {"talkie", kGpt4oSplit},
      {"minimax-m2", kGpt4oSplit}};
  auto it = kSplits.find(pre);
  return it == kSplits.end() ? nullptr : it->second;
}

// Which of transformers' tokenizer builders a file gets (select_tokenizer_builder).
enum class Builder { Llama, Gemma, Phi3, ByteLevel };

bool is_gemma_arch(std::string_view arch) { return arch == "gemma" || arch == "gemma2" || arch == "gemma3"; }

// Python's str.isspace (what str.strip removes): Unicode White_Space plus the separators U+001C..U+001F.
bool python_isspace(char32_t cp) { return is_unicode_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  for (size_t at = 0; at < s.size();) {
    const size_t len = std::min(utf8_char_len(static_cast<unsigned char>(s[at])), s.size() - at);
    out.emplace_back(s.substr(at, len));
    at += len;
  }
  return out;
}

// Gemma files store a token of two or more spaces as spaces; GemmaTokenizer looks it up as U+2581 runs
// (gemma_tokenizer): a token with a space and nothing but whitespace becomes one U+2581 per character.
std::string gemma_spelling(const std::string& token) {
  if (token.find(' ') == std::string::npos) return token;
  size_t chars = 0;
  for (size_t at = 0; at < token.size(); ++chars) {
    if (!python_isspace(utf8_code_point(token, at))) return token;
    at += std::min(utf8_char_len(static_cast<unsigned char>(token[at])), token.size() - at);
  }
  std::string out;
  for (size_t i = 0; i < chars; ++i) out += kMetaspace;
  return out;
}

bool in_byte_alphabet(const std::string& token) {
  for (size_t at = 0; at < token.size();) {
    if (!byte_level_byte(utf8_code_point(token, at))) return false;
    at += std::min(utf8_char_len(static_cast<unsigned char>(token[at])), token.size() - at);
  }
  return true;
}

// byte_level_tokenizer: a token written outside GPT-2's byte alphabet is re-spelled byte by byte.
std::string byte_level_spelling(const std::string& token) {
  if (in_byte_alphabet(token)) return token;
  std::string out;
  for (unsigned char b : token) out += byte_level_char(b);
  return out;
}

// A vocabulary as a Python dict built from the token list: a repeated token keeps its first place in the order and
// the id (and score) of its last occurrence.
struct Vocab {
  std::vector<std::string> tokens;                 // as spelled for the model, by id
  std::unordered_map<std::string, int32_t> ids;    // token -> last id
  std::vector<int32_t> order;                      // first id of each distinct token, in order
  explicit Vocab(std::vector<std::string> spelled) : tokens(std::move(spelled)) {
    for (int32_t i = 0; i < static_cast<int32_t>(tokens.size()); ++i)
      if (auto [it, fresh] = ids.emplace(tokens[i], i); fresh)
        order.push_back(i);
      else
        it->second = i;
  }
  bool has(const std::string& t) const { return ids.contains(t); }
};

// transformers' generate_merges(vocab, vocab_scores): every split of a token into two vocabulary tokens (code point
// boundaries), each token's splits ordered by the ids of their halves, then all stably sorted by (score, length of
// the left half, length of the right half), highest first.
json derive_merges(const Vocab& vocab, const std::vector<double>& score_by_id) {
  struct Merge {
    std::string left, right;
    double score;
    size_t left_len, right_len;  // in code points
  };
  std::vector<Merge> merges;
  for (const int32_t first : vocab.order) {
    const std::string& token = vocab.tokens[first];
    const double score = score_by_id[vocab.ids.at(token)];
    const std::vector<std::string> chars = code_points(token);
    std::vector<Merge> local;
    std::string left;
    for (size_t i = 1; i < chars.size(); ++i) {
      left += chars[i - 1];
      std::string right = token.substr(left.size());
      if (vocab.has(left) && vocab.has(right))
        local.push_back({left, std::move(right), score, i, chars.size() - i});
    }
    std::stable_sort(local.begin(), local.end(), [&](const Merge& a, const Merge& b) {
      return std::pair(vocab.ids.at(a.left), vocab.ids.at(a.right)) <
             std::pair(vocab.ids.at(b.left), vocab.ids.at(b.right));
    });
    for (Merge& m : local) merges.push_back(std::move(m));
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::tie(a.score, a.left_len, a.right_len) > std::tie(b.score, b.left_len, b.right_len);
  });
  json out = json::array();
  for (Merge& m : merges) out.push_back(json::array({std::move(m.left), std::move(m.right)}));
  return out;
}

// tokenizer.ggml.merges ("left right" strings) as tokenizer.json's [left, right] pairs.
json file_merges(const GgufFile& gguf) {
  json out = json::array();
  for (const std::string& m : gguf.get_strings("tokenizer.ggml.merges")) {
    const size_t space = m.find(' ');
    TUNE_CHECK(space != std::string::npos && m.find(' ', space + 1) == std::string::npos, gguf.source(),
               ": tokenizer.ggml.merges entry \"", m, "\" is not two tokens separated by one space");
    out.push_back(json::array({m.substr(0, space), m.substr(space + 1)}));
  }
  return out;
}

json replace(const char* from, const char* to) {
  return {{"type", "Replace"}, {"pattern", {{"String", from}}}, {"content", to}};
}

json sentencepiece_decoder(bool strip_prefix_space) {
  json steps = json::array({replace(kMetaspace, " "), {{"type", "ByteFallback"}}, {{"type", "Fuse"}}});
  if (strip_prefix_space) steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  return {{"type", "Sequence"}, {"decoders", steps}};
}

// GPT-2's ByteLevel stage; the decoder keeps the `tokenizers` defaults (add_prefix_space true, unused in decoding).
json byte_level(bool add_prefix_space, bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true},
          {"use_regex", use_regex}};
}

// The added vocabulary as HF `tokenizers` keeps it: a token whose content is already added is ignored; a new one
// takes its id in the model vocabulary, or the next id past the vocabulary and the added tokens.
class AddedTokens {
 public:
  explicit AddedTokens(const Vocab& vocab) : vocab_(vocab) {}
  void add(const std::string& content, bool special) {
    if (content.empty() || index_.contains(content)) return;
    int32_t id;
    if (auto it = vocab_.ids.find(content); it != vocab_.ids.end()) {
      id = it->second;
    } else {
      const int32_t size = static_cast<int32_t>(vocab_.ids.size());
      id = max_id_ < 0 ? size : (max_id_ >= size ? max_id_ + 1 : size);
    }
    max_id_ = std::max(max_id_, id);
    index_.emplace(content, list_.size());
    list_.push_back({{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", special}});
  }
  bool has(const std::string& content) const { return index_.contains(content); }
  int32_t id_of(const std::string& content) const {
    if (auto it = index_.find(content); it != index_.end()) return list_[it->second]["id"].get<int32_t>();
    return vocab_.ids.at(content);
  }
  json to_json() const {  // sorted by id, as tokenizers saves them
    json out = list_;
    std::stable_sort(out.begin(), out.end(),
                     [](const json& a, const json& b) { return a["id"].get<int32_t>() < b["id"].get<int32_t>(); });
    return out;
  }

 private:
  const Vocab& vocab_;
  json list_ = json::array();
  std::unordered_map<std::string, size_t> index_;
  int32_t max_id_ = -1;
};

}  // namespace

GgufTokenizerJson gguf_tokenizer_json(const GgufFile& gguf) {
  const std::string& file = gguf.source();
  const std::string model = gguf.get_string_or("tokenizer.ggml.model").value_or("");
  TUNE_CHECK(!model.empty(), file, ": no tokenizer.ggml.model; the GGUF file carries no tokenizer");
  const std::string arch = gguf.get_string_or("general.architecture").value_or("");
  Builder builder;
  if (model == "llama")
    builder = is_gemma_arch(arch) ? Builder::Gemma : arch == "phi3" ? Builder::Phi3 : Builder::Llama;
  else if (model == "gpt2")
    builder = Builder::ByteLevel;
  else
    fail(file, ": tokenizer.ggml.model \"", model, "\" is not supported (supported: llama, SentencePiece-style ",
         "vocabularies with scores; gpt2, byte-level BPE with merges)");

  const std::vector<std::string>& tokens = gguf.get_strings("tokenizer.ggml.tokens");
  TUNE_CHECK(!tokens.empty(), file, ": tokenizer.ggml.tokens is empty");
  const int64_t n = static_cast<int64_t>(tokens.size());
  static const std::vector<int64_t> kNoTypes;
  const std::vector<int64_t>& types = gguf.find("tokenizer.ggml.token_type") ? gguf.get_ints("tokenizer.ggml.token_type")
                                                                             : kNoTypes;
  TUNE_CHECK(types.empty() || static_cast<int64_t>(types.size()) == n, file, ": tokenizer.ggml.token_type has ",
             types.size(), " entries for ", n, " tokens");
  const bool has_merges = gguf.find("tokenizer.ggml.merges") != nullptr;

  // The model vocabulary as the builder spells it, and its merges.
  std::vector<std::string> spelled(tokens);
  if (builder == Builder::Gemma)
    for (std::string& t : spelled) t = gemma_spelling(t);
  if (builder == Builder::ByteLevel)
    for (std::string& t : spelled) t = byte_level_spelling(t);
  const Vocab vocab(std::move(spelled));
  json merges;
  if (has_merges) {
    merges = file_merges(gguf);
  } else {
    TUNE_CHECK(builder != Builder::ByteLevel, file, ": tokenizer.ggml.model gpt2 needs tokenizer.ggml.merges");
    std::vector<double> score_by_id(n);
    if (builder == Builder::Gemma) {  // Gemma's scores do not follow its merge order; the token order does
      for (int64_t i = 0; i < n; ++i) score_by_id[i] = -static_cast<double>(i);
    } else {
      TUNE_CHECK(gguf.find("tokenizer.ggml.scores"), file,
                 ": tokenizer.ggml.model llama without tokenizer.ggml.merges needs tokenizer.ggml.scores");
      const std::vector<double>& scores = gguf.get_floats("tokenizer.ggml.scores");
      TUNE_CHECK(static_cast<int64_t>(scores.size()) == n, file, ": tokenizer.ggml.scores has ", scores.size(),
                 " entries for ", n, " tokens");
      score_by_id = scores;
    }
    merges = derive_merges(vocab, score_by_id);
  }

  json vocab_json = json::object();
  for (const auto& [token, id] : vocab.ids) vocab_json[token] = id;
  json bpe = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"ignore_merges", false},
              {"vocab", std::move(vocab_json)}, {"merges", std::move(merges)}};
  if (builder == Builder::ByteLevel) {
    bpe.update({{"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
                {"byte_fallback", false}});
  } else {
    bpe.update({{"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", true},
                {"byte_fallback", true}});
    // GemmaTokenizer names "<unk>" as the BPE's unknown token (used only where it is in the vocabulary).
    if (builder == Builder::Gemma && vocab.has("<unk>")) bpe["unk_token"] = "<unk>";
  }

  json doc = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"normalizer", nullptr}};
  switch (builder) {
    case Builder::Llama:  // LlamaTokenizer: Metaspace with the prefix space on the first piece
      doc["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kMetaspace}, {"prepend_scheme", "first"},
                              {"split", false}};
      doc["decoder"] = sentencepiece_decoder(true);
      break;
    case Builder::Phi3:  // the prefix space from a normalizer, no pre-tokenizer
      doc["normalizer"] = {{"type", "Sequence"},
                           {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", kMetaspace}},
                                                        replace(" ", kMetaspace)})}};
      doc["pre_tokenizer"] = nullptr;
      doc["decoder"] = sentencepiece_decoder(true);
      break;
    case Builder::Gemma:  // GemmaTokenizer: spaces -> U+2581, split after each space, no prefix space
      doc["normalizer"] = replace(" ", kMetaspace);
      doc["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"},
                              {"invert", false}};
      doc["decoder"] = sentencepiece_decoder(false);
      break;
    case Builder::ByteLevel: {  // GPT2Tokenizer, with the split regex of the file's pre type (set_split_regex)
      const std::string pre = gguf.get_string_or("tokenizer.ggml.pre").value_or("");
      if (const char* split = split_regex_for(pre))
        doc["pre_tokenizer"] = {
            {"type", "Sequence"},
            {"pretokenizers", json::array({{{"type", "Split"}, {"pattern", {{"Regex", split}}}, {"behavior", "Isolated"},
                                            {"invert", false}},
                                           byte_level(false, false)})}};
      else
        doc["pre_tokenizer"] = byte_level(false, true);
      doc["decoder"] = byte_level(true, true);
      break;
    }
  }

  // Added tokens in transformers' order: the builder class's default special tokens, the file's control tokens
  // (special) and user-defined tokens (plain, when in the vocabulary), then the file's bos/eos/unk/pad (and Gemma's
  // mask token) not yet added.
  AddedTokens added(vocab);
  switch (builder) {
    case Builder::Llama:
    case Builder::Phi3:
      for (const char* t : {"<s>", "</s>", "<unk>"}) added.add(t, true);
      break;
    case Builder::Gemma:
      for (const char* t : {"<bos>", "<eos>", "<unk>", "<pad>", "<mask>"}) added.add(t, true);
      break;
    case Builder::ByteLevel:
      added.add("<|endoftext|>", true);
      break;
  }
  for (int64_t i = 0; i < static_cast<int64_t>(types.size()); ++i)
    if (types[i] == kControl && (builder != Builder::ByteLevel || in_byte_alphabet(tokens[i])))
      added.add(tokens[i], true);
  for (int64_t i = 0; i < static_cast<int64_t>(types.size()); ++i)
    if (types[i] == kUserDefined && (vocab.has(tokens[i]) || added.has(tokens[i]))) added.add(tokens[i], false);

  GgufTokenizerJson out;
  std::map<std::string, std::string> named;  // bos_token -> its string
  for (const auto& [name, key] : {std::pair{"bos_token", "tokenizer.ggml.bos_token_id"},
                                  {"eos_token", "tokenizer.ggml.eos_token_id"},
                                  {"unk_token", "tokenizer.ggml.unknown_token_id"},
                                  {"pad_token", "tokenizer.ggml.padding_token_id"}}) {
    const std::optional<int64_t> id = gguf.get_int_or(key);
    if (!id) {
      out.declared.named[name] = std::nullopt;
      continue;
    }
    TUNE_CHECK(*id >= 0 && *id < n, file, ": ", key, " ", *id, " is not a token id (", n, " tokens)");
    named[name] = tokens[*id];
    out.declared.named[name] = DeclaredToken{tokens[*id], file, key};
  }
  for (const char* name : {"bos_token", "eos_token", "unk_token", "pad_token"})
    if (auto it = named.find(name); it != named.end()) added.add(it->second, true);
  if (is_gemma_arch(arch)) added.add("<mask>", true);  // GemmaTokenizer's mask_token, which the file does not name

  // The post-processor: [bos] $A [eos] per add_bos_token (llama.cpp's default for a SentencePiece vocabulary is on)
  // and add_eos_token, each only with the token present.
  const bool add_bos = gguf.get_bool_or("tokenizer.ggml.add_bos_token").value_or(model == "llama") &&
                       named.contains("bos_token");
  const bool add_eos = gguf.get_bool_or("tokenizer.ggml.add_eos_token").value_or(false) && named.contains("eos_token");
  json single = json::array(), special_tokens = json::object();
  auto special = [&](const std::string& token) {
    single.push_back({{"SpecialToken", {{"id", token}, {"type_id", 0}}}});
    special_tokens[token] = {{"id", token}, {"ids", json::array({added.id_of(token)})}, {"tokens", json::array({token})}};
  };
  if (add_bos) special(named["bos_token"]);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (add_eos) special(named["eos_token"]);
  doc["post_processor"] = {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", special_tokens}};
  doc["added_tokens"] = added.to_json();
  doc["model"] = std::move(bpe);
  out.doc = std::move(doc);
  return out;
}

}  // namespace text_detail

Tokenizer tokenizer_from_gguf(const GgufFile& gguf) {
  const text_detail::GgufTokenizerJson built = text_detail::gguf_tokenizer_json(gguf);
  auto [backend, specials] =
      text_detail::HfTokenizer::from_json(built.doc, gguf.source() + " (tokenizer metadata)", built.declared);
  return Tokenizer::from_backend(std::move(backend), specials, "GGUF metadata");
}

Tokenizer load_gguf_model_tokenizer(const GgufFile& gguf, int model_vocab_size) {
  Tokenizer tok = tokenizer_from_gguf(gguf);
  TUNE_CHECK(tok.vocab_size() <= model_vocab_size, "the tokenizer in ", gguf.source(), " (GGUF metadata) has ",
             tok.vocab_size(), " tokens but the model's vocab_size is ", model_vocab_size,
             "; the file's tokenizer does not fit its own embedding");
  return tok;
}

}  // namespace tune
