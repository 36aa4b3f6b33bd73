// BPE as HF `tokenizers` runs it: characters (or byte-fallback <0xXX> tokens, or a fused unk) merged by rank, the
// lowest rank first and the leftmost among equals; ignore_merges takes a whole word that is in the vocabulary.
#include <queue>

#include "core/error.h"
#include "text/string_map.h"
#include "text/subword_model.h"
#include "text/unicode.h"

namespace tune::text_detail {

using json = nlohmann::json;

namespace {

class BpeModel final : public SubwordModel {
 public:
  BpeModel(const json& model, const std::string& file);
  void tokenize(std::string_view word, std::vector<int32_t>& out) const override;
  std::optional<std::string> id_to_token(int32_t id) const override {
    if (id < 0 || id >= static_cast<int32_t>(by_id_.size()) || !has_id_[id]) return std::nullopt;
    return by_id_[id];
  }
  std::optional<int32_t> token_to_id(std::string_view token) const override {
    if (auto it = vocab_.find(token); it != vocab_.end()) return it->second;
    return std::nullopt;
  }
  int size() const override { return static_cast<int>(by_id_.size()); }

 private:
  struct Merge {
    int32_t rank, new_id;
  };
  static uint64_t key(int32_t a, int32_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }
  const Merge* find_merge(int32_t a, int32_t b) const {
    auto it = merges_.find(key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  }

  StringMap<int32_t> vocab_;
  std::vector<std::string> by_id_;  // id -> token
  std::vector<bool> has_id_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> rank and merged id
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  std::string continuing_subword_prefix_, end_of_word_suffix_;
};

std::string optional_string(const json& model, const char* key, const std::string& file) {
  if (!model.contains(key) || model[key].is_null()) return "";
  TUNE_CHECK(model[key].is_string(), file, ": model.", key, " must be a string or null");
  return model[key].get<std::string>();
}

bool optional_bool(const json& model, const char* key, const std::string& file) {
  if (!model.contains(key) || model[key].is_null()) return false;
  TUNE_CHECK(model[key].is_boolean(), file, ": model.", key, " must be true or false");
  return model[key].get<bool>();
}

BpeModel::BpeModel(const json& model, const std::string& file) {
  TUNE_CHECK(model.contains("vocab") && model["vocab"].is_object(), file,
             ": model.vocab must be an object {\"token\": id, ...}");
  TUNE_CHECK(!model.contains("dropout") || model["dropout"].is_null() ||
                 (model["dropout"].is_number() && model["dropout"].get<double>() == 0.0),
             file, ": BPE dropout is not supported (it makes encoding random); set model.dropout to null");
  const json& vocab = model["vocab"];
  vocab_.reserve(vocab.size());
  by_id_.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    TUNE_CHECK(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < (1 << 30), file,
               ": model.vocab[\"", token, "\"] must be a non-negative token id");
    const int32_t i = id.get<int32_t>();
    vocab_[token] = i;
    if (i >= static_cast<int32_t>(by_id_.size())) {
      by_id_.resize(i + 1);
      has_id_.resize(i + 1, false);
    }
    by_id_[i] = token;
    has_id_[i] = true;
  }
  fuse_unk_ = optional_bool(model, "fuse_unk", file);
  byte_fallback_ = optional_bool(model, "byte_fallback", file);
  ignore_merges_ = optional_bool(model, "ignore_merges", file);
  continuing_subword_prefix_ = optional_string(model, "continuing_subword_prefix", file);
  end_of_word_suffix_ = optional_string(model, "end_of_word_suffix", file);
  if (const std::string unk = optional_string(model, "unk_token", file); !unk.empty()) {
    auto id = token_to_id(unk);
    TUNE_CHECK(id, file, ": model.unk_token \"", unk, "\" is not in model.vocab");
    unk_id_ = *id;
  }

