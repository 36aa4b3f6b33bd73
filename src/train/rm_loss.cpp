#include "train/rm_loss.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tune {

namespace {

// -logsigmoid(x) = softplus(-x), computed without overflow.
double neg_log_sigmoid(double x) { return x >= 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x)); }
double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

void check_pairwise(const Tensor& values, const Batch& batch) {
  TUNE_CHECK(batch.B % 2 == 0 && batch.B > 0, "a pairwise batch needs an even number of rows, got ", batch.B);
  TUNE_CHECK(values.numel() == static_cast<int64_t>(batch.B) * batch.T, "values have ", values.numel(),
             " entries, expected B*T = ", batch.B * batch.T);
}

// Index of the last token of row b that is not pad_id, plus 1 (0 for an all-pad row).
int length_without_pad(const Batch& batch, int b, int32_t pad_id) {
  for (int t = batch.T - 1; t >= 0; --t)
    if (batch.input_ids[static_cast<size_t>(b) * batch.T + t] != pad_id) return t + 1;
  return 0;
}

}  // namespace

RmLossResult rm_per_token_loss(const Tensor& values, const Batch& batch, int32_t pad_id, Tensor* dvalues) {
  check_pairwise(values, batch);
  const int n = batch.B / 2, T = batch.T;
  RmLossResult r;
  if (dvalues) *dvalues = Tensor({batch.B, T});
  for (int i = 0; i < n; ++i) {
    const int32_t* ids_c = &batch.input_ids[static_cast<size_t>(i) * T];
    const int32_t* ids_r = &batch.input_ids[static_cast<size_t>(n + i) * T];
    const float* v_c = &values.data[static_cast<size_t>(i) * T];
    const float* v_r = &values.data[static_cast<size_t>(n + i) * T];
    const int len_c = length_without_pad(batch, i, pad_id), len_r = length_without_pad(batch, n + i, pad_id);
    TUNE_CHECK(len_c > 0 && len_r > 0, "pair ", i, " has an empty chosen or rejected row");
    int div = 0;
    while (div < T && ids_c[div] == ids_r[div]) ++div;
    int end;
    if (div == T) {
      end = len_c;
      div = end - 1;
    } else {
      end = std::max(len_c, len_r);
    }
    TUNE_CHECK(div > 0 && div < end, "pair ", i, ": chosen and rejected differ at the first token (position ", div,
               "); both must share the prompt");
    r.chosen_scores.push_back(v_c[len_c - 1]);
    r.rejected_scores.push_back(v_r[len_r - 1]);
    const int count = end - div;
    double pair_loss = 0.0;
    for (int t = div; t < end; ++t) {
      const double margin = static_cast<double>(v_c[t]) - v_r[t];
      pair_loss += neg_log_sigmoid(margin);
      if (dvalues) {
        const double g = -sigmoid(-margin) / count / n;
        dvalues->data[static_cast<size_t>(i) * T + t] += static_cast<float>(g);
        dvalues->data[static_cast<size_t>(n + i) * T + t] -= static_cast<float>(g);
      }
    }
    r.loss += pair_loss / count / n;
  }
  return r;
}

RmLossResult rm_last_token_loss(const Tensor& values, const Batch& batch, Tensor* dvalues) {
  check_pairwise(values, batch);
  const int n = batch.B / 2, T = batch.T;
  RmLossResult r;
  if (dvalues) *dvalues = Tensor({batch.B, T});
  for (int i = 0; i < n; ++i) {
    const int tc = batch.last_token(i), tr = batch.last_token(n + i);
    TUNE_CHECK(tc >= 0 && tr >= 0, "pair ", i, " has an empty chosen or rejected row");
    const float sc = values.data[static_cast<size_t>(i) * T + tc];
    const float sr = values.data[static_cast<size_t>(n + i) * T + tr];
    r.chosen_scores.push_back(sc);
    r.rejected_scores.push_back(sr);
    const double margin = static_cast<double>(sc) - sr;
    r.loss += neg_log_sigmoid(margin) / n;
    if (dvalues) {
      const double g = -sigmoid(-margin) / n;  // d(loss)/d(margin)
      dvalues->data[static_cast<size_t>(i) * T + tc] += static_cast<float>(g);
      dvalues->data[static_cast<size_t>(n + i) * T + tr] -= static_cast<float>(g);
    }
  }
  return r;
}

}  // namespace tune
