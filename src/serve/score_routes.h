// POST /v1/score (tune.cpp's own) and POST /v1/score/evaluation (LLaMA-Factory api_demo's) for reward models.
#pragma once
#include <httplib.h>

#include "serve/server_context.h"

namespace tune {

// /v1/score
//   request  {"model"?: id, "input": [item, ...]}  where each item is a conversation or a pair in any format
//            `tune score` reads (infer/score_input.h), or one conversation at the top level: {"model"?, "messages"}
//   response {"id", "object": "score", "model", "scores": [s, ...]}: a number for a conversation, or
//            {"chosen_score", "rejected_score"} for a pair; the same numbers `tune score` writes
// /v1/score/evaluation
//   request  {"model"?: id, "messages": ["full text", ...], "max_length"?: n}: each text tokenized as is with bos
//            (no template), cut to max_length tokens (default cutoff_len)
//   response {"id", "object": "score.evaluation", "model", "scores": [s, ...]}
// A model without a value head answers 400 (code no_value_head).
void add_score_routes(httplib::Server& server, ServerContext& ctx);

}  // namespace tune
