#include "serve/api_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "core/error.h"
#include "core/threads.h"
#include "serve/chat_routes.h"
#include "serve/score_routes.h"
#include "serve/server_context.h"

namespace tune {

struct ApiServer::Impl {
  Impl(const InferenceModel& model, const ServeOptions& options)
      : queue(options.queue_size), ctx{model, queue, nullptr, nullptr} {}
  WorkQueue queue;
  ServerContext ctx;
  httplib::Server http;
  int port = 0;
  socket_t listen_socket = -1;  // the socket httplib bound
  std::atomic<bool> stop_requested{false}, in_run{false};
};

namespace {

// HTTP threads beyond those that wait on the model queue: reading requests, answering errors and models, streaming.
constexpr size_t kBusyHttpThreads = 8;

Json models_list(const ServerContext& ctx) {
  Json model = {{"id", ctx.model.model_id}, {"object", "model"}, {"created", ctx.created}, {"owned_by", "tune.cpp"}};
  return {{"object", "list"}, {"data", Json::array({model})}};
}

// The method each route answers; httplib answers any other method on these paths 404 like an unknown path.
const char* route_method(const std::string& path) {
  if (path == "/v1/models") return "GET";
  if (path == "/v1/chat/completions" || path == "/v1/score" || path == "/v1/score/evaluation") return "POST";
  return nullptr;
}

// Fills the errors httplib itself answers (no route, body too large, unreadable request) in OpenAI's shape.
httplib::Server::HandlerResponse fill_error(const ServeOptions& options, const httplib::Request& req,
                                            httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // a route answered already
  const char* allowed = res.status == 404 ? route_method(req.path) : nullptr;
  if (allowed && req.method != allowed) {
    res.set_header("Allow", allowed);
    send_error(res, ApiError(405, "invalid_request_error", "method_not_allowed",
                             cat(req.path, " takes ", allowed, ", not ", req.method)));
  } else if (res.status == 404) {
    send_error(res, ApiError(404, "invalid_request_error", "not_found",
                             cat("no route ", req.method, " ", req.path,
                                 "; routes: GET /v1/models, POST /v1/chat/completions, POST /v1/score, "
                                 "POST /v1/score/evaluation")));
  } else if (res.status == 413 &&
             req.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded") &&
             req.get_header_value<uint64_t>("Content-Length") <= options.max_body_bytes) {
    // httplib caps a form body at 8 KiB whatever the server's limit: curl -d without -H sends JSON as a form
    send_error(res, ApiError(415, "invalid_request_error", "unsupported_media_type",
                             cat("the body came as application/x-www-form-urlencoded, which is limited to ",
                                 CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH,
                                 " bytes; send JSON with Content-Type: application/json")));
  } else if (res.status == 413) {
    send_error(res, ApiError(413, "invalid_request_error", "request_too_large",
                             cat("the request body is over the limit of ", options.max_body_bytes, " bytes")));
  } else {
    send_error(res, ApiError(res.status, "invalid_request_error", "bad_request",
                             cat("the server could not read the request (HTTP ", res.status, ")")));
  }
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

ApiServer::ApiServer(const InferenceModel& model, const ServeOptions& options)
    : impl_(std::make_unique<Impl>(model, options)) {
  ServerContext& ctx = impl_->ctx;
  ctx.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  ctx.max_items_per_forward = std::max(1, model.plan.per_device_eval_batch_size);
  ctx.strict_model = options.strict_model;
  // OpenMP's thread count is per thread: the worker, which runs every model call, needs the plan's too
  impl_->queue.try_push([n = model.plan.threads] { apply_threads(n); });
  if (model.value_head) ctx.scorer = std::make_unique<RewardScorer>(model);
  if (model.chat_template) ctx.generator = std::make_unique<Generator>(model);

  httplib::Server& http = impl_->http;
  http.set_payload_max_length(options.max_body_bytes);
  // Each waiting request holds an HTTP thread, and httplib's default pool has 8: size it so that --queue-size
  // requests can wait while others are read and answered, and the queue, not the pool, is what fills (503).
  http.new_task_queue = [n = options.queue_size + kBusyHttpThreads] { return new httplib::ThreadPool(n); };
  // httplib's default SO_REUSEPORT would let a second server share the port silently; SO_REUSEADDR alone refuses
  // a port in use but still binds over one a stopped server left in TIME_WAIT
  http.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    impl_->listen_socket = sock;
  });
  // httplib 0.11 reads the body of a POST (PUT, PATCH, DELETE) without Content-Length until the client closes, so a
  // client that sends none (curl -X POST without -d) waited for the 5 s read timeout and got a vague 400; a request
  // without either header has no body (RFC 9112 6.3), which the routes cannot use
  http.set_pre_routing_handler([options](const httplib::Request& req, httplib::Response& res) {
    const bool takes_body =
        req.method == "POST" || req.method == "PUT" || req.method == "PATCH" || req.method == "DELETE";
    if (!takes_body || req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
      return httplib::Server::HandlerResponse::Unhandled;
    const char* allowed = route_method(req.path);
    if (!allowed || req.method != allowed) {  // the 404 or 405 the route table gives
      res.status = 404;
      return fill_error(options, req, res);
    }
    send_error(res, ApiError(411, "invalid_request_error", "length_required",
                             cat(req.method, " ", req.path, " needs a JSON body with a Content-Length header")));
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [options](const httplib::Request& req, httplib::Response& res) { return fill_error(options, req, res); }));
  http.Get("/v1/models", [&ctx](const httplib::Request&, httplib::Response& res) {
    answer(res, [&] { send_json(res, models_list(ctx)); });
  });
  add_score_routes(http, ctx);
  add_chat_routes(http, ctx);

  impl_->port = options.port == 0 ? http.bind_to_any_port(options.host)
                                  : (http.bind_to_port(options.host, options.port) ? options.port : -1);
  TUNE_CHECK(impl_->port > 0, "cannot listen on ", options.host, ":", options.port,
             " (the port is in use or the host is not an address of this machine); choose another --port or --host");
  // httplib 0.11 listens with a backlog of 5: a burst of clients overflows the accept queue and waits for TCP
  // retransmits (seconds) or fails. Listening again on the bound socket raises the backlog (Linux).
  ::listen(impl_->listen_socket, SOMAXCONN);
}

ApiServer::~ApiServer() {
  stop();
  impl_->queue.close();
}

int ApiServer::port() const { return impl_->port; }

void ApiServer::run() {
  impl_->in_run = true;
  // listen returns after stop(), once the HTTP threads have finished their requests
  if (!impl_->stop_requested) impl_->http.listen_after_bind();
  impl_->in_run = false;
  impl_->queue.close();
}

void ApiServer::stop() {
  impl_->stop_requested = true;
  // httplib's stop() does nothing before its listen loop runs: wait for it while run() is starting it
  while (!impl_->http.is_running() && impl_->in_run) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->http.stop();
}

}  // namespace tune
