#include "infer/reward_scorer.h"

#include "core/error.h"
#include "train/collate.h"

namespace tune {

namespace {

std::string missing_head_message(const InferenceModel& m) {
  const std::string where = m.plan.adapter_name_or_path.empty()
                                ? "the model folder " + m.plan.model_name_or_path
                                : "the adapter folder " + m.plan.adapter_name_or_path.back();
  return cat("scoring needs a reward model's value head, but ", where,
             " has no value_head.safetensors; point adapter_name_or_path at the output_dir of a `stage: rm` run "
             "(the adapter folder needs value_head.safetensors)");
}

}  // namespace

RewardScorer::RewardScorer(const InferenceModel& model) : model_(model) {
  TUNE_CHECK(model.value_head.has_value(), missing_head_message(model));
  // GemmaModel takes mutable pointers because training writes gradients through them; a forward without training
  // and values() only read the adapter and the head.
  LoraAdapter* adapter = model.adapter ? const_cast<LoraAdapter*>(&*model.adapter) : nullptr;
  net_ = std::make_unique<GemmaModel>(model.cfg, model.weights, adapter, const_cast<ValueHead*>(&*model.value_head));
}

std::vector<float> RewardScorer::score(std::span<const TokenIds> sequences) {
  TUNE_CHECK(!sequences.empty(), "nothing to score");
  for (const TokenIds& s : sequences) TUNE_CHECK(!s.empty(), "cannot score an empty token sequence");
  const Batch batch = collate_rows(sequences, model_.pad_id);  // [n, T]
  net_->forward(batch, ForwardOptions{});
  const Tensor& values = net_->values();  // [n, T]
  const bool last_non_pad = model_.plan.rm_loss != "last_token";
  std::vector<float> scores;
  for (int b = 0; b < batch.B; ++b) {
    const int32_t* ids = &batch.input_ids[static_cast<size_t>(b) * batch.T];
    int t = batch.last_token(b);
    if (last_non_pad) {  // trlx / get_scores: the last id that is not the pad id (position 0 when all are)
      t = batch.T - 1;
      while (t > 0 && ids[t] == model_.pad_id) --t;
    }
    scores.push_back(values.data[static_cast<size_t>(b) * batch.T + t]);
  }
  return scores;
}

}  // namespace tune
