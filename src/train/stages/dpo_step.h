// Stage dpo on one batch of pairs, as LLaMA-Factory's CustomDPOTrainer runs it: policy and reference sequence
// log-probabilities of the answers, the preference loss, TRL's metrics, and the backward into the LoRA gradients.
#pragma once
#include <optional>
#include <vector>

#include "config/plan.h"
#include "model/batch.h"
#include "model/gemma.h"
#include "model/weights.h"
#include "train/dpo_loss.h"
#include "train/metric_window.h"
#include "train/run_setup.h"

namespace tune {

// The DPO reference: a model without the trained adapter and the tied LM head of its weights ([V, H]).
struct ReferenceModel {
  GemmaModel* model = nullptr;
  const Tensor* lm_head = nullptr;
};

// Builds run's DPO reference into `storage` when the stage needs one (dpo with sigmoid / hinge / ipo): ref_model when
// set, else the base weights without the adapter (LF's disable_adapter). Returns an empty ReferenceModel otherwise.
ReferenceModel make_reference_model(const TrainingRun& run, std::optional<GemmaModel>& storage);

// pref_loss, pref_beta, pref_ftx, dpo_label_smoothing, simpo_gamma of the plan.
PrefLossOptions preference_options(const Plan& plan);

struct PreferenceBatch {
  double loss = 0;                // mean over the batch's pairs
  std::vector<PairLogps> logps;   // per pair
  std::vector<PairLoss> pairs;    // per pair
  NamedMetrics metrics;           // TRL's rewards/*, logps/*, logits/* (no prefix)
};

// batch: rows [0, n) = prompt + chosen, [n, 2n) = prompt + rejected, labels on the answer tokens only
// (collate_preference). Runs the policy with dropout off (LF disables dropout for DPO) and, when the loss uses one, the
// reference model (no gradients). With grad_scale != 0 it accumulates grad_scale * d(loss)/d(LoRA) into the policy's
// adapter gradients. policy_head: the policy's tied embedding [V, H].
PreferenceBatch preference_step(GemmaModel& policy, const Tensor& policy_head, const ReferenceModel& reference,
                                const Batch& batch, const PrefLossOptions& opts, float grad_scale);

}  // namespace tune
