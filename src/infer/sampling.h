// Next-token choice from one row of logits, step by step in HF generate's order: repetition penalty -> temperature
// -> top-k -> top-p -> softmax -> draw (sampling), or repetition penalty -> argmax (greedy). Each step transcribes the
// transformers 5.x logits processor it names; filtered tokens become -inf as HF's filter_value.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace tune {

// HF RepetitionPenaltyLogitsProcessor: every distinct id in `seen` (prompt and generated ids) gets
// score * penalty when score < 0, else score / penalty. penalty 1 leaves the logits as they are.
void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> seen, float penalty);

// HF TemperatureLogitsWarper: logits / temperature (temperature > 0).
void apply_temperature(std::span<float> logits, float temperature);

// HF TopKLogitsWarper: logits below the k-th largest become -inf (ties with the k-th stay). k <= 0 or k >= V: none.
void apply_top_k(std::span<float> logits, int k);

// HF TopPLogitsWarper (min_tokens_to_keep 1): sort ascending, softmax, cumulative sum in fp32; tokens whose cumulative
// probability is <= 1 - top_p become -inf, the largest one always stays. Ties sort by id (HF's sort order for ties is
// unspecified). top_p >= 1: none.
void apply_top_p(std::span<float> logits, float top_p);

// torch.argmax: the first index of the largest logit.
int32_t argmax(std::span<const float> logits);

// Softmax over the logits (-inf = probability 0), then the token whose cumulative-probability interval holds u,
// u in [0, 1): the inverse-CDF draw.
int32_t sample_softmax(std::span<const float> logits, float u);

}  // namespace tune
