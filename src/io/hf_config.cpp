// config.json -> ModelSpec: finds the family of model_type (model/families), lets it map the keys, then validates.
#include "io/hf_config.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/config_reader.h"
#include "model/families/family.h"

namespace tune {
namespace {

using json = nlohmann::json;

void validate(const ModelSpec& c, const std::string& source) {
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
  TUNE_CHECK(c.attn_softcap >= 0 && c.final_softcap >= 0, source, ": soft-capping values must be >= 0");
  TUNE_CHECK(static_cast<int>(c.layers.size()) == c.num_layers, source, ": internal: the ", c.model_type,
             " mapper listed ", c.layers.size(), " layers for ", c.num_layers);
  for (const LayerSpec& l : c.layers) positive("rope_theta", l.rope.theta);
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

  const std::string* model_type = r.optional_string("model_type");
  TUNE_CHECK(model_type, source, ": missing 'model_type'; is this an HF config.json?");
  const Family* family = find_family(*model_type);
  TUNE_CHECK(family, source, ": model_type '", *model_type, "' is not supported; tune.cpp supports: ",
             supported_model_types());
  ModelSpec c;
  c.model_type = *model_type;
  family->parse(r, FamilyOptions{.exact_gelu = exact_gelu}, c);
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
