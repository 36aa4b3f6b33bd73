// Derived defaults and cross-key checks of a Plan.
#include "config/plan_checks.h"

#include "core/error.h"
#include "io/model_path.h"

namespace tune {

void resolve_plan_defaults(Plan& plan) {
  if (plan.lora_alpha == 0) plan.lora_alpha = 2 * plan.lora_rank;
  if (plan.eval_strategy != "no") plan.do_eval = true;
  if (plan.eval_strategy == "steps" && !plan.eval_steps) plan.eval_steps = plan.logging_steps;
}

void check_plan(const Plan& plan, const std::string& source) {
  const std::string& s = source;
  TUNE_CHECK(!plan.model_name_or_path.empty(), s,
             ": model_name_or_path is missing; set it to a local model folder (for example models/gemma-2b)");
  check_model_path(plan.model_name_or_path, s);
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
  TUNE_CHECK(!(plan.do_train || plan.do_eval || plan.do_predict) || !plan.dataset.empty(), s,
             ": no dataset given; set dataset to one or more names from ", plan.dataset_dir, "/dataset_info.json");
  // With do_train the evaluation set is the val_size split; without it the whole dataset is evaluated (LF rule).
  if (plan.do_train && (plan.do_eval || plan.do_predict))
    TUNE_CHECK(plan.val_size > 0, s, ": ", plan.do_eval ? "evaluation" : "do_predict",
               plan.do_eval && plan.eval_strategy != "no" ? " (eval_strategy " + plan.eval_strategy + ")" : "",
               " needs an evaluation split, but val_size is 0; set val_size to a fraction (0.05) or a count (500)");
  TUNE_CHECK(!plan.do_train || plan.max_steps > 0 || plan.num_train_epochs > 0, s,
             ": num_train_epochs is 0 and max_steps is -1, so there is nothing to train; set one of them");
}

}  // namespace tune
