// The preference losses of LLaMA-Factory's CustomDPOTrainer per pair (TRL's dpo_loss for sigmoid / hinge / ipo, LF's
// own odds_ratio_loss for orpo and simpo_loss for simpo, plus pref_ftx's SFT term), their gradients with respect to
// the sequence log-probabilities, and the per-batch metrics TRL logs.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace tune {

enum class PrefLoss { Sigmoid, Hinge, Ipo, Orpo, Simpo };

PrefLoss pref_loss_of(const std::string& name);  // the pref_loss key's words; tune::Error otherwise
// sigmoid, hinge, ipo compare with a reference model; orpo and simpo do not (LF's use_ref_model).
bool uses_reference(PrefLoss loss);
// ipo, orpo and simpo use the mean log-prob per answer token; sigmoid and hinge the sum (LF concatenated_forward).
bool averages_logps(PrefLoss loss);

struct PrefLossOptions {
  PrefLoss loss = PrefLoss::Sigmoid;
  double beta = 0.1;             // pref_beta
  double ftx = 0.0;              // pref_ftx
  double label_smoothing = 0.0;  // dpo_label_smoothing (sigmoid)
  double simpo_gamma = 0.5;      // simpo_gamma
};

// One pair's log-probabilities as the loss reads them (sums, or means for averages_logps losses).
struct PairLogps {
  double chosen = 0, rejected = 0;          // policy
  double ref_chosen = 0, ref_rejected = 0;  // reference (ignored without one)
  double chosen_avg = 0;                    // policy chosen mean log-prob per token (the SFT term's input)
};

struct PairLoss {
  double loss = 0;             // preference loss + ftx * sft_loss
  double chosen_reward = 0;    // beta * (chosen - ref_chosen), or beta * chosen without a reference
  double rejected_reward = 0;
  double sft_loss = 0;         // -chosen_avg
  double d_chosen = 0, d_rejected = 0;  // d loss / d chosen, d rejected
  double d_chosen_avg = 0;              // d loss / d chosen_avg (the SFT term); adds to d_chosen when they coincide
};

PairLoss preference_loss(const PairLogps& p, const PrefLossOptions& opts);

// TRL's metric names and values for a batch of pairs (means over the pairs), in the order LF logs them, without the
// "eval_" prefix; orpo adds sft_loss and odds_ratio_loss. logits_chosen/rejected are the mean logits over each half of
// the batch (every position and vocabulary entry).
std::vector<std::pair<std::string, double>> preference_metrics(const std::vector<PairLogps>& logps,
                                                               const std::vector<PairLoss>& losses,
                                                               double logits_chosen, double logits_rejected,
                                                               const PrefLossOptions& opts);

}  // namespace tune
