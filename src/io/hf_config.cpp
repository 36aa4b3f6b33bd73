// config.json -> ModelConfig for Gemma-1: defaults, both RoPE layouts, the activation rule, and validation.
#include "io/hf_config.h"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace tune {
namespace {

using json = nlohmann::json;

// Reads typed fields of one config.json object; every error names the file and the key.
class ConfigReader {
 public:
  ConfigReader(const json& obj, const std::string& source) : obj_(obj), source_(source) {}

  // The value of `key`, or nullptr when the key is absent or null.
  const json* find(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  int required_int(const char* key) const {
    const json* v = find(key);
    if (!v) fail(source_, ": missing required key '", key, "'; is this an HF config.json of a gemma model?");
    return to_int(key, *v);
  }

  int optional_int(const char* key, int fallback) const {
    const json* v = find(key);
    return v ? to_int(key, *v) : fallback;
  }

  double optional_number(const char* key, double fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    return to_number(key, *v);
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

  const std::string& source() const { return source_; }

 private:
  const json& obj_;
  const std::string& source_;
};

// rope_type "default" (or absent) is the only RoPE Gemma-1 uses; anything else would change the math.
void check_rope_type(const ConfigReader& r, const json& rope, const char* key) {
  if (!rope.is_object()) fail(r.source(), ": '", key, "' must be an object, got ", rope.dump());
  for (const char* type_key : {"rope_type", "type"}) {
    auto it = rope.find(type_key);
    if (it == rope.end() || it->is_null()) continue;
    if (!it->is_string() || it->get<std::string>() != "default")
      fail(r.source(), ": '", key, "' has ", type_key, " ", it->dump(),
           "; RoPE scaling is not supported for gemma yet (only the default RoPE)");
  }
}

// Reads rope_theta from the 2024 layout (top-level rope_theta) or the newer rope_parameters object.
double parse_rope_theta(const ConfigReader& r) {
  double theta = r.optional_number("rope_theta", 10000.0);
  if (const json* scaling = r.find("rope_scaling")) check_rope_type(r, *scaling, "rope_scaling");
  if (const json* params = r.find("rope_parameters")) {
    check_rope_type(r, *params, "rope_parameters");
    auto it = params->find("rope_theta");
    if (it != params->end() && !it->is_null()) theta = r.to_number("rope_parameters.rope_theta", *it);
  }
  return theta;
}

// transformers v5 rule: hidden_activation (4.4x-era files) wins when set, else hidden_act; every GELU name that
// HF maps to the tanh approximation for Gemma means tanh-GELU.
Activation parse_activation(const ConfigReader& r, bool exact_gelu) {
  const char* key = r.optional_string("hidden_activation") ? "hidden_activation" : "hidden_act";
  const std::string* name = r.optional_string(key);
  if (name && *name != "gelu_pytorch_tanh" && *name != "gelu_new" && *name != "gelu_fast" && *name != "gelu")
    fail(r.source(), ": '", key, "' = \"", *name,
         "\" is not supported for gemma; use gelu_pytorch_tanh (or gelu, gelu_new, gelu_fast)");
  return exact_gelu ? Activation::GeluExact : Activation::GeluTanh;
}

DType parse_torch_dtype(const ConfigReader& r) {
  const char* key = r.optional_string("torch_dtype") ? "torch_dtype" : "dtype";
  const std::string* name = r.optional_string(key);
  if (!name || *name == "float32") return DType::F32;
  if (*name == "bfloat16") return DType::BF16;
  if (*name == "float16") return DType::F16;
  fail(r.source(), ": '", key, "' = \"", *name, "\" is not supported; expected float32, bfloat16 or float16");
}

void validate(const ModelConfig& c, const std::string& source) {
  auto positive = [&](const char* key, double v) {
    TUNE_CHECK(v > 0, source, ": '", key, "' must be > 0, got ", v);
  };
  positive("vocab_size", c.vocab_size);
  positive("hidden_size", c.hidden_size);
  positive("intermediate_size", c.intermediate_size);
  positive("num_hidden_layers", c.num_layers);
  positive("num_attention_heads", c.num_heads);
  positive("num_key_value_heads", c.num_kv_heads);
  positive("head_dim", c.head_dim);
  positive("rms_norm_eps", c.rms_norm_eps);
  positive("rope_theta", c.rope_theta);
  positive("max_position_embeddings", c.max_position_embeddings);
  TUNE_CHECK(c.num_heads % c.num_kv_heads == 0, source, ": num_attention_heads (", c.num_heads,
             ") must be a multiple of num_key_value_heads (", c.num_kv_heads, ")");
  TUNE_CHECK(c.head_dim % 2 == 0, source, ": head_dim (", c.head_dim, ") must be even for RoPE");
}

}  // namespace

ModelConfig parse_hf_config(std::string_view json_text, const std::string& source, bool exact_gelu) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    fail(source, ": not valid JSON (", e.what(), ")");
  }
  TUNE_CHECK(root.is_object(), source, ": expected a JSON object at the top level");
  const ConfigReader r(root, source);

  ModelConfig c;
  const std::string* model_type = r.optional_string("model_type");
  TUNE_CHECK(model_type, source, ": missing 'model_type'; is this an HF config.json?");
  TUNE_CHECK(*model_type == "gemma", source, ": model_type '", *model_type,
             "' is not supported; tune.cpp supports: gemma");
  c.model_type = *model_type;

  c.vocab_size = r.required_int("vocab_size");
  c.hidden_size = r.required_int("hidden_size");
  c.intermediate_size = r.required_int("intermediate_size");
  c.num_layers = r.required_int("num_hidden_layers");
  c.num_heads = r.required_int("num_attention_heads");
  c.num_kv_heads = r.optional_int("num_key_value_heads", c.num_heads);
  TUNE_CHECK(c.num_heads > 0, source, ": 'num_attention_heads' must be > 0, got ", c.num_heads);
  c.head_dim = r.optional_int("head_dim", c.hidden_size / c.num_heads);
  c.rms_norm_eps = static_cast<float>(r.optional_number("rms_norm_eps", 1e-6));
  c.max_position_embeddings = r.optional_int("max_position_embeddings", 8192);
  c.tie_word_embeddings = r.optional_bool("tie_word_embeddings", true);
  c.pad_token_id = r.token_id("pad_token_id", 0);
  c.bos_token_id = r.token_id("bos_token_id", 2);
  c.eos_token_id = r.token_id("eos_token_id", 1);
  c.rope_theta = parse_rope_theta(r);
  c.activation = parse_activation(r, exact_gelu);
  c.torch_dtype = parse_torch_dtype(r);
  validate(c, source);
  return c;
}

ModelConfig load_hf_config(const std::filesystem::path& model_dir, bool exact_gelu) {
  namespace fs = std::filesystem;
  TUNE_CHECK(fs::is_directory(model_dir), model_dir.string(),
             " is not a directory; pass an HF model directory (with config.json and *.safetensors)");
  const fs::path file = model_dir / "config.json";
  TUNE_CHECK(fs::is_regular_file(file), file.string(),
             " not found; pass an HF model directory (with config.json and *.safetensors)");
  return parse_hf_config(read_text_file(file), file.string(), exact_gelu);
}

}  // namespace tune
