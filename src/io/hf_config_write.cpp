#include "io/hf_config_write.h"

#include <nlohmann/json.hpp>
#include <string>

#include "core/atomic_file.h"
#include "core/py_json.h"

namespace tune {

namespace {

// The double whose shortest text is the float's own (1e-6f -> 1e-06, not 9.999999974752427e-07), so config.json shows
// the number the way the HF config that held it wrote it.
double as_written(float x) { return std::stod(py_float_repr(x)); }

}  // namespace

std::string hf_config_json(const ModelConfig& cfg) {
  nlohmann::ordered_json j;
  j["architectures"] = {"GemmaForCausalLM"};
  j["model_type"] = cfg.model_type.empty() ? "gemma" : cfg.model_type;
  j["vocab_size"] = cfg.vocab_size;
  j["hidden_size"] = cfg.hidden_size;
  j["intermediate_size"] = cfg.intermediate_size;
  j["num_hidden_layers"] = cfg.num_layers;
  j["num_attention_heads"] = cfg.num_heads;
  j["num_key_value_heads"] = cfg.num_kv_heads;
  j["head_dim"] = cfg.head_dim;
  j["hidden_act"] = "gelu_pytorch_tanh";
  j["hidden_activation"] = "gelu_pytorch_tanh";
  j["rms_norm_eps"] = as_written(cfg.rms_norm_eps);
  j["rope_theta"] = cfg.rope_theta;
  j["max_position_embeddings"] = cfg.max_position_embeddings;
  j["tie_word_embeddings"] = cfg.tie_word_embeddings;
  j["pad_token_id"] = cfg.pad_token_id;
  j["bos_token_id"] = cfg.bos_token_id;
  j["eos_token_id"] = cfg.eos_token_id;
  j["attention_bias"] = false;
  j["torch_dtype"] = cfg.torch_dtype == DType::BF16 ? "bfloat16" : cfg.torch_dtype == DType::F16 ? "float16" : "float32";
  return j.dump(2) + "\n";
}

void save_hf_config(const std::filesystem::path& model_dir, const ModelConfig& cfg) {
  std::filesystem::create_directories(model_dir);
  write_file_atomic(model_dir / "config.json", hf_config_json(cfg));
}

}  // namespace tune
