// Derived defaults and cross-key checks of a Plan.
#include "config/plan_checks.h"

#include "core/error.h"
#include "io/model_path.h"

namespace tune {

namespace {

// LLaMA-Factory's FinetuningArguments rules for the preference keys.
void check_preference_keys(const Plan& plan, const std::string& s) {
  if (plan.stage != "dpo") return;
  TUNE_CHECK(plan.dpo_label_smoothing == 0 || plan.pref_loss == "sigmoid", s, ": dpo_label_smoothing is ",
             plan.dpo_label_smoothing, " but pref_loss is ", plan.pref_loss,
             "; label smoothing is only defined for pref_loss: sigmoid (set dpo_label_smoothing: 0)");
  const bool reference_free = plan.pref_loss == "orpo" || plan.pref_loss == "simpo";
  TUNE_CHECK(!reference_free || (plan.ref_model.empty() && plan.ref_model_adapters.empty()), s, ": pref_loss ",
             plan.pref_loss, " uses no reference model, but ref_model or ref_model_adapters is set; remove them");
  TUNE_CHECK(plan.ref_model_adapters.empty() || !plan.ref_model.empty(), s,
             ": ref_model_adapters is set but ref_model is not; set ref_model to the base folder the adapters "
             "belong to");
}

}  // namespace

void resolve_plan_defaults(Plan& plan) {
  if (plan.lora_alpha == 0) plan.lora_alpha = 2 * plan.lora_rank;
  if (plan.eval_strategy != "no") plan.do_eval = true;
  if (plan.eval_strategy == "steps" && !plan.eval_steps) plan.eval_steps = plan.logging_steps;
  if (plan.gguf_weights.empty()) plan.gguf_weights = is_gguf_file(plan.model_name_or_path) ? "keep" : "dequantize";
}

void check_plan(const Plan& plan, const std::string& source) {
  const std::string& s = source;
  TUNE_CHECK(!plan.model_name_or_path.empty(), s,
             ": model_name_or_path is missing; set it to a local model folder (for example models/gemma-2b)");
  check_model_path(plan.model_name_or_path, s);
  TUNE_CHECK(plan.gguf_weights != "keep" || is_gguf_file(plan.model_name_or_path), s, ": gguf_weights: keep keeps a ",
             "GGUF model's quantized projections, but model_name_or_path ", plan.model_name_or_path,
             " is not a .gguf file; remove gguf_weights or set gguf_weights: dequantize");
  TUNE_CHECK(!(plan.fp16 && plan.bf16), s, ": fp16 and bf16 are both true; set at most one of them");
  TUNE_CHECK(plan.stage == "pt" || !plan.template_.empty(), s, ": stage ", plan.stage,
             " needs a template (the chat format of the data); set template, for example template: gemma");
  TUNE_CHECK(!plan.do_train || !plan.output_dir.empty(), s,
             ": do_train needs output_dir (where the adapter and logs go); set output_dir, for example saves/run1");
  const bool resume_latest = std::holds_alternative<bool>(plan.resume_from_checkpoint) &&
                             std::get<bool>(plan.resume_from_checkpoint);
  TUNE_CHECK(!resume_latest || !plan.output_dir.empty(), s,
             ": resume_from_checkpoint: true looks for the newest checkpoint in output_dir, which is not set; set "
             "output_dir or give the checkpoint path");
  const bool eval_only_on_eval_dataset = !plan.do_train && !plan.eval_dataset.empty();
  TUNE_CHECK(!(plan.do_train || plan.do_eval || plan.do_predict) || !plan.dataset.empty() || eval_only_on_eval_dataset,
             s, ": no dataset given; set dataset to one or more names from ", plan.dataset_dir, "/dataset_info.json");
  TUNE_CHECK(plan.eval_dataset.empty() || plan.val_size == 0, s,
             ": eval_dataset and val_size are both set (LLaMA-Factory refuses this too); set val_size: 0 to evaluate "
             "on eval_dataset, or remove eval_dataset to split the training data");
  check_preference_keys(plan, s);
  // With do_train the evaluation set is the val_size split (or eval_dataset); without it the whole dataset is
  // evaluated (LF rule).
  if (plan.do_train && (plan.do_eval || plan.do_predict) && plan.eval_dataset.empty())
    TUNE_CHECK(plan.val_size > 0, s, ": ", plan.do_eval ? "evaluation" : "do_predict",
               plan.do_eval && plan.eval_strategy != "no" ? " (eval_strategy " + plan.eval_strategy + ")" : "",
               " needs an evaluation split, but val_size is 0; set val_size to a fraction (0.05) or a count (500)");
  TUNE_CHECK(!plan.do_train || plan.max_steps > 0 || plan.num_train_epochs > 0, s,
             ": num_train_epochs is 0 and max_steps is -1, so there is nothing to train; set one of them");
}

}  // namespace tune
