// Typed reads of tokenizer.json entries with errors that name the file and the entry (private to src/text).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace tune::text_detail {

inline const nlohmann::json& hf_field(const nlohmann::json& j, const char* key, const std::string& where) {
  TUNE_CHECK(j.is_object() && j.contains(key), where, ": missing \"", key, "\"");
  return j[key];
}

inline std::string hf_string(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json& v = hf_field(j, key, where);
  TUNE_CHECK(v.is_string(), where, ": \"", key, "\" must be a string");
  return v.get<std::string>();
}

inline bool hf_bool(const nlohmann::json& j, const char* key, bool fallback, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  TUNE_CHECK(j[key].is_boolean(), where, ": \"", key, "\" must be true or false");
  return j[key].get<bool>();
}

// The "type" of a pipeline stage.
inline std::string hf_type(const nlohmann::json& j, const std::string& where) { return hf_string(j, "type", where); }

}  // namespace tune::text_detail
