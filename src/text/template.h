// Chat templates as LLaMA-Factory defines them: messages -> (prompt ids, answer ids) per turn, each string element
// encoded separately and concatenated.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/tokenizer.h"

namespace tune {

enum class Role { User, Assistant };

struct Message {
  Role role;
  std::string content;
};

using TokenIds = std::vector<int32_t>;
struct EncodedTurn {
  TokenIds source;  // the prompt side of the turn (system/prefix on the first turn, user turn, separators)
  TokenIds target;  // the answer side of the turn
};

class Template {
 public:
  // Known names (slots in text/template_registry.cpp):
  //   "gemma"          LF 2024-02-23 .. v0.9.1, the seed run's: [bos]+system always, user
  //                    "<start_of_turn>user\n{q}<end_of_turn>\n<start_of_turn>model\n", answer "{a}",
  //                    separator "<end_of_turn>\n", efficient_eos.
  //   "gemma_current"  LF >= v0.9.3: prefix [bos], "{system}\n\n" fused into the first user message, answer
  //                    "{a}<end_of_turn>\n", eos replaced by <end_of_turn>, no separator.
  //   "default"        LF v0.5.x: system "{s}\n", user "Human: {q}\nAssistant: ", answer "{a}"+eos, separator "\n".
  //   "alpaca"         LF v0.5.x: LF's default system prompt, user "### Instruction:\n{q}\n\n### Response:\n",
  //                    answer "{a}"+eos, separator "\n\n".
  //   "empty"          LF >= v0.8: bare text, no eos.
  // and the model families' templates of current LF (text/template_registry.cpp): "llama3", "llama2", "mistral",
  // "qwen", "qwen3_nothink", "chatml", "smollm", "smollm2", "gemma2", "gemma3" (gemma3 = gemma_current's slots).
  // Unknown name -> tune::Error listing the known ones.
  static const Template& get(std::string_view name);
  static std::vector<std::string> names();

  const std::string& name() const { return name_; }
  // True when the answers carry no eos: the caller appends eos_id() after the last target (SFT) or after each of
  // chosen/rejected (RM), as LF's preprocess does.
  bool efficient_eos() const { return efficient_eos_; }
  // The eos this template trains with: the tokenizer's eos, or for a template with LF's replace_eos its stop word
  // ("gemma_current": <end_of_turn>; Error when the tokenizer lacks it).
  int32_t eos_id(const Tokenizer& tok) const;
  // The ids generation stops at (LF get_stop_token_ids): eos_id(tok), then the template's stop words that the
  // tokenizer has, without repeats.
  std::vector<int32_t> stop_ids(const Tokenizer& tok) const;

  // Encodes alternating user/assistant messages (user first, assistant last) into one EncodedTurn per pair, with the
  // seed-era (LF v0.5.x Template._encode + _make_pairs) rules for every template: the first user message gets the
  // prefix and system slots (system = default system when empty), later user messages the separator; each message
  // is encoded on its own. Cutoff: per turn, with budget = cutoff_len - tokens kept so far, max_target =
  // max(int(budget * (t / (s + t))), 1) in double arithmetic exactly as Python (so a turn that fits exactly can still
  // lose its last target token to rounding), max_source = budget - max_target, heads kept; stop once the budget is
  // used. No eos is appended here. Errors: cutoff_len < 1, no messages, odd count, roles out of order.
  std::vector<EncodedTurn> encode_multiturn(const Tokenizer& tok, const std::vector<Message>& messages,
                                            const std::string& system, int cutoff_len) const;

 private:
  struct Impl;  // the formatter elements, as LLaMA-Factory's template.py holds them (text/template.cpp)
  Template(std::string name, std::shared_ptr<const Impl> impl, bool efficient_eos);
  std::string name_;
  std::shared_ptr<const Impl> impl_;
  bool efficient_eos_;
};

}  // namespace tune
