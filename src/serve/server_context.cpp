#include "serve/server_context.h"

#include "core/error.h"

namespace tune {

nlohmann::ordered_json error_body(const std::string& message, const std::string& type, const std::string& code) {
  nlohmann::ordered_json e;
  e["message"] = message;
  e["type"] = type;
  e["param"] = nullptr;
  e["code"] = code;
  return {{"error", e}};
}

Json ServerContext::parse_body(const httplib::Request& req) const {
  Json body;
  try {
    body = Json::parse(req.body, refuse_deep_json, /*allow_exceptions=*/false);
  } catch (const JsonTooDeep&) {
    throw bad_request("invalid_json", cat("the request body nests arrays and objects more than ", kMaxJsonDepth,
                                          " deep"));
  }
  if (body.is_discarded())
    throw bad_request("invalid_json", "the request body is not valid JSON; send one JSON object");
  if (!body.is_object())
    throw bad_request("invalid_json", std::string("the request body must be a JSON object, got ") + body.type_name());
  return body;
}

void ServerContext::check_model(const Json& body) const {
  auto it = body.find("model");
  if (it == body.end() || it->is_null()) return;
  if (!it->is_string()) throw bad_request("invalid_model", "\"model\" must be a string");
  if (strict_model && *it != model.model_id)
    throw ApiError(404, "invalid_request_error", "model_not_found",
                   "the model '" + it->get<std::string>() + "' does not exist; this server serves '" + model.model_id +
                       "' (GET /v1/models)");
}

ApiError ServerContext::queue_full() const {
  return ApiError(503, "server_error", "queue_full",
                  cat("the server is busy: ", queue.capacity(), " requests are already waiting; retry later"));
}

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  if (e.status == 503) res.set_header("Retry-After", "1");
  res.set_content(error_body(e.what(), e.type, e.code).dump(), "application/json");
}

void send_json(httplib::Response& res, const Json& body) {
  res.status = 200;
  res.set_content(body.dump(), "application/json");
}

void answer(httplib::Response& res, const std::function<void()>& handler) {
  try {
    handler();
  } catch (const ApiError& e) {
    send_error(res, e);
  } catch (const Error& e) {
    send_error(res, bad_request("invalid_request", e.what()));
  } catch (const std::exception& e) {
    send_error(res, ApiError(500, "server_error", "internal_error", e.what()));
  }
}

}  // namespace tune
