#include "train/run_setup.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "config/plan_data.h"
#include "core/error.h"
#include "data/dataset.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "io/peft_adapter.h"
#include "model/merge.h"

namespace tune {

namespace fs = std::filesystem;

namespace {

LoraConfig lora_config_from_plan(const Plan& plan) {
  LoraConfig c;
  c.r = plan.lora_rank;
  c.lora_alpha = static_cast<float>(plan.lora_alpha);
  c.lora_dropout = static_cast<float>(plan.lora_dropout);
  c.use_rslora = plan.use_rslora;
  c.target_modules = lora_target_modules(plan);
  c.base_model_name_or_path = plan.model_name_or_path;
  return c;
}

// LLaMA-Factory's rule: every adapter but the last is merged into the base weights; the last one is trained further
// (or evaluated). Without adapters a fresh one is created from the lora_* keys.
void load_adapters(TrainingRun& run) {
  const auto& names = run.plan.adapter_name_or_path;
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    merge_lora(run.weights, load_peft_adapter(names[i], run.cfg));
    std::fprintf(stderr, "merged adapter %s into the base weights\n", names[i].c_str());
  }
  if (!names.empty()) {
    run.adapter = load_peft_adapter(names.back(), run.cfg);
    std::fprintf(stderr, "loaded adapter %s (r %d, alpha %g)\n", names.back().c_str(), run.adapter.config.r,
                 run.adapter.config.lora_alpha);
  } else {
    run.adapter = init_lora(run.cfg, lora_config_from_plan(run.plan), static_cast<uint64_t>(run.plan.seed));
  }
  if (run.stage != Stage::Rm) return;
  const fs::path head_file = names.empty() ? fs::path() : fs::path(names.back()) / "value_head.safetensors";
  if (!names.empty() && fs::exists(head_file)) {
    run.value_head = load_value_head(head_file, run.cfg.hidden_size);
    std::fprintf(stderr, "loaded value head %s\n", head_file.c_str());
  } else {
    run.value_head = init_value_head(run.cfg.hidden_size, static_cast<uint64_t>(run.plan.seed) + 1);
    if (!run.plan.do_train)
      std::fprintf(stderr, "warning: no value_head.safetensors in the adapter folder; scoring with a random value "
                           "head, so scores are meaningless\n");
  }
}

void split_data(TrainingRun& run) {
  const int64_t n = static_cast<int64_t>(run.data.size());
  if (!run.plan.do_train) {
    for (int64_t i = 0; i < n; ++i) run.eval_indices.push_back(i);
    return;
  }
  SplitIndices s = split_indices(n, run.plan.val_size, static_cast<uint64_t>(run.plan.seed));
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.eval.begin(), s.eval.end());
  run.train_indices = std::move(s.train);
  run.eval_indices = std::move(s.eval);
}

}  // namespace

TrainingRun setup_run(const Plan& plan) {
  TrainingRun run;
  run.plan = plan;
  const DataOptions data_opts = data_options(plan);
  run.stage = data_opts.stage;
  run.cfg = load_hf_config(plan.model_name_or_path, plan.exact_gelu);
  run.weights = load_hf_weights(plan.model_name_or_path, run.cfg);
  run.tokenizer.emplace(load_model_tokenizer(plan.model_name_or_path, run.cfg.vocab_size, plan.use_fast_tokenizer));
  run.pad_id = run.tokenizer->pad_id() >= 0 ? run.tokenizer->pad_id() : run.tokenizer->eos_id();
  if (!plan.template_.empty()) run.chat_template = &Template::get(plan.template_);
  run.data = prepare_dataset(data_opts, *run.tokenizer);
  std::fprintf(stderr, "dataset %s: %zu examples", plan.dataset.empty() ? "" : plan.dataset.front().c_str(),
               run.data.size());
  if (run.data.dropped) std::fprintf(stderr, " (%s)", run.data.drop_summary.c_str());
  std::fprintf(stderr, "\n");
  split_data(run);
  load_adapters(run);
  return run;
}

}  // namespace tune
