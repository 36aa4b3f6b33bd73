// POST /v1/chat/completions (OpenAI's chat completions, streaming and not).
#pragma once
#include <httplib.h>

#include "serve/server_context.h"

namespace tune {

void add_chat_routes(httplib::Server& server, ServerContext& ctx);

}  // namespace tune
