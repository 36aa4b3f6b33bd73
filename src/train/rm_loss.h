// Pairwise reward-model losses on value-head outputs. Rows [0, n) of the batch are the chosen answers and rows
// [n, 2n) the rejected ones (LLaMA-Factory's pairwise collator order).
#pragma once
#include <vector>

#include "core/tensor.h"
#include "model/batch.h"

namespace tune {

struct RmLossResult {
  double loss = 0.0;                   // mean over pairs
  std::vector<float> chosen_scores;    // [n]  value at the last real token
  std::vector<float> rejected_scores;  // [n]
};

// last_token form (LLaMA-Factory >= 0.8.3): loss = mean_i -logsigmoid(score_c_i - score_r_i).
// When dvalues != nullptr it is overwritten with d(loss)/d(values), shape [2n, T].
RmLossResult rm_last_token_loss(const Tensor& values, const Batch& batch, Tensor* dvalues);

}  // namespace tune
