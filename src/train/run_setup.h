// Everything a `tune train` run loads before its first step: plan, model, tokenizer, prepared data and its split,
// the adapter and (for rm) the value head.
#pragma once
#include <optional>
#include <vector>

#include "config/plan.h"
#include "data/dataset.h"
#include "model/lora.h"
#include "model/model_config.h"
#include "model/value_head.h"
#include "model/weights.h"
#include "text/tokenizer.h"

namespace tune {

struct TrainingRun {
  Plan plan;
  Stage stage = Stage::Sft;
  ModelConfig cfg;
  ModelWeights weights;  // with every adapter but the last of adapter_name_or_path merged in
  std::optional<Tokenizer> tokenizer;  // always set by setup_run
  const Template* chat_template = nullptr;
  PreparedData data;
  std::vector<int64_t> train_indices;  // into data, in file order
  std::vector<int64_t> eval_indices;   // eval_dataset, or the val split with do_train, else the whole dataset
  LoraAdapter adapter;
  std::optional<ValueHead> value_head;  // rm only
  // dpo with ref_model: the reference model's config and weights (ref_model_adapters merged in). Without ref_model
  // the reference is the base above with the adapter disabled.
  std::optional<ModelConfig> ref_cfg;
  std::optional<ModelWeights> ref_weights;
  int32_t pad_id = 0;
};

// Loads and checks everything; prints what it loaded to stderr. Errors are tune::Error naming the file and fix.
TrainingRun setup_run(const Plan& plan);

}  // namespace tune
