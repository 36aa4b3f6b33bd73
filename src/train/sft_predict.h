// sft do_predict with predict_with_generate, as LLaMA-Factory's sft workflow runs it: each example's prompt (every
// turn before its last answer) is continued with the plan's generation keys, and generated_predictions.jsonl gets
// one {"prompt", "predict", "label"} line per example (LF >= 0.8's save_predictions).
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "report/log_history.h"
#include "train/run_setup.h"

namespace tune {

struct SftPredictions {
  std::string jsonl;  // the lines of generated_predictions.jsonl, each ending "\n"
  EvalRun run;        // timing and counts (no loss: LF's generation metrics, BLEU/ROUGE, are not computed)
};

// Generates for the examples at `indices` of run.data (sft) with run.adapter as a LoRA branch on run.weights.
// The prompt/label split comes from the sft preprocessing: the label is the answer after the last prompt token
// (label -100), eos included as training sees it. Example i samples with seed plan.seed + i.
// prompt = decode(prompt ids) with special tokens; predict / label skip them when plan.skip_special_tokens.
// Errors: train_on_prompt (the split needs the prompt's -100 labels), an example with no prompt.
SftPredictions sft_predict(const TrainingRun& run, std::span<const int64_t> indices);

}  // namespace tune
