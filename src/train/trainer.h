// `tune train`: LLaMA-Factory's pt/sft/rm workflow with HF Trainer 4.38 loop semantics — train (with logging,
// evaluation, checkpoints and resume), then evaluate and predict, writing LF's output files.
#pragma once
#include "config/plan.h"
#include "dist/communicator.h"

namespace tune {

// One data-parallel rank of the run (train/shard.h deals the examples; rank 0 alone prints and writes files).
void run_workflow(const Plan& plan, dist::Communicator& comm);
// A single process.
void run_workflow(const Plan& plan);

}  // namespace tune
