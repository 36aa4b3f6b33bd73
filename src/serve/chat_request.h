// The body of POST /v1/chat/completions (OpenAI's fields that tune.cpp serves) -> conversation and sampling.
#pragma once
#include <string>
#include <vector>

#include "config/plan.h"
#include "data/json_rows.h"
#include "infer/generator.h"
#include "text/template.h"

namespace tune {

struct ChatRequest {
  std::vector<Message> messages;  // user, assistant, ..., user
  std::string system;             // a leading system message; empty = the plan's default_system
  SamplingParams params;          // the plan's generation keys, overridden by the request
  bool stream = false;
};

// Fields: messages [{"role": "system"|"user"|"assistant", "content": string or [{"type": "text", "text"}]}]
// (system only first; then user and assistant alternate, ending with user), max_tokens (or
// max_completion_tokens) >= 1, temperature in [0, 2] (sets do_sample = temperature > 0, so 0 is greedy), top_p in
// (0, 1], seed >= 0, stream, n = 1, and LLaMA-Factory's do_sample (wins over temperature). A field left out keeps
// the plan's generation key. Other OpenAI fields are ignored. ApiError 400 (invalid_request_error, code naming the field) for anything else.
ChatRequest parse_chat_request(const Json& body, const Plan& plan);

}  // namespace tune
