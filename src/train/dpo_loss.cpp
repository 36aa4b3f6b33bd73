// Per-pair preference losses, gradients and metrics (see dpo_loss.h for the definitions).
#include "train/dpo_loss.h"

#include <cmath>

#include "core/error.h"

namespace tune {

namespace {

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }
double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

// The value torch logs: a float32 mean, read back as a Python float.
double as_float32(double x) { return static_cast<double>(static_cast<float>(x)); }

}  // namespace

PrefLoss pref_loss_of(const std::string& name) {
  if (name == "sigmoid") return PrefLoss::Sigmoid;
  if (name == "hinge") return PrefLoss::Hinge;
  if (name == "ipo") return PrefLoss::Ipo;
  if (name == "orpo") return PrefLoss::Orpo;
  if (name == "simpo") return PrefLoss::Simpo;
  fail("pref_loss must be one of sigmoid, hinge, ipo, orpo, simpo, got '", name, "'");
}

bool uses_reference(PrefLoss loss) { return loss != PrefLoss::Orpo && loss != PrefLoss::Simpo; }
bool averages_logps(PrefLoss loss) { return loss != PrefLoss::Sigmoid && loss != PrefLoss::Hinge; }

PairLoss preference_loss(const PairLogps& p, const PrefLossOptions& o) {
  PairLoss r;
  const double beta = o.beta;
  switch (o.loss) {
    case PrefLoss::Sigmoid:
    case PrefLoss::Hinge:
    case PrefLoss::Ipo: {
      const double z = (p.chosen - p.rejected) - (p.ref_chosen - p.ref_rejected);  // TRL's "logits"
      double dz = 0;
      if (o.loss == PrefLoss::Sigmoid) {
        const double ls = o.label_smoothing;
        r.loss = -log_sigmoid(beta * z) * (1 - ls) - log_sigmoid(-beta * z) * ls;
        dz = -(1 - ls) * beta * sigmoid(-beta * z) + ls * beta * sigmoid(beta * z);
      } else if (o.loss == PrefLoss::Hinge) {
        const double m = 1 - beta * z;
        r.loss = m > 0 ? m : 0.0;
        dz = m > 0 ? -beta : 0.0;  // torch.relu's gradient is 0 at 0
      } else {
        const double d = z - 1 / (2 * beta);
        r.loss = d * d;
        dz = 2 * d;
      }
      r.d_chosen = dz;
      r.d_rejected = -dz;
      r.chosen_reward = beta * (p.chosen - p.ref_chosen);
      r.rejected_reward = beta * (p.rejected - p.ref_rejected);
      break;
    }
    case PrefLoss::Orpo: {
      // log odds(y) = log p - log(1 - p) with p the mean-token probability exp(chosen) / exp(rejected).
      const double log_odds =
          (p.chosen - p.rejected) - (std::log1p(-std::exp(p.chosen)) - std::log1p(-std::exp(p.rejected)));
      r.loss = -p.chosen - beta * log_sigmoid(log_odds);
      const double d_odds = -beta * sigmoid(-log_odds);
      r.d_chosen = -1 + d_odds / (1 - std::exp(p.chosen));
      r.d_rejected = -d_odds / (1 - std::exp(p.rejected));
      r.chosen_reward = beta * p.chosen;
      r.rejected_reward = beta * p.rejected;
      break;
    }
    case PrefLoss::Simpo: {
      const double z = (p.chosen - p.rejected) - o.simpo_gamma / beta;
      r.loss = -log_sigmoid(beta * z);
      r.d_chosen = -beta * sigmoid(-beta * z);
      r.d_rejected = -r.d_chosen;
      r.chosen_reward = beta * p.chosen;
      r.rejected_reward = beta * p.rejected;
      break;
    }
  }
  r.sft_loss = -p.chosen_avg;
  if (o.ftx > 1e-6) {  // LF adds the term only above 1e-6
    r.loss += o.ftx * r.sft_loss;
    r.d_chosen_avg = -o.ftx;
  }
  return r;
}

std::vector<std::pair<std::string, double>> preference_metrics(const std::vector<PairLogps>& logps,
                                                               const std::vector<PairLoss>& losses,
                                                               double logits_chosen, double logits_rejected,
                                                               const PrefLossOptions& opts) {
  TUNE_CHECK(!logps.empty() && logps.size() == losses.size(), "preference_metrics needs one loss per pair, got ",
             losses.size(), " losses for ", logps.size(), " pairs");
  double rc = 0, rr = 0, acc = 0, margin = 0, lc = 0, lr = 0, sft = 0, odds = 0;
  for (size_t i = 0; i < logps.size(); ++i) {
    const PairLoss& l = losses[i];
    rc += l.chosen_reward;
    rr += l.rejected_reward;
    acc += l.chosen_reward > l.rejected_reward ? 1.0 : 0.0;
    margin += l.chosen_reward - l.rejected_reward;
    lc += logps[i].chosen;
    lr += logps[i].rejected;
    sft += l.sft_loss;
    odds += (l.loss - l.sft_loss) / opts.beta;  // LF: ((losses - sft_loss) / beta), after pref_ftx was added
  }
  const double n = static_cast<double>(logps.size());
  std::vector<std::pair<std::string, double>> m = {
      {"rewards/chosen", rc / n}, {"rewards/rejected", rr / n}, {"rewards/accuracies", acc / n},
      {"rewards/margins", margin / n}, {"logps/chosen", lc / n},  {"logps/rejected", lr / n},
      {"logits/chosen", logits_chosen}, {"logits/rejected", logits_rejected}};
  if (opts.loss == PrefLoss::Orpo) {
    m.emplace_back("sft_loss", sft / n);
    m.emplace_back("odds_ratio_loss", odds / n);
  }
  for (auto& [name, value] : m) value = as_float32(value);
  return m;
}

}  // namespace tune
