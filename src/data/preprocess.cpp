// Per-stage token ids and labels from aligned conversations (LLaMA-Factory v0.5.x data/preprocess.py).
#include "data/preprocess.h"

#include <algorithm>

namespace tune {
namespace {

constexpr int32_t kIgnoreIndex = -100;
constexpr const char* kEvenPrompt = "the prompt does not end with a user message";
constexpr const char* kNotOneResponse = "they do not have exactly one response";
constexpr const char* kFewerThanTwo = "they have fewer than 2 responses (chosen, rejected)";

std::vector<Message> with_answer(const AlignedExample& ex, const std::string& answer) {
  std::vector<Message> messages = ex.prompt;
  messages.push_back({Role::Assistant, answer});
  return messages;
}

void append(TokenIds& dst, const TokenIds& src) { dst.insert(dst.end(), src.begin(), src.end()); }

}  // namespace

void preprocess_pretrain(const std::vector<AlignedExample>& examples, const Tokenizer& tok, int cutoff_len,
                         PreparedData& out) {
  const std::string eos = tok.id_to_piece(tok.eos_id());
  const size_t block = static_cast<size_t>(cutoff_len);
  for (size_t start = 0; start < examples.size(); start += kHfMapBatchSize) {
    size_t stop = std::min(examples.size(), start + kHfMapBatchSize);
    TokenIds ids;  // [total tokens of this map batch]
    for (size_t i = start; i < stop; ++i) append(ids, tok.encode(examples[i].prompt.front().content + eos));
    for (size_t at = 0; at + block <= ids.size(); at += block) {
      SupervisedExample ex;
      ex.input_ids.assign(ids.begin() + at, ids.begin() + at + block);  // [cutoff_len]
      ex.labels = ex.input_ids;
      std::replace(ex.labels.begin(), ex.labels.end(), tok.pad_id(), kIgnoreIndex);
      out.supervised.push_back(std::move(ex));
    }
  }
}

void preprocess_supervised(const std::vector<AlignedExample>& examples, const Tokenizer& tok, const Template& tmpl,
                           int cutoff_len, bool train_on_prompt, PreparedData& out, DropTally& drops) {
  const int32_t eos = tmpl.eos_id(tok);
  for (const AlignedExample& ex : examples) {
    if (ex.prompt.size() % 2 != 1) {
      drops.add(kEvenPrompt);
      continue;
    }
    if (ex.responses.size() != 1) {
      drops.add(kNotOneResponse);
      continue;
    }
    SupervisedExample result;
    std::vector<EncodedTurn> turns = tmpl.encode_multiturn(tok, with_answer(ex, ex.responses[0]), ex.system,
                                                           cutoff_len);
    for (size_t t = 0; t < turns.size(); ++t) {
      const EncodedTurn& turn = turns[t];
      append(result.input_ids, turn.source);
      append(result.input_ids, turn.target);
      if (train_on_prompt) {
        append(result.labels, turn.source);
      } else {
        size_t first = result.labels.size();
        result.labels.resize(first + turn.source.size(), kIgnoreIndex);
        // efficient_eos: the eos that ends the previous answer is learned at the start of the next prompt (LF
        // labels it even when the truncated source is empty, misaligning labels; tune.cpp skips that case)
        if (t > 0 && tmpl.efficient_eos() && !turn.source.empty()) result.labels[first] = eos;
      }
      append(result.labels, turn.target);
    }
    if (tmpl.efficient_eos()) {
      result.input_ids.push_back(eos);
      result.labels.push_back(eos);
    }
    out.supervised.push_back(std::move(result));
  }
}

void preprocess_pairwise(const std::vector<AlignedExample>& examples, const Tokenizer& tok, const Template& tmpl,
                         int cutoff_len, PreparedData& out, DropTally& drops) {
  const int32_t eos = tmpl.eos_id(tok);
  for (const AlignedExample& ex : examples) {
    if (ex.prompt.size() % 2 != 1) {
      drops.add(kEvenPrompt);
      continue;
    }
    if (ex.responses.size() < 2) {
      drops.add(kFewerThanTwo);
      continue;
    }
    // Template.encode_oneturn: every turn but the last is prompt; the last turn's target is the answer.
    std::vector<EncodedTurn> chosen = tmpl.encode_multiturn(tok, with_answer(ex, ex.responses[0]), ex.system,
                                                            cutoff_len);
    std::vector<EncodedTurn> rejected = tmpl.encode_multiturn(tok, with_answer(ex, ex.responses[1]), ex.system,
                                                              cutoff_len);
    PairwiseExample pair;
    for (size_t t = 0; t + 1 < chosen.size(); ++t) {
      append(pair.prompt_ids, chosen[t].source);
      append(pair.prompt_ids, chosen[t].target);
    }
    append(pair.prompt_ids, chosen.back().source);
    pair.chosen_ids = chosen.back().target;
    pair.rejected_ids = rejected.back().target;
    if (tmpl.efficient_eos()) {
      pair.chosen_ids.push_back(eos);
      pair.rejected_ids.push_back(eos);
    }
    out.pairwise.push_back(std::move(pair));
  }
}

}  // namespace tune
