// LoRA adapter state: per layer, per projection, A [r, in] and B [out, r] in fp32, with their gradients.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "model/model_config.h"

namespace tune {

enum class Proj { Q, K, V, O, Gate, Up, Down };
inline constexpr int kNumProj = 7;
inline constexpr std::array<std::string_view, kNumProj> kProjNames = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                                      "gate_proj", "up_proj", "down_proj"};
std::string_view proj_module_path(Proj p);  // "self_attn.q_proj" / "mlp.gate_proj"
int proj_in_features(const ModelConfig& cfg, Proj p);
int proj_out_features(const ModelConfig& cfg, Proj p);

// What adapter_config.json says (PEFT LoraConfig); unknown keys are ignored when read.
struct LoraConfig {
  int r = 8;
  float lora_alpha = 8.0f;
  float lora_dropout = 0.0f;
  bool use_rslora = false;
  // target_modules: either a list (module name == entry or ends with "." + entry) or one regex (fullmatch).
  std::vector<std::string> target_modules;
  std::optional<std::string> target_regex;
  std::map<std::string, int> rank_pattern;     // module-name pattern -> r
  std::map<std::string, float> alpha_pattern;  // module-name pattern -> alpha
  std::string base_model_name_or_path;
  std::string task_type = "CAUSAL_LM";
  std::string bias = "none";
};

struct LoraModule {
  int r = 0;
  float scaling = 0.0f;  // alpha / r, or alpha / sqrt(r) with rslora
  Tensor A, B;           // A [r, in], B [out, r]
  Tensor dA, dB;         // gradients, same shapes (accumulated by backward)
};

struct LoraAdapter {
  LoraConfig config;
  std::string prefix = "model.";  // the decoder's module prefix (ModelSpec::names.module_prefix)
  // layers[l][p] present when projection p of layer l is targeted.
  std::vector<std::array<std::optional<LoraModule>, kNumProj>> layers;

  // The module's full name: "<prefix>layers.{l}.self_attn.q_proj".
  std::string module_name(int layer, Proj p) const;
  // PEFT's saved key for a module: base_model.model.<prefix>layers.{l}.self_attn.q_proj.lora_A.weight
  std::string tensor_key(int layer, Proj p, char which /* 'A' or 'B' */) const;
  int64_t num_params() const;
  void zero_grad();
};

// The full module name PEFT matches patterns against: "<prefix>layers.{l}.self_attn.q_proj", prefix "model." for a
// causal LM, "model.language_model." for Gemma 3's multimodal checkpoints.
std::string module_name(std::string_view prefix, int layer, Proj p);
// True when PEFT would wrap this module given cfg.target_modules / target_regex.
bool lora_targets(const LoraConfig& cfg, std::string_view prefix, int layer, Proj p);
// r and alpha for a module after rank_pattern / alpha_pattern (PEFT: key regex-searched against the module name).
int lora_rank_for(const LoraConfig& cfg, const std::string& module);
float lora_alpha_for(const LoraConfig& cfg, const std::string& module);

// A fresh adapter (module names under model.names.module_prefix) with PEFT's default init: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform a=sqrt(5)), B = 0.
LoraAdapter init_lora(const ModelConfig& model, const LoraConfig& cfg, uint64_t seed);

}  // namespace tune
