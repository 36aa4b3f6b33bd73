// Aligned conversations -> token ids per stage, as LLaMA-Factory v0.5.x data/preprocess.py does it
// (preprocess_pretrain_dataset, preprocess_supervised_dataset, preprocess_pairwise_dataset).
#pragma once
#include <vector>

#include "data/aligner.h"
#include "data/dataset.h"
#include "data/drops.h"

namespace tune {

// pt: text = the first prompt message + the eos token string, tokenized as one string; the ids of each group of
// kHfMapBatchSize examples are concatenated and cut into cutoff_len blocks, dropping the remainder of each group.
// labels = input_ids with pad-token ids set to -100 (what DataCollatorForLanguageModeling does).
void preprocess_pretrain(const std::vector<AlignedExample>& examples, const Tokenizer& tok, int cutoff_len,
                         PreparedData& out);

// sft: one input/label sequence per conversation; drops examples whose prompt is not odd or that do not have
// exactly one response.
void preprocess_supervised(const std::vector<AlignedExample>& examples, const Tokenizer& tok, const Template& tmpl,
                           int cutoff_len, bool train_on_prompt, PreparedData& out, DropTally& drops);

// rm: prompt ids from the chosen pass, chosen/rejected answer ids each + eos (efficient_eos templates); drops
// examples whose prompt is not odd or that have fewer than two responses.
void preprocess_pairwise(const std::vector<AlignedExample>& examples, const Tokenizer& tok, const Template& tmpl,
                         int cutoff_len, PreparedData& out, DropTally& drops);

// HF datasets' Dataset.map(batched=True) batch size, which bounds pt concatenation groups.
inline constexpr size_t kHfMapBatchSize = 1000;

}  // namespace tune
