// libFuzzer target: a POST /v1/chat/completions body (parse_chat_request over the JSON text, as `tune serve` reads
// it). ApiError 400 is the expected rejection; any other exception escaping (a 500 in the server), an accepted
// request the generator would refuse, or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "serve/api_error.h"
#include "serve/chat_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const tune::Json body = tune::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return 0;  // the server answers these before parsing the request
  static const tune::Plan plan;
  tune::ChatRequest r;
  try {
    r = tune::parse_chat_request(body, plan);
  } catch (const tune::ApiError& e) {
    if (e.status != 400) std::abort();
    return 0;
  }
  // What the worker needs of an accepted request: user first, alternating, ending with the user; sampling in range.
  if (r.messages.empty() || r.messages.back().role != tune::Role::User) std::abort();
  for (size_t i = 0; i < r.messages.size(); ++i)
    if (r.messages[i].role != (i % 2 == 0 ? tune::Role::User : tune::Role::Assistant)) std::abort();
  const tune::SamplingParams& p = r.params;
  if (p.max_new_tokens < 1 || !(p.temperature >= 0.0f && p.temperature <= 2.0f) || !(p.top_p > 0.0f && p.top_p <= 1.0f))
    std::abort();
  return 0;
}
