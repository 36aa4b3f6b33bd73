#include "serve/chat_request.h"

#include "core/error.h"
#include "serve/api_error.h"

namespace tune {

namespace {

std::string content_text(const Json& message, size_t i) {
  auto it = message.find("content");
  if (it != message.end() && it->is_string()) return it->get<std::string>();
  if (it != message.end() && it->is_array()) {
    std::string text;
    for (const Json& part : *it) {
      // (value("type", "") would throw nlohmann's type_error, a 500, for a "type" that is not a string)
      const auto type = part.find("type");  // end() for a part that is not an object
      if (type == part.end() || *type != "text" || !part.contains("text") || !part["text"].is_string())
        throw bad_request("invalid_content", cat("messages[", i, "]: only text content parts are supported"));
      text += part["text"].get<std::string>();
    }
    return text;
  }
  throw bad_request("invalid_content", cat("messages[", i, "] needs a string \"content\""));
}

std::vector<Message> read_messages(const Json& body, std::string& system) {
  auto list = body.find("messages");
  if (list == body.end() || !list->is_array() || list->empty())
    throw bad_request("invalid_messages", "\"messages\" must be a non-empty list of {\"role\", \"content\"}");
  std::vector<Message> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& m = (*list)[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      throw bad_request("invalid_messages", cat("messages[", i, "] needs a string \"role\""));
    const std::string role = m["role"], text = content_text(m, i);
    if (role == "system" && i == 0) {
      system = text;
      continue;
    }
    const Role expected = out.size() % 2 == 0 ? Role::User : Role::Assistant;
    const char* expected_name = expected == Role::User ? "user" : "assistant";
    if (role != expected_name)
      throw bad_request("invalid_messages", cat("messages[", i, "] has role '", role, "' where '", expected_name,
                                                "' is expected (an optional system message first, then user and "
                                                "assistant alternating, ending with user)"));
    out.push_back({expected, text});
  }
  if (out.empty() || out.back().role != Role::User)
    throw bad_request("invalid_messages", "the last message must be the user's");
  return out;
}

// The number at `key` when present and not null.
const Json* number_field(const Json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  if (!it->is_number()) throw bad_request("invalid_" + std::string(key), cat("\"", key, "\" must be a number"));
  return &*it;
}

}  // namespace

ChatRequest parse_chat_request(const Json& body, const Plan& plan) {
  ChatRequest r;
  r.messages = read_messages(body, r.system);
  r.params = SamplingParams::from_plan(plan);
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (const Json* v = number_field(body, key)) {
      if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > 1'000'000)
        throw bad_request("invalid_max_tokens", cat("\"", key, "\" must be an integer >= 1"));
      r.params.max_new_tokens = v->get<int>();
    }
  }
  if (const Json* v = number_field(body, "temperature")) {
    const double t = v->get<double>();
    if (!(t >= 0.0 && t <= 2.0)) throw bad_request("invalid_temperature", "\"temperature\" must be in [0, 2]");
    r.params.temperature = static_cast<float>(t);
    r.params.do_sample = t > 0.0;
  }
  if (auto d = body.find("do_sample"); d != body.end() && !d->is_null()) {
    if (!d->is_boolean()) throw bad_request("invalid_do_sample", "\"do_sample\" must be true or false");
    r.params.do_sample = d->get<bool>();
  }
  if (const Json* v = number_field(body, "top_p")) {
    // checked as the float the sampler uses: a tiny positive double rounds to 0
    const auto p = static_cast<float>(v->get<double>());
    if (!(p > 0.0f && p <= 1.0f)) throw bad_request("invalid_top_p", "\"top_p\" must be in (0, 1]");
    r.params.top_p = p;
  }
  if (const Json* v = number_field(body, "seed")) {
    // nlohmann stores every non-negative integer as unsigned (up to 2^64 - 1, all valid seeds)
    if (!v->is_number_unsigned()) throw bad_request("invalid_seed", "\"seed\" must be a non-negative integer");
    r.params.seed = v->get<uint64_t>();
  }
  if (const Json* v = number_field(body, "n"); v && !(v->is_number_integer() && v->get<int64_t>() == 1))
    throw bad_request("invalid_n", "only \"n\": 1 is supported");
  if (auto s = body.find("stream"); s != body.end() && !s->is_null()) {
    if (!s->is_boolean()) throw bad_request("invalid_stream", "\"stream\" must be true or false");
    r.stream = s->get<bool>();
  }
  return r;
}

}  // namespace tune
