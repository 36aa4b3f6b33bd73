// Reward-model scores of token sequences: one right-padded batch through the model, the value head's output at each
// row's last token, picked by the same rule `tune train` do_predict uses (plan.rm_loss: per_token = the last token
// that is not the pad id, as LLaMA-Factory 0.5's trlx loss and api_demo get_scores do; last_token = the last real
// token).
#pragma once
#include <memory>
#include <span>
#include <vector>

#include "infer/inference_model.h"
#include "model/gemma.h"

namespace tune {

class RewardScorer {
 public:
  // Borrows the model for the scorer's lifetime. tune::Error when it has no value head (naming the adapter folder
  // that needs value_head.safetensors).
  explicit RewardScorer(const InferenceModel& model);

  // One forward over all sequences, padded (to a multiple of 8, as the collators do) to the longest: [n] scores,
  // in order. Every sequence must hold at least one token.
  std::vector<float> score(std::span<const TokenIds> sequences);

 private:
  const InferenceModel& model_;
  std::unique_ptr<GemmaModel> net_;
};

}  // namespace tune
