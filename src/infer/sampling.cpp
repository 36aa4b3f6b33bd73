// The logits processors of sampling.h.
#include "infer/sampling.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tune {

void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> seen, float penalty) {
  if (penalty == 1.0f) return;
  std::vector<uint8_t> done(logits.size(), 0);  // each id once, however often it was seen
  for (const int32_t id : seen) {
    TUNE_CHECK(id >= 0 && static_cast<size_t>(id) < logits.size(), "token id ", id, " is outside the vocabulary (",
               logits.size(), ")");
    if (done[id]) continue;
    done[id] = 1;
    float& s = logits[id];
    s = s < 0.0f ? s * penalty : s / penalty;
  }
}

void apply_temperature(std::span<float> logits, float temperature) {
  for (float& s : logits) s /= temperature;
}

void apply_top_k(std::span<float> logits, int k) {
  if (k <= 0 || static_cast<size_t>(k) >= logits.size()) return;
  std::vector<float> sorted(logits.begin(), logits.end());
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<float>());
  const float kth = sorted[k - 1];
  for (float& s : logits)
    if (s < kth) s = -INFINITY;
}

void apply_top_p(std::span<float> logits, float top_p) {
  if (top_p >= 1.0f) return;
  // Only finite logits can survive; -inf ones have probability 0 and sort first in HF's ascending order, where they
  // are removed anyway (their cumulative probability is 0 <= 1 - top_p).
  std::vector<int32_t> order;
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] != -INFINITY) order.push_back(static_cast<int32_t>(i));
  if (order.empty()) return;
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] < logits[b]; });
  const float mx = logits[order.back()];
  float sum = 0.0f;
  std::vector<float> p(order.size());
  for (size_t i = 0; i < order.size(); ++i) sum += (p[i] = std::exp(logits[order[i]] - mx));
  // HF compares the fp32 cumulative sum with the Python float 1 - top_p, which torch casts to fp32.
  const float threshold = static_cast<float>(1.0 - static_cast<double>(top_p));
  float cum = 0.0f;
  for (size_t i = 0; i + 1 < order.size(); ++i) {  // the last (largest) token always stays
    cum += p[i] / sum;
    if (cum <= threshold) logits[order[i]] = -INFINITY;
  }
}

int32_t argmax(std::span<const float> logits) {
  TUNE_CHECK(!logits.empty(), "argmax of no logits");
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

int32_t sample_softmax(std::span<const float> logits, float u) {
  const float mx = logits[argmax(logits)];
  TUNE_CHECK(mx != -INFINITY, "every token was filtered out; nothing to sample");
  double total = 0.0;
  for (const float s : logits) total += s == -INFINITY ? 0.0 : std::exp(static_cast<double>(s - mx));
  const double target = static_cast<double>(u) * total;
  double cum = 0.0;
  int32_t last = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] == -INFINITY) continue;
    cum += std::exp(static_cast<double>(logits[i] - mx));
    last = static_cast<int32_t>(i);
    if (target < cum) return last;
  }
  return last;  // u * total rounded up to the whole mass: the last possible token
}

}  // namespace tune
