// Everything `tune chat`, `tune score`, `tune serve` and `tune export` load from a config: the base model, its
// tokenizer and chat template, the adapters of adapter_name_or_path and, for reward models, the value head.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "config/plan.h"
#include "model/lora.h"
#include "model/model_config.h"
#include "model/value_head.h"
#include "model/weights.h"
#include "text/template.h"
#include "text/tokenizer.h"

namespace tune {

struct InferenceModel {
  Plan plan;
  ModelConfig cfg;
  ModelWeights weights;                 // fp32; every adapter of adapter_name_or_path merged in, except `adapter`
  std::optional<LoraAdapter> adapter;   // the last adapter kept as a LoRA branch (infer_merge_adapters: false)
  std::optional<ValueHead> value_head;  // from the last adapter folder, else from the model folder (an exported RM)
  std::filesystem::path value_head_file;  // where value_head came from (empty when none)
  std::optional<Tokenizer> tokenizer;   // always set by load_inference_model
  const Template* chat_template = nullptr;  // null when the plan names no template
  int32_t pad_id = 0;                   // the tokenizer's pad, else its eos
  std::string model_id;                 // a short name: the last adapter folder's name, else the model folder's

  // The stop ids of generation: the template's eos and stop words (e.g. <|eot_id|>, <|eom_id|> for llama3) plus
  // <end_of_turn> and the tokenizer's eos when the vocabulary has them.
  std::vector<int32_t> stop_ids() const;
};

// Generation's stop ids for a tokenizer and (optional) chat template: the template's eos and stop words
// (Template::stop_ids), the tokenizer's eos and <end_of_turn> when the vocabulary has it; no duplicates.
std::vector<int32_t> generation_stop_ids(const Tokenizer& tok, const Template* chat_template);

// Loads and checks everything; prints what it loaded to stderr. Adapters are merged in order (LLaMA-Factory's
// inference rule); with plan.infer_merge_adapters false the last one stays separate. Errors are tune::Error naming
// the file and the fix.
InferenceModel load_inference_model(const Plan& plan);

}  // namespace tune
