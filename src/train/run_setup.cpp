#include "train/run_setup.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "config/plan_data.h"
#include "core/error.h"
#include "data/dataset.h"
#include "io/model_path.h"
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

// eval_dataset (LF): its examples follow the training ones in run.data and are the whole evaluation set.
void append_eval_dataset(TrainingRun& run, DataOptions opts) {
  opts.datasets = run.plan.eval_dataset;
  PreparedData eval = prepare_dataset(opts, *run.tokenizer);
  std::fprintf(stderr, "eval_dataset %s: %zu examples", run.plan.eval_dataset.front().c_str(), eval.size());
  if (eval.dropped) std::fprintf(stderr, " (%s)", eval.drop_summary.c_str());
  std::fprintf(stderr, "\n");
  const int64_t first = static_cast<int64_t>(run.data.size());
  for (int64_t i = 0; i < first; ++i) run.train_indices.push_back(i);
  for (int64_t i = 0; i < static_cast<int64_t>(eval.size()); ++i) run.eval_indices.push_back(first + i);
  auto append = [](auto& dst, auto& src) { dst.insert(dst.end(), src.begin(), src.end()); };
  append(run.data.supervised, eval.supervised);
  append(run.data.pairwise, eval.pairwise);
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

// ref_model (+ ref_model_adapters merged in order): the DPO reference, which must share the tokenizer's vocabulary.
void load_reference_model(TrainingRun& run) {
  const Plan& plan = run.plan;
  run.ref_cfg = load_model_config(plan.ref_model, plan.exact_gelu);
  TUNE_CHECK(run.ref_cfg->vocab_size == run.cfg.vocab_size, "ref_model ", plan.ref_model, " has vocab_size ",
             run.ref_cfg->vocab_size, " but the model has ", run.cfg.vocab_size,
             "; the reference must use the same tokenizer");
  run.ref_weights = load_model_weights(plan.ref_model, *run.ref_cfg);
  for (const auto& name : plan.ref_model_adapters) {
    merge_lora(*run.ref_weights, load_peft_adapter(name, *run.ref_cfg));
    std::fprintf(stderr, "merged adapter %s into the reference model\n", name.c_str());
  }
  std::fprintf(stderr, "reference model %s\n", plan.ref_model.c_str());
}

}  // namespace

TrainingRun setup_run(const Plan& plan) {
  TrainingRun run;
  run.plan = plan;
  const DataOptions data_opts = data_options(plan);
  run.stage = data_opts.stage;
  run.cfg = load_model_config(plan.model_name_or_path, plan.exact_gelu);
  run.weights = load_model_weights(plan.model_name_or_path, run.cfg);
  run.tokenizer.emplace(load_model_tokenizer_of(plan.model_name_or_path, run.cfg.vocab_size, plan.use_fast_tokenizer));
  run.pad_id = run.tokenizer->pad_id() >= 0 ? run.tokenizer->pad_id() : run.tokenizer->eos_id();
  if (!plan.template_.empty()) run.chat_template = &Template::get(plan.template_);
  const bool eval_only = !plan.do_train && !plan.eval_dataset.empty();  // only eval_dataset is evaluated
  if (!eval_only) {
    run.data = prepare_dataset(data_opts, *run.tokenizer);
    std::fprintf(stderr, "dataset %s: %zu examples", plan.dataset.empty() ? "" : plan.dataset.front().c_str(),
                 run.data.size());
    if (run.data.dropped) std::fprintf(stderr, " (%s)", run.data.drop_summary.c_str());
    std::fprintf(stderr, "\n");
  }
  if (plan.eval_dataset.empty())
    split_data(run);
  else
    append_eval_dataset(run, data_opts);
  load_adapters(run);
  if (run.stage == Stage::Dpo && !plan.ref_model.empty()) load_reference_model(run);
  return run;
}

}  // namespace tune
