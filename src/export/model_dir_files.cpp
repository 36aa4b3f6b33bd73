#include "export/model_dir_files.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace tune {

namespace fs = std::filesystem;

std::string_view torch_dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::BF16: return "bfloat16";
    case DType::F16: return "float16";
    default: fail("a model stored as ", dtype_name(t), " cannot be exported; expected F32, BF16 or F16 weights");
  }
}

namespace {

struct Member {
  std::string key;                   // as written between the quotes (escapes not decoded)
  size_t key_start = 0;              // offset of the key's opening quote
  size_t value_start = 0, value_end = 0;  // the value's text is [value_start, value_end)
};

size_t skip_space(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i;
}

// i at an opening quote -> the offset after the closing one.
size_t skip_string(std::string_view t, size_t i) {
  for (++i; i < t.size() && t[i] != '"'; ++i)
    if (t[i] == '\\') ++i;
  return i + 1;
}

// i at the start of a value -> the offset after it.
size_t skip_value(std::string_view t, size_t i) {
  if (t[i] == '"') return skip_string(t, i);
  int depth = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '"') {
      i = skip_string(t, i) - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) break;
      if (--depth == 0) return i + 1;
    } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      break;
    }
  }
  return i;
}

// The top-level members of a JSON object text already known to be valid.
std::vector<Member> top_level_members(std::string_view t) {
  std::vector<Member> out;
  size_t i = skip_space(t, 0) + 1;  // past '{'
  while (true) {
    i = skip_space(t, i);
    if (t[i] == '}') break;
    Member m;
    m.key_start = i;
    const size_t key_end = skip_string(t, i);
    m.key = std::string(t.substr(i + 1, key_end - i - 2));
    i = skip_space(t, skip_space(t, key_end) + 1);  // past ':'
    m.value_start = i;
    m.value_end = i = skip_value(t, i);
    out.push_back(std::move(m));
    i = skip_space(t, i);
    if (t[i] == ',') ++i;
  }
  return out;
}

}  // namespace

std::string config_json_with_dtype(std::string_view source_text, const std::string& source, DType dtype) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(source_text);
  } catch (const nlohmann::json::exception& e) {
    fail(source, ": not valid JSON (", e.what(), ")");
  }
  TUNE_CHECK(j.is_object(), source, ": expected a JSON object at the top level");
  // Edited as text, so that every other byte (1e-06, 10000.0, key order, spacing) stays as the source wrote it.
  const std::string value = "\"" + std::string(torch_dtype_name(dtype)) + "\"";
  const std::vector<Member> members = top_level_members(source_text);
  std::string out(source_text);
  bool set = false;
  for (auto m = members.rbegin(); m != members.rend(); ++m)  // from the back, so earlier offsets stay valid
    if (m->key == "torch_dtype" || m->key == "dtype") {
      out.replace(m->value_start, m->value_end - m->value_start, value);
      set = true;
    }
  if (!set) {
    // after the last member, indented as the first one is; or alone in an empty object
    const std::string member = "\"torch_dtype\": " + value;
    if (members.empty()) {
      out.insert(source_text.find('{') + 1, member);
    } else {
      const size_t first_key = members.front().key_start;
      const size_t indent_from = source_text.find_last_of('\n', first_key);
      const std::string indent = indent_from == std::string::npos || indent_from < source_text.find('{')
                                     ? " "
                                     : std::string(source_text.substr(indent_from, first_key - indent_from));
      out.insert(members.back().value_end, "," + indent + member);
    }
  }
  if (out.empty() || out.back() != '\n') out += "\n";
  return out;
}

std::string generation_config_json(const ModelConfig& cfg) {
  nlohmann::ordered_json j;
  j["_from_model_config"] = true;
  j["bos_token_id"] = cfg.bos_token_id;
  j["eos_token_id"] = cfg.eos_token_id;
  j["pad_token_id"] = cfg.pad_token_id;
  return j.dump(2) + "\n";
}

std::vector<std::string> copy_tokenizer_files(const fs::path& from, const fs::path& to) {
  static constexpr const char* kFiles[] = {"tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                                           "special_tokens_map.json", "added_tokens.json", "chat_template.jinja"};
  std::vector<std::string> copied;
  for (const char* name : kFiles) {
    if (!fs::is_regular_file(from / name)) continue;
    copy_file_atomic(from / name, to / name);
    copied.push_back(name);
  }
  return copied;
}

void copy_file_atomic(const fs::path& from, const fs::path& to) { write_file_atomic(to, read_text_file(from)); }

}  // namespace tune