  // Merges: "left right" strings (older files) or ["left", "right"] pairs (tokenizers >= 0.20). A later duplicate
  // replaces an earlier one, as in HF.
  static const json kNone = json::array();
  const json& merges = model.contains("merges") ? model["merges"] : kNone;  // a reference: no copy of the list
  TUNE_CHECK(merges.is_array(), file, ": model.merges must be a list");
  merges_.reserve(merges.size());
  std::string merged;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& m = merges[rank];
    std::string_view left, right;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ', 1);
      TUNE_CHECK(space != std::string::npos && s.find(' ', space + 1) == std::string::npos, file, ": model.merges[",
                 rank, "] \"", s, "\" must be two tokens separated by one space");
      left = std::string_view(s).substr(0, space);
      right = std::string_view(s).substr(space + 1);
    } else {
      TUNE_CHECK(m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string(), file, ": model.merges[",
                 rank, "] must be \"a b\" or [\"a\", \"b\"]");
      left = m[0].get_ref<const std::string&>();
      right = m[1].get_ref<const std::string&>();
    }
    const auto a = token_to_id(left), b = token_to_id(right);
    merged.assign(left);
    merged.append(right.substr(std::min(right.size(), continuing_subword_prefix_.size())));
    const auto c = token_to_id(merged);
    TUNE_CHECK(a && b && c, file, ": model.merges[", rank, "] (", left, " + ", right,
               ") uses a token that is not in model.vocab");
    merges_[key(*a, *b)] = {static_cast<int32_t>(rank), *c};
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    if (auto id = token_to_id(word)) {
      out.push_back(*id);
      return;
    }
  }
  // The initial symbols, one per character (HF BPE::merge_word).
  std::vector<int32_t> symbols;
  int32_t pending_unk = -1;  // a (fused) run of unknown characters waiting to be added, or -1
  for (size_t at = 0; at < word.size();) {
    const size_t len = std::min(utf8_char_len(static_cast<unsigned char>(word[at])), word.size() - at);
    std::string s(word.substr(at, len));
    if (at > 0) s = continuing_subword_prefix_ + s;
    if (at + len == word.size()) s += end_of_word_suffix_;
    at += len;
    if (auto id = token_to_id(s)) {
      if (pending_unk >= 0) symbols.push_back(pending_unk);
      pending_unk = -1;
      symbols.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      std::vector<int32_t> bytes;
      for (unsigned char b : s) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        if (auto id = token_to_id(name)) bytes.push_back(*id);
        else break;
      }
      if (bytes.size() == s.size()) {
        symbols.insert(symbols.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk >= 0 && !fuse_unk_) symbols.push_back(pending_unk);
      pending_unk = *unk_id_;
    }
  }
  if (pending_unk >= 0) symbols.push_back(pending_unk);

  // Merge by rank (HF Word::merge_all): a min-heap on (rank, position); stale entries are skipped.
  const int n = static_cast<int>(symbols.size());
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Entry {
    int32_t rank;
    int pos;
    int32_t new_id;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  for (int i = 0; i + 1 < n; ++i)
    if (const Merge* m = find_merge(symbols[i], symbols[i + 1])) queue.push({m->rank, i, m->new_id});
  while (!queue.empty()) {
    const Entry top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const int right = next[top.pos];
    const Merge* m = find_merge(symbols[top.pos], symbols[right]);
    if (!m || m->new_id != top.new_id) continue;  // an expired entry
    symbols[top.pos] = top.new_id;
    alive[right] = false;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    if (prev[top.pos] >= 0)
      if (const Merge* pm = find_merge(symbols[prev[top.pos]], symbols[top.pos]))
        queue.push({pm->rank, prev[top.pos], pm->new_id});
    if (next[top.pos] >= 0)
      if (const Merge* nm = find_merge(symbols[top.pos], symbols[next[top.pos]]))
        queue.push({nm->rank, top.pos, nm->new_id});
  }
  for (int i = 0; i < n; ++i)
    if (alive[i]) out.push_back(symbols[i]);
}

}  // namespace

std::unique_ptr<SubwordModel> make_bpe_model(const json& model, const std::string& file) {
  return std::make_unique<BpeModel>(model, file);
}

}  // namespace tune::text_detail
