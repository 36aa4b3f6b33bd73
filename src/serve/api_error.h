// Errors answered in OpenAI's shape: HTTP status + {"error": {"message", "type", "param": null, "code"}}.
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace tune {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, std::string code, const std::string& message)
      : std::runtime_error(message), status(status), type(std::move(type)), code(std::move(code)) {}
  int status;
  std::string type;  // invalid_request_error | server_error | ...
  std::string code;  // machine-readable: invalid_json, model_not_found, queue_full, ...
};

inline ApiError bad_request(const std::string& code, const std::string& message) {
  return ApiError(400, "invalid_request_error", code, message);
}

nlohmann::ordered_json error_body(const std::string& message, const std::string& type, const std::string& code);

}  // namespace tune
