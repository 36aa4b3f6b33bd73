#include "serve/chat_routes.h"

namespace tune {

void add_chat_routes(httplib::Server& server, ServerContext& ctx) {
  server.Post("/v1/chat/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      ctx.check_model(ctx.parse_body(req));
      throw ApiError(501, "server_error", "not_implemented", "chat completions need text generation (branch h-gen)");
    });
  });
}

}  // namespace tune
