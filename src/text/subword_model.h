// The "model" stage of an HF tokenizer.json: BPE (byte-level, or on characters with byte fallback), mapping one
// pre-tokenized word to ids exactly as HF `tokenizers` does (private to src/text).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tune::text_detail {

class SubwordModel {
 public:
  virtual ~SubwordModel() = default;
  // Appends the ids of one word (a pre-tokenized piece; never empty).
  virtual void tokenize(std::string_view word, std::vector<int32_t>& out) const = 0;
  virtual std::optional<std::string> id_to_token(int32_t id) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual int size() const = 0;  // one past the largest id
};

// tokenizer.json "model" (type BPE) -> the model; anything else or a malformed entry -> Error naming
// `file`.
std::unique_ptr<SubwordModel> parse_subword_model(const nlohmann::json& model, const std::string& file);

}  // namespace tune::text_detail
