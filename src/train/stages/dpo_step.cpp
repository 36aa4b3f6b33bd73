// preference_step: LF's concatenated_forward (sums, or means for ipo / orpo / simpo), compute_reference_log_probs,
// compute_preference_loss + pref_ftx, and the gradient of the batch-mean loss through per-row weights on the LM head.
#include "train/stages/dpo_step.h"

#include "core/error.h"
#include "kernels/cpu/lm_head_logps.h"

namespace tune {

namespace {

struct RowLogps {
  std::vector<double> sum;    // [2n] Σ log-prob of the answer tokens
  std::vector<int64_t> count;  // [2n] answer tokens
  std::vector<double> logit_sum;  // [2n] Σ of every logit of the row (policy only)
};

// Forward and per-row log-probs of the batch's labels; dlogp [2n, T, H] (when non-null) receives d sum[r] / dh.
RowLogps row_logps(GemmaModel& model, const Tensor& E, const Batch& batch, Tensor* dlogp, bool logit_sums) {
  model.forward(batch, ForwardOptions{});
  const Tensor& h = model.final_hidden();  // [2n, T, H]
  const int H = static_cast<int>(E.shape[1]), V = static_cast<int>(E.shape[0]);
  RowLogps r;
  r.sum.resize(static_cast<size_t>(batch.B));
  r.count.resize(static_cast<size_t>(batch.B));
  if (dlogp) {
    *dlogp = Tensor({batch.B, batch.T, H});
  }
  cpu::lm_head_row_logps(r.sum.data(), r.count.data(), dlogp ? dlogp->ptr() : nullptr, h.ptr(), E.ptr(),
                         batch.labels.data(), batch.B, batch.T, H, V);
  if (logit_sums) {
    r.logit_sum.resize(static_cast<size_t>(batch.B));
    cpu::lm_head_logit_sums(r.logit_sum.data(), h.ptr(), E.ptr(), batch.B, batch.T, H, V);
  }
  return r;
}

}  // namespace

ReferenceModel make_reference_model(const TrainingRun& run, std::optional<GemmaModel>& storage) {
  if (run.stage != Stage::Dpo || !uses_reference(pref_loss_of(run.plan.pref_loss))) return {};
  if (run.ref_weights) {
    storage.emplace(*run.ref_cfg, *run.ref_weights, nullptr, nullptr);
    return {&*storage, &run.ref_weights->embed};
  }
  storage.emplace(run.cfg, run.weights, nullptr, nullptr);
  return {&*storage, &run.weights.embed};
}

PrefLossOptions preference_options(const Plan& plan) {
  PrefLossOptions o;
  o.loss = pref_loss_of(plan.pref_loss);
  o.beta = plan.pref_beta;
  o.ftx = plan.pref_ftx;
  o.label_smoothing = plan.dpo_label_smoothing;
  o.simpo_gamma = plan.simpo_gamma;
  return o;
}

PreferenceBatch preference_step(GemmaModel& policy, const Tensor& lm_head, const ReferenceModel& reference,
                                const Batch& batch, const PrefLossOptions& opts, float grad_scale) {
  TUNE_CHECK(batch.B % 2 == 0 && batch.B > 0 && !batch.labels.empty(),
             "a preference batch needs chosen and rejected rows with labels, got ", batch.B, " rows");
  const bool with_ref = uses_reference(opts.loss);
  TUNE_CHECK(!with_ref || (reference.model && reference.lm_head),
             "pref_loss needs a reference model, but none was built");
  const int n = batch.B / 2;
  RowLogps ref;
  if (with_ref) ref = row_logps(*reference.model, *reference.lm_head, batch, nullptr, false);
  Tensor dlogp;  // [2n, T, H]
  const RowLogps pol = row_logps(policy, lm_head, batch, grad_scale != 0.0f ? &dlogp : nullptr, true);

  const bool avg = averages_logps(opts.loss);
  PreferenceBatch out;
  std::vector<double> weights(static_cast<size_t>(batch.B));  // d(grad_scale * mean loss) / d sum[r]
  for (int i = 0; i < n; ++i) {
    const size_t c = static_cast<size_t>(i), r = static_cast<size_t>(i + n);
    TUNE_CHECK(pol.count[c] > 0 && pol.count[r] > 0, "pair ", i, " of the batch has an answer without tokens; check "
               "cutoff_len (the prompt leaves no room for the answer)");
    const double len_c = static_cast<double>(pol.count[c]), len_r = static_cast<double>(pol.count[r]);
    PairLogps p;
    p.chosen = avg ? pol.sum[c] / len_c : pol.sum[c];
    p.rejected = avg ? pol.sum[r] / len_r : pol.sum[r];
    p.chosen_avg = pol.sum[c] / len_c;
    if (with_ref) {
      p.ref_chosen = avg ? ref.sum[c] / len_c : ref.sum[c];
      p.ref_rejected = avg ? ref.sum[r] / len_r : ref.sum[r];
    }
    const PairLoss l = preference_loss(p, opts);
    out.loss += l.loss;
    const double scale = static_cast<double>(grad_scale) / n;
    weights[c] = scale * ((avg ? l.d_chosen / len_c : l.d_chosen) + l.d_chosen_avg / len_c);
    weights[r] = scale * (avg ? l.d_rejected / len_r : l.d_rejected);
    out.logps.push_back(p);
    out.pairs.push_back(l);
  }
  out.loss /= n;

  // LF: all_logits[:n].mean() and all_logits[n:].mean() over [n, T, V] each.
  const double per_half = static_cast<double>(n) * batch.T * static_cast<double>(lm_head.shape[0]);
  double logits_c = 0, logits_r = 0;
  for (int i = 0; i < n; ++i) logits_c += pol.logit_sum[static_cast<size_t>(i)];
  for (int i = n; i < 2 * n; ++i) logits_r += pol.logit_sum[static_cast<size_t>(i)];
  out.metrics = preference_metrics(out.logps, out.pairs, logits_c / per_half, logits_r / per_half, opts);

  if (grad_scale != 0.0f) {
    cpu::add_row_scaled(policy.final_hidden_grad().ptr(), dlogp.ptr(), weights.data(), batch.B, batch.T,
                        static_cast<int>(lm_head.shape[1]));
    policy.backward();
  }
  return out;
}

}  // namespace tune
