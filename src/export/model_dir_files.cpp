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

std::string config_json_with_dtype(std::string_view source_text, const std::string& source, DType dtype) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(source_text);
  } catch (const nlohmann::json::exception& e) {
    fail(source, ": not valid JSON (", e.what(), ")");
  }
  TUNE_CHECK(j.is_object(), source, ": expected a JSON object at the top level");
  const std::string name(torch_dtype_name(dtype));
  bool set = false;
  for (const char* key : {"torch_dtype", "dtype"})
    if (j.contains(key)) j[key] = name, set = true;
  if (!set) j["torch_dtype"] = name;
  return j.dump(2) + "\n";
}

std::string generation_config_json(const ModelConfig& cfg) {
  nlohmann::ordered_json j;
  j["_from_model_config"] = true;
  // An id the config leaves unset (Llama's pad, Qwen's bos) is -1 in the spec and left out, as HF leaves None out.
  if (cfg.bos_token_id >= 0) j["bos_token_id"] = cfg.bos_token_id;
  if (cfg.eos_token_id >= 0) j["eos_token_id"] = cfg.eos_token_id;
  if (cfg.pad_token_id >= 0) j["pad_token_id"] = cfg.pad_token_id;
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
