// The derived defaults and the cross-key rules of a Plan (LLaMA-Factory / HF TrainingArguments checks plus the obvious).
#pragma once
#include <string>

#include "config/plan.h"

namespace tune {

// lora_alpha unset (0) -> 2 * lora_rank; eval_strategy not "no" -> do_eval; eval_strategy "steps" without eval_steps
// -> logging_steps.
void resolve_plan_defaults(Plan& plan);

// Rules that involve more than one key (each key's own type and range were checked when it was read). The first broken
// rule -> tune::Error "<source>: <what is wrong>; <how to fix it>".
void check_plan(const Plan& plan, const std::string& source);

}  // namespace tune
