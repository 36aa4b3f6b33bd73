// `tune train`: LLaMA-Factory's pt/sft/rm workflow with HF Trainer 4.38 loop semantics — train (with logging,
// evaluation, checkpoints and resume), then evaluate and predict, writing LF's output files.
#pragma once
#include "config/plan.h"

namespace tune {

void run_workflow(const Plan& plan);

}  // namespace tune
