// POST /v1/chat/completions: OpenAI's chat completions over the model's chat template (LF ChatModel's prompt).
//   request  serve/chat_request.h
//   response {"id": "chatcmpl-N", "object": "chat.completion", "created", "model", "choices": [{"index": 0,
//            "message": {"role": "assistant", "content"}, "finish_reason": "stop" | "length"}],
//            "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}
//   stream   server-sent events "data: {chunk}\n\n": object "chat.completion.chunk", the first delta
//            {"role": "assistant", "content": ""}, then {"content": text} pieces, a last chunk with an empty delta
//            and the finish_reason, then "data: [DONE]\n\n". A client that disconnects cancels the generation.
// Generation runs on the worker thread like every model call; a full queue answers 503 before streaming starts.
#pragma once
#include <httplib.h>

#include "serve/server_context.h"

namespace tune {

void add_chat_routes(httplib::Server& server, ServerContext& ctx);

}  // namespace tune
