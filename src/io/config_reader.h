// ConfigReader: typed, error-naming access to the keys of one config.json object (shared by io/hf_config and the
// model families' config mappers).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tune {

class ConfigReader {
 public:
  using json = nlohmann::json;
  // `source` names the file (and, for a nested object, the key path) in errors.
  ConfigReader(const json& obj, std::string source) : obj_(obj), source_(std::move(source)) {}

  // The value of `key`, or nullptr when the key is absent or null.
  const json* find(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  int required_int(const char* key) const {
    const json* v = find(key);
    if (!v) fail(source_, ": missing required key '", key, "'; is this an HF config.json of a supported model?");
    return to_int(key, *v);
  }

  int optional_int(const char* key, int fallback) const {
    const json* v = find(key);
    return v ? to_int(key, *v) : fallback;
  }

  double optional_number(const char* key, double fallback) const {
    const json* v = find(key);
    return v ? to_number(key, *v) : fallback;
  }

  bool optional_bool(const char* key, bool fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(source_, ": '", key, "' must be true or false, got ", v->dump());
    return v->get<bool>();
  }

  // A string value, or nullptr when absent/null.
  const std::string* optional_string(const char* key) const {
    const json* v = find(key);
    if (!v) return nullptr;
    if (!v->is_string()) fail(source_, ": '", key, "' must be a string, got ", v->dump());
    return v->get_ptr<const std::string*>();
  }

  // A token id that may also be a list of ids (eos_token_id in newer configs): the first one is used.
  int token_id(const char* key, int fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (v->is_array()) {
      if (v->empty()) fail(source_, ": '", key, "' is an empty list; give at least one token id");
      return to_int(key, v->front());
    }
    return to_int(key, *v);
  }

  int to_int(const char* key, const json& v) const {
    if (!v.is_number_integer()) fail(source_, ": '", key, "' must be an integer, got ", v.dump());
    const int64_t x = v.get<int64_t>();
    if (x < INT32_MIN || x > INT32_MAX) fail(source_, ": '", key, "' = ", x, " is out of range");
    return static_cast<int>(x);
  }

  double to_number(const char* key, const json& v) const {
    if (!v.is_number()) fail(source_, ": '", key, "' must be a number, got ", v.dump());
    return v.get<double>();
  }

  const json& object() const { return obj_; }
  const std::string& source() const { return source_; }

 private:
  const json& obj_;
  std::string source_;
};

}  // namespace tune
