#include "train/rm_loss.h"

#include <cmath>

#include "core/error.h"

namespace tune {

namespace {

// -logsigmoid(x) = softplus(-x), computed without overflow.
double neg_log_sigmoid(double x) { return x >= 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x)); }
double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

}  // namespace

RmLossResult rm_last_token_loss(const Tensor& values, const Batch& batch, Tensor* dvalues) {
  TUNE_CHECK(batch.B % 2 == 0 && batch.B > 0, "a pairwise batch needs an even number of rows, got ", batch.B);
  TUNE_CHECK(values.numel() == static_cast<int64_t>(batch.B) * batch.T, "values have ", values.numel(),
             " entries, expected B*T = ", batch.B * batch.T);
  const int n = batch.B / 2, T = batch.T;
  RmLossResult r;
  if (dvalues) {
    *dvalues = Tensor({batch.B, T});
  }
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
