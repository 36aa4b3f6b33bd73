// Pairwise reward-model losses on value-head outputs. Rows [0, n) of the batch are the chosen answers and rows
// [n, 2n) the rejected ones (LLaMA-Factory's pairwise collator order).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "model/batch.h"

namespace tune {

struct RmLossResult {
  double loss = 0.0;                   // mean over pairs
  std::vector<float> chosen_scores;    // [n]  value at the last real token
  std::vector<float> rejected_scores;  // [n]
};

// last_token form (LLaMA-Factory >= 0.8.3): loss = mean_i -logsigmoid(score_c_i - score_r_i), scores at the last
// real token (attention_mask). When dvalues != nullptr it is overwritten with d(loss)/d(values), shape [2n, T].
RmLossResult rm_last_token_loss(const Tensor& values, const Batch& batch, Tensor* dvalues);

// per_token form (LLaMA-Factory 0.5.x-0.8.2, from trlx; what the seed ran). For pair i, with len = index of the last
// token != pad_id, plus 1: div = first position where the chosen and rejected ids differ and end = max(len_c, len_r);
// identical rows use end = len_c, div = end - 1. loss_i = mean over t in [div, end) of
// -logsigmoid(v_c[t] - v_r[t]) — including pad positions of the shorter row — and loss = mean over pairs.
// Scores (for accuracy) are the values at len - 1. dvalues as above.
RmLossResult rm_per_token_loss(const Tensor& values, const Batch& batch, int32_t pad_id, Tensor* dvalues);

}  // namespace tune
