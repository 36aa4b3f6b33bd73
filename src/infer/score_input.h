// One thing to score, read from a JSON object (a line of `tune score` input, an input of POST /v1/score) and
// tokenized exactly as the rm training data path does (data/aligner + preprocess_pairwise: template, answer + eos,
// cutoff_len).
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "data/json_rows.h"
#include "infer/inference_model.h"

namespace tune {

struct ScoreItem {
  bool pair = false;               // chosen and rejected were given
  std::vector<TokenIds> sequences;  // [1] prompt + answer, or [2] prompt + chosen, prompt + rejected (each + eos)
};

// Where an object came from, for error messages: "<file>:<line>" when line > 0, else "<file> element <element>".
struct ItemSource {
  std::filesystem::path file;
  int64_t line = 0;
  int64_t element = 0;
};

// The formats (LLaMA-Factory's dataset formats, detected by key, first match wins):
//   {"messages": [{"role", "content"}, ...]}     OpenAI style, roles system/user/assistant
//   {"conversations": [{"from", "value"}, ...]}  sharegpt, from system/human/gpt
//   {"instruction", "input", "output", "system", "history"}  alpaca (user message = instruction + "\n" + input)
//   {"prompt", "response", "system", "history"}
// A conversation's last message (or output / response) is the answer scored. A pair: "chosen" and "rejected" next to
// a prompt (strings, or for messages/conversations also message objects; the messages then end with the user's), or
// an alpaca ranking "output" (or "response") list [chosen, rejected, ...] of which the first two count.
// tune::Error "<where>: ..." for anything else: not an object, no known key, no answer, roles out of order, wrong
// types. The model must have a chat template.
ScoreItem read_score_item(const Json& object, const InferenceModel& model, const ItemSource& source);

}  // namespace tune
