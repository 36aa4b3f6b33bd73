// PEFT adapter folders (adapter_config.json + adapter_model.safetensors) and value_head.safetensors.
#pragma once
#include <filesystem>
#include <string_view>

#include "model/lora.h"
#include "model/model_config.h"
#include "model/value_head.h"

namespace tune {

// Parses adapter_config.json from any PEFT version: unknown keys are ignored; target_modules may be a list or a
// regex string; null target_modules is an error that says to set lora_target.
LoraConfig parse_adapter_config(std::string_view json_text, const std::string& source);
// Writes the 22-key PEFT 0.8.x adapter_config.json text (sorted keys, indent 2), loadable by old and new PEFT.
std::string adapter_config_json(const LoraConfig& cfg);

// Loads a whole adapter folder; every targeted module needs its A and B with the right shapes; tensors for modules
// the config does not target, or keys that are not LoRA weights, are errors naming the key.
LoraAdapter load_peft_adapter(const std::filesystem::path& dir, const ModelConfig& model);
// Writes adapter_config.json and adapter_model.safetensors (fp32) atomically.
void save_peft_adapter(const std::filesystem::path& dir, const LoraAdapter& adapter);

ValueHead load_value_head(const std::filesystem::path& file, int hidden_size);
void save_value_head(const std::filesystem::path& file, const ValueHead& head);

}  // namespace tune
