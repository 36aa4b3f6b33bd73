// LLaMA-Factory's collators: examples -> one right-padded Batch, padded to the longest row rounded up to a
// multiple of 8 (pad_to_multiple_of=8), pad id on input ids, 0 on the attention mask, -100 on labels.
#pragma once
#include <cstdint>
#include <span>

#include "data/dataset.h"
#include "model/batch.h"

namespace tune {

inline constexpr int kPadToMultipleOf = 8;

// sft / pt: input_ids and labels of each example.
Batch collate_supervised(std::span<const SupervisedExample* const> examples, int32_t pad_id);

// Token rows as they are (at least one), right-padded the same way; no labels.
Batch collate_rows(std::span<const TokenIds> rows, int32_t pad_id);

// rm: rows [0, n) = prompt + chosen, rows [n, 2n) = prompt + rejected (PairwiseDataCollatorWithPadding order).
// No labels.
Batch collate_pairwise(std::span<const PairwiseExample* const> examples, int32_t pad_id);

// dpo: the rm rows, with labels = the answer ids (prompt and padding -100), as LF's preference preprocessing labels
// chosen_labels / rejected_labels and PairwiseDataCollatorWithPadding stacks them.
Batch collate_preference(std::span<const PairwiseExample* const> examples, int32_t pad_id);

}  // namespace tune
